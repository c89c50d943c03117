"""``published.csv``: one row per number printed anywhere in a report.

Built from protected cells only (each carries a secrecy status), so that
nothing reaches a notebook unprotected. A derived number (percentage, ratio)
is published only when both its numerator and denominator are; otherwise it
takes the status of the input that hides it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import INDICATORS, MEASURES
from .geography import Zone
from .tables import TableSpec

COLUMNS = ("table_id", "zone_code", "zone_level", "year", "measure", "unit", "numerator",
           "denominator", "value", "status")
STATUSES = ("published", "secret_primary", "secret_secondary", "secret_threshold", "missing")
# When two inputs hide a derived number, report the reason a reader should see first.
_PRECEDENCE = {"secret_threshold": 0, "secret_primary": 1, "secret_secondary": 2, "missing": 3, "published": 4}


def _cell_lookup(cells: pd.DataFrame) -> dict[tuple, tuple[float, str]]:
    keys = zip(cells["zone_level"], cells["zone_code"], cells["year"], cells["measure"])
    return dict(zip(keys, zip(cells["value"], cells["status"])))


def _measure_row(lookup, zone: Zone, year: int, measure: str) -> tuple[float, str]:
    value, status = lookup.get((zone.level, zone.code, year, measure), (np.nan, "missing"))
    if status == "published" and pd.isna(value):
        status = "missing"
    return (value if status == "published" else np.nan), status


def _indicator_row(lookup, zone: Zone, year: int, indicator_id: str) -> tuple[float, str]:
    ind = INDICATORS[indicator_id]
    num, num_status = _measure_row(lookup, zone, year, ind.numerator)
    den, den_status = _measure_row(lookup, zone, year, ind.denominator)
    status = min(num_status, den_status, key=_PRECEDENCE.__getitem__)
    if status != "published":
        return np.nan, status
    if den == 0:
        return np.nan, "missing"
    return num / den * ind.scale, "published"


def build(specs: tuple[TableSpec, ...], zones: tuple[Zone, ...], year: int,
          cells: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``published.csv`` for these tables, zones and year.

    Parameters
    ----------
    cells
        Protected cells: zone_level, zone_code, year, measure, value, status.
    """
    lookup = _cell_lookup(cells)
    rows = []
    for spec in specs:
        for zone in zones:
            for item in spec.items:
                if item in MEASURES:
                    value, status = _measure_row(lookup, zone, year, item)
                    unit, num, den = MEASURES[item].unit, "", ""
                else:
                    value, status = _indicator_row(lookup, zone, year, item)
                    ind = INDICATORS[item]
                    unit, num, den = ind.unit, ind.numerator, ind.denominator
                rows.append((spec.id, zone.code, zone.level, year, item, unit, num, den, value, status))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def to_csv(frame: pd.DataFrame) -> bytes:
    """The contract's bytes: UTF-8, ``,`` separator, ``\\n`` line ends, full precision."""
    buffer = io.StringIO()
    out = frame.loc[:, list(COLUMNS)].copy()
    out["value"] = [("" if pd.isna(v) else repr(float(v)) if not float(v).is_integer() else str(int(v)))
                    for v in out["value"]]
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def read(path: Path) -> pd.DataFrame:
    """Read a ``published.csv`` back with codes as strings."""
    frame = pd.read_csv(path, dtype={"zone_code": str, "table_id": str, "measure": str,
                                     "numerator": str, "denominator": str, "status": str,
                                     "zone_level": str, "unit": str},
                        keep_default_na=False, na_values={"value": [""]})
    frame["value"] = pd.to_numeric(frame["value"])
    return frame
