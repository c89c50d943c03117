"""``tables.xlsx``: one sheet per table, for CCAS who rework the figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from . import formatting as fmt
from .catalogue import label
from .published import column_lists
from .tables import TableSpec
from .untrusted import plain_text


FIXED_STAMP = dt.datetime(1980, 1, 1)
"""Document dates when none is given: the earliest a zip archive can hold."""


def _sheet_rows(table: pd.DataFrame, names: dict) -> tuple[list[str], list[list]]:
    """Header and body of one sheet: a line per measure (and year), a column per zone."""
    levels, codes, measures, years, values, statuses = column_lists(
        table, "zone_level", "zone_code", "measure", "year", "value", "status")
    zones = list(dict.fromkeys(zip(levels, codes)))
    several_years = len(set(years)) > 1
    header = ["Indicateur"] + (["Année"] if several_years else []) + [names.get(z, plain_text(z[1])) for z in zones]
    cells = dict(zip(zip(measures, years, levels, codes), zip(values, statuses)))
    body = []
    for measure, year in dict.fromkeys(zip(measures, years)):
        line = [_label(measure)] + ([int(year)] if several_years else [])
        for level, code in zones:
            value, status = cells.get((measure, year, level, code), (None, "missing"))
            if status == "missing":
                line.append(fmt.MISSING)
            elif status != "published":
                line.append(fmt.SECRET)
            else:
                line.append(float(value))
        body.append(line)
    return header, body


def _label(measure: str) -> str:
    for prefix, text in (("evolution_", "Évolution (%) : "), ("indice_", "Indice (base 100) : ")):
        if measure.startswith(prefix):
            return text + label(measure[len(prefix):])
    return label(measure)


def write(path: Path, specs: tuple[TableSpec, ...], published: pd.DataFrame,
          names: dict[tuple[str, str], str], source_line: str, stamp: dt.date | None = None) -> None:
    """Each sheet: title, a table (numbers as numbers, ``s`` for secrets, ``nd`` if unavailable), source.

    Sheets are built from the published rows themselves, so the workbook holds
    exactly the figures of ``published.csv``.

    Parameters
    ----------
    names
        ``(zone_level, zone_code)`` -> the name of the column, IRIS included.
    stamp
        The document's creation and modification date (``docProps/core.xml``).
        XlsxWriter dates the archive's members 1980-01-01 and would write the
        clock time in the properties: a fixed stamp (the report's edition date)
        makes equal tables equal bytes.
    """
    import xlsxwriter

    if stamp is None:
        stamp = FIXED_STAMP
    if not isinstance(stamp, dt.datetime):
        stamp = dt.datetime.combine(stamp, dt.time())
    # Zone names and the source line come from files: one line of text without controls
    # (XlsxWriter would keep a control character as _xHHHH_, which Excel reads back).
    names = {key: plain_text(name) for key, name in names.items()}
    source_line = plain_text(source_line)
    # Written whole in memory then saved: no temporary files; text stays text (no URLs, formulas).
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_urls": False,
                                               "strings_to_formulas": False, "strings_to_numbers": False})
    workbook.set_properties({"created": max(stamp.replace(tzinfo=None, microsecond=0), FIXED_STAMP)})
    by_table = dict(tuple(published.groupby("table_id", sort=False)))
    for spec in specs:
        table = by_table.get(spec.id)
        if table is None:
            continue
        header, body = _sheet_rows(table, names)
        sheet = workbook.add_worksheet(spec.id[:31])
        sheet.set_column(0, 0, 52)
        lines = [[spec.title], [], header, *body, [], [source_line],
                 ["s : donnée soumise au secret statistique ; nd : donnée non disponible."]]
        for row, line in enumerate(lines):
            sheet.write_row(row, 0, line)
    workbook.close()
