"""The published rows of one report, looked up by table, zone, item and year."""

from __future__ import annotations

from .. import formatting as fmt
from ..context import ZoneRef
from ..published import column_lists
from ..tables import TableSpec

MISSING_ROW = (None, "missing", "count")


def status_text(status: str) -> str:
    """How a cell that is not published reads: ``s`` (secret) or ``nd`` (not in the source)."""
    return fmt.SECRET if status.startswith("secret") else fmt.MISSING


class PublishedIndex:
    """``published.csv`` as a dictionary: ``(table, level, code, year, measure)`` -> (value, status, unit)."""

    def __init__(self, published, year: int):
        table, level, code, years, measure, value, status, unit = column_lists(
            published, "table_id", "zone_level", "zone_code", "year", "measure", "value", "status", "unit")
        self._rows = dict(zip(zip(table, level, code, years, measure), zip(value, status, unit)))
        self._statuses: dict[str, list[tuple[str, str, str]]] = {}
        for key, (_, row_status, _) in self._rows.items():
            self._statuses.setdefault(key[0], []).append((key[1], key[2], row_status))
        self.year = year
        self.measures = tuple(dict.fromkeys(measure))
        """Every measure published, in the order of the file."""

    def get(self, table_id: str, zone: ZoneRef, item: str, year: int | None = None) -> tuple:
        """(value, status, unit) of a published row; ``missing`` when there is none."""
        year = self.year if year is None else year
        return self._rows.get((table_id, zone.level, zone.code, year, item), MISSING_ROW)

    def text(self, table_id: str, zone: ZoneRef, item: str, year: int | None = None, signed=False) -> str:
        """A cell as printed: French number, or ``s`` / ``nd``."""
        value, status, unit = self.get(table_id, zone, item, year)
        if status != "published":
            return status_text(status)
        return fmt.signed_percent(value) if signed else fmt.value(value, unit)

    def available(self, spec: TableSpec, zones) -> bool:
        """Whether any row of the table, for one of ``zones``, is in the source (published or hidden)."""
        keys = {(z.level, z.code) for z in zones}
        return any(row_status != "missing" for level, code, row_status in self._statuses.get(spec.id, ())
                   if (level, code) in keys)

    def published_any(self, spec: TableSpec, zones) -> bool:
        """Whether any item of the table is published for one of ``zones`` (report year)."""
        return any(self.get(spec.id, z, i)[1] == "published" for z in zones for i in spec.items)
