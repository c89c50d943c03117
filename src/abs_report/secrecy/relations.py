"""The linear facts linking cells: ``eq @ x == 0`` and ``ineq @ x >= 0``.

Three families, all public knowledge:

* within a zone, the catalogue's ``RELATIONS`` (total = sum of parts) and
  ``SUBSETS`` (small <= large);
* across zones, geographic additivity: IRIS sum to their commune, communes to
  their EPCI, département and aggregation, départements to their région,
  régions to France. When part of a parent lies outside the scope, the missing
  part is an unknown non-negative amount, so the fact becomes ``parent >=
  sum(children)``;
* across zones that cut across IRIS (issue 15), through the QPV ∩ IRIS pieces
  (cells of level ``qpv_piece``, never published): IRIS = its pieces, QPV = its
  pieces, commune = hors QPV + its pieces inside a QPV, ensemble des QPV of a
  département = its QPV (:func:`_qpv_rows`);
* a fact the data contradicts (a source whose totals do not add up) is not a
  fact: it is demoted to an inequality when that still holds, else dropped.

Besides these, :func:`implied_relations` lists the equalities that follow from
nesting the catalogue's relations (a part that is itself a total, parts that
add up to another total): ``foyers = isolés + couples sans enfant + familles
avec enfants`` follows from four relations. They add nothing for an LP, which
combines rows anyway, but the row-by-row heuristic of secondary suppression
sees only one row at a time: given these rows it protects a cell against the
combinations an attacker would make, instead of leaving them to the costly
LP repair rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ..catalogue import MEASURES, RELATIONS, SUBSETS
from ..geography import OUTSIDE_QPV, PIECE_LEVEL, Geography, Zone
from . import qpv as qp

PUBLIC_MEASURES = frozenset(m for m, spec in MEASURES.items() if not spec.secret)


@dataclass(frozen=True)
class LinearSystem:
    """Relations between the cells of a table (columns = cell positions)."""

    eq: sparse.csr_matrix
    ineq: sparse.csr_matrix
    implied: sparse.csr_matrix | None = None
    """Equalities implied by ``eq`` (``implied @ x == 0``), for heuristics only."""

    @classmethod
    def from_rows(cls, n_cells: int, eq_rows: list[dict[int, float]],
                  ineq_rows: list[dict[int, float]],
                  implied_rows: list[dict[int, float]] = ()) -> "LinearSystem":
        """Build from rows given as ``{cell position: coefficient}``."""
        return cls(_csr(eq_rows, n_cells), _csr(ineq_rows, n_cells), _csr(list(implied_rows), n_cells))


def _csr(rows: list[dict[int, float]], n_cells: int) -> sparse.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [j for row in rows for j in row]
    v = [a for row in rows for a in row.values()]
    return sparse.csr_matrix((v, (r, c)), shape=(len(rows), n_cells), dtype=float)


class _Grid:
    """Positions of cells by zone and measure (-1 when a cell does not exist)."""

    def __init__(self, cells: pd.DataFrame):
        # Plain object arrays: iterating (arrow) string columns one by one is slow.
        level, code = cells["zone_level"].to_numpy(object), cells["zone_code"].to_numpy(object)
        measure = cells["measure"].to_numpy(object)
        pairs = list(zip(level.tolist(), code.tolist()))
        self.zones = list(dict.fromkeys(pairs))
        self.zone_pos = {z: i for i, z in enumerate(self.zones)}
        self.measures = [m for m in dict.fromkeys(measure.tolist()) if m not in PUBLIC_MEASURES]
        self.measure_pos = {m: i for i, m in enumerate(self.measures)}
        self.index = np.full((len(self.zones), len(self.measures)), -1, dtype=np.int64)
        zi = np.array([self.zone_pos[z] for z in pairs], dtype=np.int64)
        mi = np.array([self.measure_pos.get(m, -1) for m in measure.tolist()], dtype=np.int64)
        ok = mi >= 0
        self.index[zi[ok], mi[ok]] = np.flatnonzero(ok)

    def column(self, measure: str) -> np.ndarray:
        return self.index[:, self.measure_pos[measure]]


def implied_relations() -> tuple[dict[str, float], ...]:
    """Equalities between measures implied by nesting the catalogue's relations.

    Each is ``{measure: coefficient}`` with ``+1`` on a total and ``-1`` on its
    parts, obtained from a relation by repeatedly replacing a part that is the
    total of another relation by that relation's parts, or a set of parts that
    is exactly another relation's parts by its total. The catalogue's own
    relations are not repeated. Deterministic order, shortest first.
    """
    def as_row(total: str, parts) -> frozenset:
        return frozenset({(total, 1.0), *((p, -1.0) for p in parts)})

    parts_of: dict[str, list[frozenset[str]]] = {}
    for rel in RELATIONS:
        parts_of.setdefault(rel.total, []).append(frozenset(rel.parts))
    base = {as_row(rel.total, rel.parts) for rel in RELATIONS}
    seen, frontier = set(base), sorted(base, key=sorted)
    while frontier:
        found = []
        for row in frontier:
            terms = dict(row)
            total = next(m for m, a in terms.items() if a > 0)
            parts = {m for m, a in terms.items() if a < 0}
            variants = [parts - {p} | sub for p in sorted(parts) for sub in parts_of.get(p, ())
                        if not sub & terms.keys()]
            variants += [parts - sub | {t} for t, subs in sorted(parts_of.items()) for sub in subs
                         if sub <= parts and t not in terms]
            for variant in variants:
                new = as_row(total, variant)
                if new not in seen:
                    seen.add(new)
                    found.append(new)
        frontier = sorted(found, key=sorted)
    # Shortest first: the heuristic then settles the coarse facts (few, large
    # cells) before the detailed ones, which measured fewer partners in all.
    return tuple(dict(sorted(row, key=lambda t: (-t[1], t[0])))
                 for row in sorted(seen - base, key=lambda row: (len(row), sorted(row))))


def _within_zone_rows(grid: _Grid) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue relations and subsets as (zones x terms) index blocks with signs."""
    eq, ineq = [], []
    for rel in RELATIONS:
        if all(m in grid.measure_pos for m in (rel.total, *rel.parts)):
            block = np.stack([grid.column(rel.total)] + [grid.column(p) for p in rel.parts], axis=1)
            signs = np.array([1.0] + [-1.0] * len(rel.parts))
            eq.append((block, signs))
    for small, large in SUBSETS:
        if small in grid.measure_pos and large in grid.measure_pos:
            block = np.stack([grid.column(large), grid.column(small)], axis=1)
            ineq.append((block, np.array([1.0, -1.0])))
    return eq, ineq


def _implied_rows(grid: _Grid) -> list:
    """:func:`implied_relations` as (zones x terms) index blocks with signs."""
    blocks = []
    for row in implied_relations():
        if all(m in grid.measure_pos for m in row):
            blocks.append((np.stack([grid.column(m) for m in row], axis=1), np.array(list(row.values()))))
    return blocks


def _children(zone: tuple[str, str], present: set[tuple[str, str]], geography: Geography,
              aggregations: dict[str, Zone], iris_of: dict[str, list[str]]) -> tuple[list, bool]:
    """In-scope zones that partition ``zone``, and whether they cover all of it."""
    level, code = zone
    if level == "commune":
        return [("iris", i) for i in iris_of.get(code, [])], True
    members = aggregations[code].members if level == "aggregation" else \
        geography.member_communes_of(level, code)
    communes = geography.communes
    nested = {"region": ("departement",), "france": ("region", "departement")}.get(level, ())
    children, covered = [], set()
    for child_level in nested:
        column = communes[child_level]
        for child in sorted({c for (lv, c) in present if lv == child_level}):
            inside = set(column.index[column == child])
            if inside and not (inside - set(members)) and not (inside & covered):
                children.append((child_level, child))
                covered |= inside
    for c in members:
        if c not in covered and ("commune", c) in present:
            children.append(("commune", c))
            covered.add(c)
    return children, len(covered) == len(set(members))


def _geographic_rows(grid: _Grid, geography: Geography, aggregations: Sequence[Zone]):
    present = set(grid.zones)
    aggs = {a.code: a for a in aggregations}
    iris_of: dict[str, list[str]] = {}
    for lv, code in grid.zones:
        if lv == "iris":
            iris_of.setdefault(code[:5], []).append(code)
    eq, ineq = [], []
    for zone in grid.zones:
        if zone[0] in ("iris", *qp.ALL_LEVELS) or (zone[0] == "commune" and zone[1] not in iris_of):
            continue  # QPV levels cut across IRIS: their facts are _qpv_rows'.
        children, covered = _children(zone, present, geography, aggs, iris_of)
        if not children:
            continue
        rows = [grid.zone_pos[zone]] + [grid.zone_pos[c] for c in children]
        block = grid.index[rows, :].T  # one row per measure
        signs = np.array([1.0] + [-1.0] * len(children))
        (eq if covered else ineq).append((block, signs))
    return eq, ineq


def _block(grid: _Grid, total: tuple[str, str], parts: list[tuple[str, str]]):
    """``total = sum(parts)`` for every measure, as one (measures x terms) block with signs."""
    rows = [grid.zone_pos[total]] + [grid.zone_pos[p] for p in parts]
    return grid.index[rows, :].T, np.array([1.0] + [-1.0] * len(parts))


def _qpv_rows(grid: _Grid, geography: Geography):
    """Additivity across non-nested zones, through the pieces (``qpv_piece``) of the table.

    IRIS = its pieces (a commune not split into IRIS: the commune); QPV = its
    pieces, possibly in two communes; commune = hors QPV + the pieces of its IRIS
    inside a QPV; ensemble des QPV of a département = its QPV. A fact whose
    terms the table does not all hold (a piece or a QPV out of scope) becomes
    ``total >= sum of the parts present``. Returns (eq, ineq, implied) blocks; the
    implied ones (commune = hors QPV + its QPV when they lie wholly in it) follow
    from the others and serve the row-by-row heuristic.
    """
    present = set(grid.zone_pos)
    in_grid = [code for level, code in grid.zones if level == PIECE_LEVEL]
    if not in_grid and not any(level in qp.QPV_LEVELS for level, _ in grid.zones):
        return [], [], []
    known = qp.packaged_pieces() | qp.from_codes(in_grid)
    table = qp.Pieces(frozenset(in_grid))
    eq, ineq, implied = [], [], []

    def add(total, parts, complete, out=None):
        here = [p for p in parts if p in present]
        complete = complete and len(here) == len(parts)
        if total in present and here and (out is None or complete):
            (out if out is not None else (eq if complete else ineq)).append(_block(grid, total, here))

    for iris in sorted({qp.split_piece(c)[0] for c in in_grid}):
        parts = [(PIECE_LEVEL, c) for c in table.of_iris(iris)]
        parent = ("commune", iris[:5]) if iris.endswith("0000") else ("iris", iris)
        add(parent, parts, len(parts) == len(known.of_iris(iris)))
    qpvs = sorted(code for level, code in grid.zones if level == qp.QPV)
    for q in qpvs:
        parts = [(PIECE_LEVEL, c) for c in table.of_qpv(q)]
        add((qp.QPV, q), parts, len(parts) == len(known.of_qpv(q)))
    for level, commune in grid.zones:
        if level != qp.HORS_QPV:
            continue
        inside = [c for c in table.of_commune(commune) if qp.split_piece(c)[1] != OUTSIDE_QPV]
        complete = len(inside) == len([c for c in known.of_commune(commune)
                                       if qp.split_piece(c)[1] != OUTSIDE_QPV])
        add(("commune", commune), [(qp.HORS_QPV, commune)] + [(PIECE_LEVEL, c) for c in inside], complete)
        own = {qp.split_piece(c)[1] for c in inside}
        if complete and all((qp.QPV, q) in present and known.communes_of_qpv(q) == [commune] for q in own):
            add(("commune", commune), [(qp.HORS_QPV, commune)] + [(qp.QPV, q) for q in sorted(own)], True,
                implied)
        elif not inside:
            # No piece known here (a QPV the packaged geometry lacks): the fact still holds
            # when every QPV of the commune lies wholly in it.
            listed = geography.qpv_of_commune(commune) if hasattr(geography, "qpv_of_commune") else ()
            if listed and all(tuple(geography.member_communes_of(qp.QPV, q)) == (commune,) for q in listed):
                add(("commune", commune), [(qp.HORS_QPV, commune)] + [(qp.QPV, q) for q in listed], True)
    for level, dep in grid.zones:
        if level == qp.QPV_DEPARTEMENT:
            mine = [q for q in qpvs if qp.departement_of_qpv(geography, q, known) == dep]
            listed = set(geography.qpv_of_departement(dep)) if hasattr(geography, "qpv_of_departement") else set()
            add((level, dep), [(qp.QPV, q) for q in mine], listed <= set(mine))
    return eq, ineq, implied


def _rows_from_blocks(blocks, values: np.ndarray, equality: bool):
    """Rows that exist and hold on the known values; broken equalities demoted.

    Returns (eq, ineq) lists of ``(terms, signs)``: each ``terms`` a (rows x terms) array
    of cell positions sharing ``signs``, in the order of ``blocks``.
    """
    eq_rows, ineq_rows = [], []
    for block, signs in blocks:
        terms = block[(block >= 0).all(axis=1)]  # a measure absent from the table: no fact to state
        if not len(terms):
            continue
        vals = values[terms]
        known = ~np.isnan(vals)
        vals = np.where(known, vals, 0.0)
        residual = vals @ signs
        tol = 1e-6 * np.maximum(1.0, np.abs(vals).sum(axis=1))
        unknown = ~known.all(axis=1)
        to_eq = (unknown | (np.abs(residual) <= tol)) if equality else np.zeros(len(terms), bool)
        to_ineq = ~to_eq & (unknown | (residual >= -tol))
        eq_rows.append((terms[to_eq], signs))
        ineq_rows.append((terms[to_ineq], signs))
    return eq_rows, ineq_rows


def _csr_blocks(parts, n_cells: int) -> sparse.csr_matrix:
    """The rows of ``(terms, signs)`` parts (see :func:`_rows_from_blocks`), in order, as a matrix."""
    parts = [(t, s) for t, s in parts if len(t)]
    if not parts:
        return sparse.csr_matrix((0, n_cells), dtype=float)
    cols = np.concatenate([t.ravel() for t, _ in parts])
    data = np.concatenate([np.tile(np.asarray(s, float), len(t)) for t, s in parts])
    sizes = np.concatenate([np.full(len(t), t.shape[1]) for t, _ in parts])
    rows = np.repeat(np.arange(len(sizes)), sizes)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(sizes), n_cells), dtype=float)


def build_system(cells: pd.DataFrame, geography: Geography,
                 aggregations: Sequence[Zone] = ()) -> LinearSystem:
    """Every linear fact between the cells of ``cells`` (positions = row numbers)."""
    grid = _Grid(cells)
    values = cells["value"].to_numpy(dtype=float)
    within_eq, within_ineq = _within_zone_rows(grid)
    geo_eq, geo_ineq = _geographic_rows(grid, geography, aggregations)
    qpv_eq, qpv_ineq, qpv_implied = _qpv_rows(grid, geography)
    geo_eq, geo_ineq = geo_eq + qpv_eq, geo_ineq + qpv_ineq
    eq_rows, ineq_rows = [], []
    for blocks, equality in ((within_eq, True), (geo_eq, True), (within_ineq, False), (geo_ineq, False)):
        e, i = _rows_from_blocks(blocks, values, equality)
        eq_rows += e
        ineq_rows += i
    # An implied row whose data does not add up follows from no fact: left out.
    implied, _ = _rows_from_blocks(qpv_implied + _implied_rows(grid), values, True)
    n = len(cells)
    return LinearSystem(_csr_blocks(eq_rows, n), _csr_blocks(ineq_rows, n), _csr_blocks(implied, n))
