"""``tables.xlsx``: one sheet per table, for CCAS who rework the figures."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from . import formatting as fmt
from .catalogue import label
from .tables import TableSpec


FIXED_STAMP = dt.datetime(1980, 1, 1)
"""Document dates when none is given: the earliest a zip archive can hold."""
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def _sheet_rows(table: pd.DataFrame, names: dict) -> tuple[list[str], list[list]]:
    """Header and body of one sheet: a line per measure (and year), a column per zone."""
    zones = list(dict.fromkeys(zip(table["zone_level"], table["zone_code"])))
    several_years = table["year"].nunique() > 1
    header = ["Indicateur"] + (["Année"] if several_years else []) + [names.get(z, z[1]) for z in zones]
    cells = {(r.measure, r.year, r.zone_level, r.zone_code): r for r in table.itertuples()}
    body = []
    for measure, year in dict.fromkeys(zip(table["measure"], table["year"])):
        line = [_label(measure)] + ([int(year)] if several_years else [])
        for level, code in zones:
            row = cells.get((measure, year, level, code))
            if row is None or row.status == "missing":
                line.append(fmt.MISSING)
            elif row.status != "published":
                line.append(fmt.SECRET)
            else:
                line.append(float(row.value))
        body.append(line)
    return header, body


def _label(measure: str) -> str:
    for prefix, text in (("evolution_", "Évolution (%) : "), ("indice_", "Indice (base 100) : ")):
        if measure.startswith(prefix):
            return text + label(measure[len(prefix):])
    return label(measure)


def write(path: Path, specs: tuple[TableSpec, ...], published: pd.DataFrame, zones: list[dict],
          source_line: str, stamp: dt.date | None = None) -> None:
    """Each sheet: title, a table (numbers as numbers, ``s`` for secrets, ``nd`` if unavailable), source.

    Sheets are built from the published rows themselves, so the workbook holds
    exactly the figures of ``published.csv``.

    Parameters
    ----------
    zones
        Zone descriptions (level, code, name) used to name the columns, IRIS included.
    stamp
        The document's creation and modification date (``docProps/core.xml``)
        and its archive members' dates. openpyxl would write the clock time;
        a fixed stamp (the report's edition date) makes equal tables equal bytes.
    """
    from openpyxl import Workbook

    names = {(z["level"], z["code"]): z["name"] for z in zones}
    workbook = Workbook(write_only=True)
    by_table = dict(tuple(published.groupby("table_id", sort=False)))
    for spec in specs:
        table = by_table.get(spec.id)
        if table is None:
            continue
        header, body = _sheet_rows(table, names)
        sheet = workbook.create_sheet(spec.id[:31])
        sheet.column_dimensions["A"].width = 52
        sheet.append([spec.title])
        sheet.append([])
        sheet.append(header)
        for line in body:
            sheet.append(line)
        sheet.append([])
        sheet.append([source_line])
        sheet.append(["s : donnée soumise au secret statistique ; nd : donnée non disponible."])
    workbook.save(path)
    _fix_zip_dates(path, stamp or FIXED_STAMP)


def _fix_zip_dates(path: Path, stamp: dt.datetime) -> None:
    """Rewrite the archive with fixed dates so equal tables give equal bytes.

    Both the zip members' dates and the document properties (``created``,
    ``modified``, which openpyxl sets to the clock at save time) take ``stamp``.
    """
    import zipfile

    if not isinstance(stamp, dt.datetime):
        stamp = dt.datetime.combine(stamp, dt.time())
    stamp = max(stamp.replace(tzinfo=None, microsecond=0), FIXED_STAMP)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    data = {}
    with zipfile.ZipFile(path) as src:
        for info in src.infolist():
            data[info.filename] = src.read(info)
    if "docProps/core.xml" in data:
        data["docProps/core.xml"] = _CORE_DATES.sub(rb"\g<1>" + iso + rb"\g<2>", data["docProps/core.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(data):
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data[name])
