"""What an attacker reads: the ``published.csv`` files of one or many reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem

CONTRACT = ["table_id", "zone_code", "zone_level", "year", "measure", "unit", "numerator",
            "denominator", "value", "status"]
STATUSES = {"published", "secret_primary", "secret_secondary", "secret_threshold", "missing"}
KEY = ["zone_level", "zone_code", "year", "measure"]


def read_published(path: Path) -> pd.DataFrame:
    """One ``published.csv`` as strings (codes keep their zeros), checked against the contract."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(Problem(str(path), f"fichier illisible : {exc}")) from exc
    check_frame(frame, str(path))
    return frame


def check_frame(frame: pd.DataFrame, origin: str = "published") -> None:
    """Raise :class:`InputError` when a frame breaks the ``published.csv`` contract."""
    missing = [c for c in CONTRACT if c not in frame.columns]
    if missing:
        raise InputError(Problem(origin, f"colonnes manquantes : {missing}"))
    problems = []
    bad = frame[~frame["status"].isin(STATUSES)]
    for i, row in bad.head(5).iterrows():
        problems.append(Problem(origin, "statut inconnu", line=int(i) + 2, field="status", value=row["status"]))
    shown = frame[frame["status"] == "published"]
    numbers = pd.to_numeric(shown["value"], errors="coerce")
    for i in shown.index[numbers.isna()][:5]:
        problems.append(Problem(origin, "valeur publiée non numérique", line=int(i) + 2, field="value",
                                value=frame.at[i, "value"]))
    if problems:
        raise InputError(problems)


def half_unit(text: str) -> float:
    """Half of the last printed digit: the rounding a printed number may carry.

    ``12.3`` -> 0.05, ``1200`` -> 0.5, ``1.23457e+06`` -> 5.
    """
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0.5
    return 0.5 * 10.0 ** int(exponent)


@dataclass(frozen=True)
class Publication:
    """Union of everything published: cell values and printed ratios."""

    cells: pd.DataFrame
    """KEY + unit, value (NaN if not shown), rounding (half unit for non-counts), shown."""
    ratios: pd.DataFrame
    """zone_level, zone_code, year, numerator, denominator, value, rounding, scale-free."""


def combine(frames: list[pd.DataFrame]) -> Publication:
    """Merge reports: a cell shown in any report is known to the attacker."""
    if not frames:
        return Publication(pd.DataFrame(columns=KEY + ["unit", "value", "rounding", "shown"]),
                           pd.DataFrame())
    # A change over time (evolution_x, indice_x) compares a year with the first year of its
    # report's series: the smallest year that report prints.
    allrows = pd.concat([f.assign(base_year=str(min(f["year"].astype(int), default=0))) for f in frames],
                        ignore_index=True)
    allrows["year"] = allrows["year"].astype(str)
    over_time = allrows["measure"].str.startswith(("evolution_", "indice_"))
    allrows["base_year"] = allrows["base_year"].where(over_time, allrows["year"])
    ratio_units = allrows["unit"].isin(["percent", "ratio"]) | (allrows["numerator"] != "")
    ratios = allrows[ratio_units & (allrows["status"] == "published")].copy()
    ratios["rounding"] = ratios["value"].map(half_unit)
    ratios["value"] = ratios["value"].astype(float)
    cells = allrows[~ratio_units].copy()
    cells["shown"] = cells["status"] == "published"
    cells["rounding"] = np.where(cells["unit"] == "count", 0.0, cells["value"].map(half_unit))
    cells["value"] = pd.to_numeric(cells["value"].where(cells["shown"]), errors="coerce")
    cells["missing"] = cells["status"] == "missing"
    # Shown anywhere wins; then a hidden status wins over "missing".
    cells = cells.sort_values(["shown", "missing"], ascending=[False, True])
    cells = cells.drop_duplicates(KEY, keep="first")
    return Publication(cells[KEY + ["unit", "value", "rounding", "shown", "status"]].reset_index(drop=True),
                       ratios[["zone_level", "zone_code", "year", "measure", "numerator", "denominator",
                               "value", "rounding", "base_year"]].reset_index(drop=True))
