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


def write(path: Path, specs: tuple[TableSpec, ...], published: pd.DataFrame, zones: list[dict],
          source_line: str, stamp: dt.date | None = None) -> None:
    """Each sheet: title, a table (items x zones, numbers as numbers, ``s`` for secrets), source.

    Parameters
    ----------
    stamp
        The document's creation and modification date (``docProps/core.xml``)
        and its archive members' dates. openpyxl would write the clock time;
        a fixed stamp (the report's edition date) makes equal tables equal bytes.
    """
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for spec in specs:
            rows = published[published["table_id"] == spec.id]
            body = []
            for item in spec.items:
                line = {"Indicateur": label(item)}
                for z in zones:
                    hit = rows[(rows["zone_code"] == z["code"]) & (rows["zone_level"] == z["level"])
                               & (rows["measure"] == item)]
                    status = hit.iloc[0]["status"] if not hit.empty else "missing"
                    line[z["name"]] = (hit.iloc[0]["value"] if status == "published"
                                       else fmt.SECRET if status.startswith("secret") else fmt.MISSING)
                body.append(line)
            sheet = spec.id[:31]
            frame = pd.DataFrame(body)
            frame.to_excel(writer, sheet_name=sheet, startrow=2, index=False)
            ws = writer.sheets[sheet]
            ws["A1"] = spec.title
            ws.cell(row=len(frame) + 5, column=1, value=source_line)
            ws.cell(row=len(frame) + 6, column=1,
                    value="s : donnée soumise au secret statistique ; nd : donnée non disponible.")
            ws.column_dimensions["A"].width = 48
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
