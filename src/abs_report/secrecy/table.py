"""The cells of the linked table: one row per zone and measure of one year."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..geography import LEVELS, PIECE_LEVEL, QPV_LEVELS, Zone
from . import qpv as qp
from .rowindex import index_of
from .rules import Rules

CELL_KEY = ["zone_level", "zone_code", "year", "measure"]


def check_floor(observations: pd.DataFrame, rules: Rules) -> None:
    """Refuse any zone finer than IRIS (rule 3: nothing below IRIS).

    Raises
    ------
    InputError
        Naming each offending zone (unknown finer level, or an IRIS code whose
        length is not that of an IRIS).
    """
    levels = observations["zone_level"]
    problems = []
    # Issue 15: QPV ∩ IRIS pieces are accepted as input (the demonstration data knows them):
    # they enter the linked table as cells that are never published (secrecy/qpv.py).
    known = {*LEVELS, *QPV_LEVELS, PIECE_LEVEL}
    # unique() first: iterating millions of (arrow) strings one by one is slow.
    for level in sorted({str(v) for v in levels.unique()} - known):
        code = observations.loc[levels.astype(str) == level, "zone_code"].iloc[0]
        problems.append(Problem("observations", f"niveau plus fin que l'IRIS refusé ({level} {code})",
                                field="zone_level", value=level))
    iris = observations.loc[levels == rules.finest_level, "zone_code"].astype(str)
    bad = iris[iris.str.len() != rules.iris_code_length].unique()
    for code in bad[:10]:
        problems.append(Problem("observations", "code IRIS invalide : zone infra-IRIS refusée",
                                field="zone_code", value=code))
    pieces = observations.loc[levels == PIECE_LEVEL, "zone_code"].astype(str).unique()
    for code in [c for c in pieces if len(qp.split_piece(c)[0]) != rules.iris_code_length
                 or not qp.split_piece(c)[1]][:10]:
        problems.append(Problem("observations", "morceau de QPV invalide (attendu <IRIS>:<QPV>)",
                                field="zone_code", value=code))
    if problems:
        raise InputError(problems)


def _aggregation_rows(observations: pd.DataFrame, year: int,
                      aggregations: Sequence[Zone]) -> pd.DataFrame:
    """Aggregations as the sum of their member communes (unknown if any member is)."""
    frames = []
    communes = observations[(observations["zone_level"] == "commune") & (observations["year"] == year)]
    for agg in aggregations:
        rows = communes[communes["zone_code"].isin(agg.members)]
        sums = rows.groupby("measure")["value"].agg(lambda s: s.sum(min_count=1) if s.notna().all()
                                                     else np.nan)
        frames.append(pd.DataFrame({"zone_level": "aggregation", "zone_code": agg.code, "year": year,
                                    "measure": sums.index, "value": sums.to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CELL_KEY + ["value"])


def scope_rows(observations: pd.DataFrame, year: int, zones: Sequence[tuple[str, str]],
               rules: Rules) -> pd.DataFrame:
    """Observations of ``year`` for the zones of the scope and the IRIS (and pieces) of its communes.

    In the table's order. Looked up in the table's :mod:`.rowindex` (built once per
    table): a batch asks this for every part of the mask and every year.
    """
    infra_levels = (rules.finest_level, PIECE_LEVEL)
    index = index_of(observations, infra_levels)
    if rules not in index.checked:
        check_floor(observations, rules)
        index.checked.add(rules)
    wanted = dict.fromkeys((str(level), str(code)) for level, code in zones)
    communes = [code for level, code in wanted if level == "commune"]
    at = index.positions(int(year), wanted, infra_levels, communes)
    return observations.iloc[at][CELL_KEY + ["value"]]


def _unknown_pieces(grid: pd.DataFrame) -> pd.DataFrame:
    """``grid`` with a row of unknowns (NaN) for every piece its QPV and hors QPV imply.

    Published QPV and IRIS expose pieces whatever the data says of them: a
    dataset without piece rows (Cafdata's QPV exports) still gets them, as
    unknown non-negative cells the suppression must keep unpinned.
    """
    levels = grid.index.get_level_values("zone_level")
    codes = grid.index.get_level_values("zone_code")
    qpvs = set(codes[levels == qp.QPV])
    communes = set(codes[levels == qp.HORS_QPV])
    if not qpvs and not communes:
        return grid
    known = qp.packaged_pieces() | qp.from_codes(codes[levels == PIECE_LEVEL])
    communes |= {c for q in qpvs for c in known.communes_of_qpv(q)}
    wanted = {(PIECE_LEVEL, p) for c in communes for p in known.of_commune(c)}
    missing = sorted(wanted - set(zip(levels, codes)))
    if not missing:
        return grid
    extra = pd.DataFrame(np.nan, columns=grid.columns,
                         index=pd.MultiIndex.from_tuples(missing, names=grid.index.names))
    return pd.concat([grid, extra])


def build_cells(observations: pd.DataFrame, year: int, zones: Sequence[tuple[str, str]],
                aggregations: Sequence[Zone], rules: Rules) -> pd.DataFrame:
    """The full grid of cells (zone x measure) of the scope for ``year``.

    IRIS of in-scope communes found in the observations join the scope: their
    sum is a fact about the commune, so they cannot be protected apart from it.
    A zone x measure absent from the observations becomes a NaN cell (missing).
    """
    frame = scope_rows(observations, year, zones, rules)
    agg_rows = _aggregation_rows(observations, year, aggregations)
    if len(agg_rows):
        frame = pd.concat([frame, agg_rows], ignore_index=True)
    # unstack, not pivot_table: the latter would build every level x code pair.
    grid = _unknown_pieces(frame.set_index(["zone_level", "zone_code", "measure"])["value"].unstack("measure"))
    cells = grid.stack(future_stack=True).rename("value").reset_index()
    cells.insert(2, "year", int(year))
    cells["zone_code"] = cells["zone_code"].astype(str)
    cells["value"] = cells["value"].astype("float64")
    return cells.sort_values(CELL_KEY, kind="stable").reset_index(drop=True)
