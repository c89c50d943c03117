"""``published.csv``: one row per number printed anywhere in a report.

Built from protected cells only (each carries a secrecy status), so that
nothing reaches a notebook unprotected. A derived number (percentage, ratio)
is published only when both its numerator and denominator are; otherwise it
takes the status of the input that hides it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
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


def column_lists(frame: pd.DataFrame, *names: str) -> list[list]:
    """Columns as Python lists, for look-ups built row by row.

    Iterating an Arrow-backed column hands out one element per Python call;
    ``tolist`` converts the column at once (about ten times faster).
    """
    return [frame[name].tolist() for name in names]


def _cell_lookup(cells: pd.DataFrame) -> dict[tuple, tuple[float, str]]:
    level, code, year, measure, value, status = column_lists(
        cells, "zone_level", "zone_code", "year", "measure", "value", "status")
    return dict(zip(zip(level, code, year, measure), zip(value, status)))


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


def _item_row(lookup, zone: Zone, year: int, item: str) -> tuple[float, str, str, str, str]:
    """(value, status, unit, numerator, denominator) of a measure or an indicator."""
    if item in MEASURES:
        value, status = _measure_row(lookup, zone, year, item)
        return value, status, MEASURES[item].unit, "", ""
    value, status = _indicator_row(lookup, zone, year, item)
    ind = INDICATORS[item]
    return value, status, ind.unit, ind.numerator, ind.denominator


def _change_row(lookup, zone: Zone, item: str, first: int, year: int,
                kind: str) -> tuple[float, str]:
    """Evolution rate (percent) or index (first year = 100) of a count between two years."""
    start, start_status = _measure_row(lookup, zone, first, item)
    end, end_status = _measure_row(lookup, zone, year, item)
    status = min(start_status, end_status, key=_PRECEDENCE.__getitem__)
    if status != "published" or start == 0:
        return np.nan, ("missing" if status == "published" else status)
    ratio = end / start
    return (ratio - 1) * 100 if kind == "evolution" else ratio * 100, "published"


def build(specs: tuple[TableSpec, ...], zones: tuple[Zone, ...], year: int, cells: pd.DataFrame,
          years: tuple[int, ...] = (), iris: tuple[Zone, ...] = (),
          communes: tuple[Zone, ...] = (), qpv: tuple[Zone, ...] = ()) -> pd.DataFrame:
    """Rows of ``published.csv`` for these tables.

    Parameters
    ----------
    zones
        The territory, then its comparison zones.
    cells
        Protected cells of every year needed: zone_level, zone_code, year, measure, value, status.
    years
        The years of the evolution chapter (every year available, first to last):
        the evolution table prints each year's count, its rate compares the
        first and last; the index chart each year against the first. Both are
        computed from published counts only and hidden when either input is.
    iris
        The territory's IRIS, for the quartiers table and its maps.
    communes
        The territory's communes, for the commune maps (EPCI, département, aggregation).
    qpv
        A commune's QPV section: each QPV, the commune hors QPV and the commune itself
        (empty for a commune without QPV: then the section has no row at all).
    """
    # Only the cells of these zones: the protected table holds a whole département.
    codes_of: dict[str, set[str]] = {}
    for z in (*zones, *iris, *communes, *qpv):
        codes_of.setdefault(z.level, set()).add(z.code)
    keep = np.zeros(len(cells), bool)
    for level, codes in codes_of.items():  # vectorised: the table has ~100,000 rows
        keep |= (cells["zone_level"] == level).to_numpy(bool) & cells["zone_code"].isin(codes).to_numpy(bool)
    lookup = _cell_lookup(cells[keep])
    first = min(years) if years else year
    rows = []
    for spec in specs:
        if spec.kind in ("table", "bar", "iris", "iris_map", "commune_map", "qpv", "qpv_map"):
            # A map colours only what has a row here: one row per zone it shows.
            quartiers = tuple(z for z in qpv if z.level == "qpv")
            shown = {"iris": iris, "iris_map": iris, "commune_map": communes, "qpv": qpv,
                     "qpv_map": quartiers}.get(spec.kind, zones)
            for zone in shown:
                for item in spec.items:
                    value, status, unit, num, den = _item_row(lookup, zone, year, item)
                    rows.append((spec.id, zone.code, zone.level, year, item, unit, num, den, value, status))
        elif spec.kind == "evolution":
            for zone in zones:
                for item in spec.items:
                    for y in dict.fromkeys((*sorted(years), year)):
                        value, status = _measure_row(lookup, zone, y, item)
                        rows.append((spec.id, zone.code, zone.level, y, item, "count", "", "", value, status))
                    value, status = _change_row(lookup, zone, item, first, year, "evolution")
                    rows.append((spec.id, zone.code, zone.level, year, f"evolution_{item}", "percent",
                                 item, item, value, status))
        elif spec.kind == "index":
            for zone in zones:
                for item in spec.items:
                    for y in [y for y in years if y != first] or [year]:
                        value, status = _change_row(lookup, zone, item, first, y, "index")
                        rows.append((spec.id, zone.code, zone.level, y, f"indice_{item}", "ratio",
                                     item, item, value, status))
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


# --- comparing two published.csv files, cell by cell ------------------------------------------

COMPARISON_KEY = ("table_id", "zone_level", "zone_code", "year", "measure")
COMPARED = ("unit", "numerator", "denominator", "value", "status")


@dataclass(frozen=True)
class CellChange:
    """One row of ``published.csv`` that differs between two versions of a report."""

    table_id: str
    zone_level: str
    zone_code: str
    year: int
    measure: str
    unit: str
    before: str
    """The value as written in the CSV (empty when not published or absent)."""
    before_status: str
    after: str
    after_status: str
    columns: tuple[str, ...] = ()
    """Which columns differ (``value``, ``status``, ``unit``...; ``row`` when one side lacks it)."""


def published_rows(data: bytes | Path) -> dict[tuple, dict[str, str]]:
    """The rows of a ``published.csv``, as text, keyed by table, zone, year and measure.

    Text, not floats: the comparison is of what was published, to the last digit.
    """
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    return {tuple(row[k] for k in COMPARISON_KEY): row for row in reader}


def compare_published(before: dict[tuple, dict], after: dict[tuple, dict]) -> list[CellChange]:
    """Rows whose value, status, unit or definition differ, or that only one side has.

    Ordered as in ``after`` (the report's order), then rows only ``before`` has.
    """
    changes = []
    absent = {"value": "", "status": "missing", "unit": "", "numerator": "", "denominator": ""}
    for key in list(after) + [k for k in before if k not in after]:
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None:
            columns = tuple(c for c in COMPARED if old[c] != new[c])
            if not columns:
                continue
        else:
            columns = ("row",)
        old, new = old or absent, new or absent
        changes.append(CellChange(key[0], key[1], key[2], int(key[3]), key[4], new["unit"] or old["unit"],
                                  old["value"], old["status"], new["value"], new["status"], columns))
    return changes
