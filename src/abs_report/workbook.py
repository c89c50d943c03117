"""``tables.xlsx``: one sheet per table, for CCAS who rework the figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import formatting as fmt
from .catalogue import label
from .tables import TableSpec


def write(path: Path, specs: tuple[TableSpec, ...], published: pd.DataFrame, zones: list[dict],
          source_line: str) -> None:
    """Each sheet: title, a table (items x zones, numbers as numbers, ``s`` for secrets), source."""
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
    _fix_zip_dates(path)


def _fix_zip_dates(path: Path) -> None:
    """Rewrite the archive with fixed member dates so equal tables give equal bytes."""
    import zipfile

    data = {}
    with zipfile.ZipFile(path) as src:
        for info in src.infolist():
            data[info.filename] = src.read(info)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data[name])
