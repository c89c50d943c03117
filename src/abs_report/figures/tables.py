"""Tables as Markdown pipe tables: the rows of a table and the cells it prints.

Each builder returns the table's lines (without caption) and its printed
cells, so that the caller can number the caption and write the note that
explains the ``s`` and ``nd`` it shows.
"""

from __future__ import annotations

from .. import formatting as fmt
from ..catalogue import label
from ..context import ReportContext
from ..tables import SHORT_LABELS, TableSpec
from .labels import short_label
from ..untrusted import markdown_text as md
from .lookup import PublishedIndex

Table = tuple[list[str], list[str]]
"""Markdown lines of a table, and the cells it prints."""


def zones_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex, zones=None) -> Table:
    """Items in rows, the territory and each comparison zone (``zones``, default all) in columns."""
    zones = ctx.zones if zones is None else zones
    header = "| | " + " | ".join(md(z.name) for z in zones) + " |"
    lines, cells = [header, "|:---|" + "---:|" * len(zones)], []
    for item in spec.items:
        values = [rows.text(spec.id, z, item) for z in zones]
        cells += values
        lines.append(f"| {label(item)} | " + " | ".join(values) + " |")
    return lines, cells


def evolution_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex, zones=None) -> Table:
    """One line per item and zone (``zones``, default all): each year's count, then the evolution rate."""
    zones = ctx.zones if zones is None else zones
    years, last = list(dict.fromkeys((*ctx.years, ctx.year))), ctx.year
    lines = ["| | | " + " | ".join(str(y) for y in years) + " | Évolution |",
             "|:---|:---|" + "---:|" * (len(years) + 1)]
    cells = []
    for item in spec.items:
        for i, z in enumerate(zones):
            values = [rows.text(spec.id, z, item, y) for y in years]
            values.append(rows.text(spec.id, z, f"evolution_{item}", last, signed=True))
            if i and all(v == fmt.MISSING for v in values):
                continue  # a comparison zone the source has nothing on for this item: no line of nd
            cells += values
            name = label(item) if i == 0 else ""
            lines.append(f"| {name} | {md(z.name)} | " + " | ".join(values) + " |")
    return lines, cells


def iris_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex) -> Table:
    """The territory's IRIS in rows; rows of small quartiers show ``s`` throughout."""
    header = "| IRIS | " + " | ".join(SHORT_LABELS.get(i, short_label(i)) for i in spec.items) + " |"
    lines, cells = [header, "|:---|" + "---:|" * len(spec.items)], []
    for quartier in ctx.iris:
        values = [rows.text(spec.id, quartier, item) for item in spec.items]
        cells += values
        lines.append(f"| {md(quartier.name)} | " + " | ".join(values) + " |")
    return lines, cells


def qpv_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex) -> Table:
    """Each QPV of the commune, then the commune hors QPV and the whole commune, in rows."""
    header = "| Zone | " + " | ".join(SHORT_LABELS.get(i, short_label(i)) for i in spec.items) + " |"
    lines, cells = [header, "|:---|" + "---:|" * len(spec.items)], []
    whole = ctx.territory
    zones = [(q, md(q.name)) for q in ctx.qpv]
    if ctx.hors_qpv is not None:
        zones.append((ctx.hors_qpv, md(ctx.hors_qpv.name)))
    zones.append((whole, f"{md(whole.name)} (ensemble de la commune)"))
    for zone, name in zones:
        values = [rows.text(spec.id, zone, item) for item in spec.items]
        cells += values
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return lines, cells
