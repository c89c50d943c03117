"""The attacker's linear model, rebuilt from published figures and public facts.

Public facts only: the catalogue's additive relations and subsets, the COG
(communes in EPCI, départements, régions, France; IRIS ``<commune>NNNN`` in
their commune) and each printed ratio (numerator / denominator x scale,
known to its display precision). Every cell not shown is a variable >= 0; a
cell a relation needs but no report mentions is a free variable as well.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalogue import INDICATORS, MEASURES, RELATIONS, SUBSETS
from ..geography import Geography
from .pieces import piece_facts
from .published import Publication

Key = tuple[str, str, str, str]  # zone_level, zone_code, year, measure


@dataclass
class Row:
    """``sum(coef * cell) (== | <=) rhs`` before published cells become constants."""

    terms: dict[Key, float]
    equal: bool
    assumed: bool = False
    """An equality the attacker assumes (IRIS covering their commune)."""


@dataclass
class Model:
    known: dict[Key, tuple[float, float]]
    """Published cells: value and rounding half-width."""
    hidden: list[Key]
    """Cells to judge (not shown, not missing)."""
    rows: list[Row]
    units: dict[Key, str]
    pieces: frozenset[Key] = frozenset()
    """Cells of QPV ∩ IRIS pieces: never published, judged by their own rule."""


def _zone_measures(pub: Publication) -> dict[tuple[str, str, str], set[str]]:
    out: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for lv, code, year, m in pub.cells[["zone_level", "zone_code", "year", "measure"]].itertuples(index=False):
        out[(lv, code, year)].add(m)
    return out


def _within_zone(zones, involved) -> list[Row]:
    rows = []
    for (lv, code, year) in zones:
        for rel in RELATIONS:
            keys = [(lv, code, year, m) for m in (rel.total, *rel.parts)]
            if any(k in involved for k in keys):
                rows.append(Row({k: (1.0 if i == 0 else -1.0) for i, k in enumerate(keys)}, True))
        for small, large in SUBSETS:
            ks, kl = (lv, code, year, small), (lv, code, year, large)
            if ks in involved or kl in involved:
                rows.append(Row({ks: 1.0, kl: -1.0}, False))
    return rows


def _children_by_parent(zones: set[tuple[str, str, str]], geo: Geography):
    """(parent, children, covers_all, assumed) for every present parent zone."""
    communes = geo.communes
    present = defaultdict(set)
    for lv, code, year in zones:
        present[(lv, year)].add(code)
    out = []
    for (lv, year), codes in present.items():
        for code in codes:
            if lv == "commune":
                iris = sorted(c for c in present.get(("iris", year), ()) if c[:5] == code and not c.endswith("0000"))
                if iris:
                    out.append(((lv, code, year), [("iris", c, year) for c in iris], True, True))
                continue
            if lv not in ("epci", "departement", "region", "france"):
                continue
            members = set(geo.member_communes_of(lv, code))
            kids, covered = [], set()
            if lv in ("region", "france"):
                for sub in (("region",) if lv == "france" else ()) + ("departement",):
                    for child in sorted(present.get((sub, year), ())):
                        inside = set(communes.index[communes[sub] == child])
                        if inside and inside <= members and not inside & covered:
                            kids.append((sub, child, year))
                            covered |= inside
            for c in sorted(present.get(("commune", year), ())):
                if c in members and c not in covered:
                    kids.append(("commune", c, year))
                    covered.add(c)
            if kids:
                out.append(((lv, code, year), kids, covered == members, False))
    return out


def _geographic(zones, measures_by_zone, involved, geo) -> list[Row]:
    rows = []
    for parent, kids, covers, assumed in _children_by_parent(zones, geo):
        measures = set(measures_by_zone[parent]).union(*(measures_by_zone[k] for k in kids))
        for m in measures:
            if not MEASURES.get(m) or not MEASURES[m].secret:
                continue
            keys = [(*parent, m)] + [(*k, m) for k in kids]
            if not any(k in involved for k in keys):
                continue
            terms = {keys[0]: -1.0, **{k: 1.0 for k in keys[1:]}}
            # children <= parent always; == when they cover it.
            rows.append(Row(terms, covers, assumed))
    return rows


def _ratio_rows(pub: Publication) -> list[Row]:
    rows = []
    for r in pub.ratios.itertuples(index=False):
        ind = INDICATORS.get(r.measure)
        scale = ind.scale if ind else (100.0 if r.numerator else 1.0)
        num, den = (r.zone_level, r.zone_code, r.year, r.numerator), (r.zone_level, r.zone_code, r.base_year,
                                                                      r.denominator)
        lo, hi = r.value - r.rounding, r.value + r.rounding
        if r.measure.startswith("evolution_"):  # (end / first - 1) x 100: a ratio of 100 + rate
            lo, hi = lo + 100.0, hi + 100.0
        rows.append(Row({num: scale, den: -hi}, False))   # num*scale <= hi*den
        rows.append(Row({den: lo, num: -scale}, False))   # lo*den <= num*scale
    return rows


def _piece_rows(piece_measures, facts, measures_by_zone, involved) -> list[Row]:
    """Each fact of :func:`piece_facts` for every secret measure its zones carry."""
    rows = []
    for total, parts in facts:
        measures = set(measures_by_zone.get(total, ())).union(
            *(piece_measures.get(p, measures_by_zone.get(p, ())) for p in parts))
        for m in sorted(m for m in measures if MEASURES.get(m) is not None and MEASURES[m].secret):
            keys = [(*total, m)] + [(*p, m) for p in parts]
            if any(k in involved for k in keys):
                rows.append(Row({keys[0]: -1.0, **{k: 1.0 for k in keys[1:]}}, True))
    return rows


def build_model(pub: Publication, geography: Geography, pieces=None) -> Model:
    """All rows that touch at least one cell the attacker does not see.

    ``pieces``: the QPV ∩ IRIS piece codes a reader knows exist (default: the
    packaged geometry's).
    """
    cells = pub.cells
    known, hidden, units = {}, [], {}
    for lv, code, year, m, unit, value, rounding, shown, status in cells.itertuples(index=False):
        key = (lv, code, year, m)
        units[key] = unit
        if shown:
            known[key] = (float(value), float(rounding))
        elif status != "missing" and MEASURES.get(m) is not None and MEASURES[m].secret:
            hidden.append(key)
    measures_by_zone = defaultdict(set)
    for (lv, code, year), ms in _zone_measures(pub).items():
        measures_by_zone[(lv, code, year)] = ms
    zones = set(measures_by_zone)
    piece_measures, facts = piece_facts(zones, measures_by_zone, geography, pieces)
    piece_keys = {(*z, m) for z, ms in piece_measures.items() for m in ms}
    units.update({k: MEASURES[k[3]].unit for k in piece_keys})
    hidden += sorted(piece_keys)
    involved = {k for k in units if k not in known}
    rows = _within_zone(zones | set(piece_measures), involved) + _geographic(zones, measures_by_zone, involved,
                                                                             geography)
    rows += _piece_rows(piece_measures, facts, measures_by_zone, involved)
    rows += [r for r in _ratio_rows(pub) if any(k not in known for k in r.terms)]
    return Model(known, hidden, rows, units, frozenset(piece_keys))
