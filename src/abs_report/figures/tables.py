"""Tables as Markdown pipe tables: the rows of a table and the cells it prints.

Each builder returns the table's lines (without caption) and its printed
cells, so that the caller can number the caption and write the note that
explains the ``s`` and ``nd`` it shows.
"""

from __future__ import annotations

from ..catalogue import label
from ..context import ReportContext
from ..tables import SHORT_LABELS, TableSpec
from .labels import short_label
from ..untrusted import markdown_text as md
from .lookup import PublishedIndex

Table = tuple[list[str], list[str]]
"""Markdown lines of a table, and the cells it prints."""


def zones_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex) -> Table:
    """Items in rows, the territory and each comparison zone in columns."""
    header = "| | " + " | ".join(md(z.name) for z in ctx.zones) + " |"
    lines, cells = [header, "|:---|" + "---:|" * len(ctx.zones)], []
    for item in spec.items:
        values = [rows.text(spec.id, z, item) for z in ctx.zones]
        cells += values
        lines.append(f"| {label(item)} | " + " | ".join(values) + " |")
    return lines, cells


def evolution_table(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex) -> Table:
    """One line per item and zone: first year, last year and evolution rate."""
    first, last = ctx.years[0], ctx.year
    lines = [f"| | | {first} | {last} | Évolution |", "|:---|:---|---:|---:|---:|"]
    cells = []
    for item in spec.items:
        for i, z in enumerate(ctx.zones):
            values = [rows.text(spec.id, z, item, first), rows.text(spec.id, z, item, last),
                      rows.text(spec.id, z, f"evolution_{item}", last, signed=True)]
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
