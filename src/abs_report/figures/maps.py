"""The maps of a report, drawn from its published rows: locator, communes, IRIS.

Presentation only, like the charts: a choropleth colours the rows of its own
table in ``published.csv`` (``C01_carte_communes``, ``C02_carte_iris``) and
nothing else, so every coloured zone is a published number of the report and
of ``tables.xlsx``. The drawing itself is :mod:`abs_report.maps`; the geometry
is the packaged one, or the folder a parameter file names (``geography:``).
"""

from __future__ import annotations

import pandas as pd

from .. import maps
from ..catalogue import label
from ..context import ReportContext
from ..geometry import Geometry, geometry_of, qpv_of_commune
from ..tables import TableSpec

LEVEL_WORDS = {"commune_map": ("commune", "par commune"), "iris_map": ("iris", "par IRIS"),
               "qpv_map": ("qpv", "par quartier prioritaire")}


def plain(text: str) -> str:
    """A name from a file as matplotlib text: ``$`` would start mathematical notation."""
    return text.replace("$", r"\$")


def locator(ctx: ReportContext) -> maps.MapFigure:
    """The territory within its EPCI and département.

    Raises
    ------
    abs_report.maps.NoGeometry
        When the geometry does not hold the territory (outside Isère, or imported contours
        without the département's outline).
    """
    geometry = geometry_of(ctx.geometry_folder)
    territory = ctx.territory
    if not geometry.has_layer("departement") or not geometry.has_layer("communes"):
        raise maps.NoGeometry(f"{territory.level} {territory.code}")
    members = tuple(z.code for z in ctx.communes)
    if territory.level == "aggregation" and not members:
        raise maps.NoGeometry(f"aggregation {territory.code}")
    return maps.locator_map(territory.level, territory.code, members=members, name=plain(territory.name),
                            geometry=geometry, show_title=False)


def map_values(published: pd.DataFrame, table_id: str, item: str) -> pd.DataFrame:
    """The rows a map colours: ``zone_code``, ``value``, ``status`` of one item of its table."""
    rows = published[(published["table_id"] == table_id) & (published["measure"] == item)]
    return rows.loc[:, ["zone_code", "value", "status"]].reset_index(drop=True)


def map_title(spec: TableSpec, item: str, ctx: ReportContext) -> str:
    """``Taux de couverture par commune``: the caption's text."""
    return f"{label(item)} {LEVEL_WORDS[spec.kind][1]}"


def choropleth(spec: TableSpec, item: str, ctx: ReportContext, published: pd.DataFrame,
               geometry: Geometry | None = None) -> maps.MapFigure:
    """One rate of the territory's communes or IRIS, from the rows of ``spec`` only.

    IRIS maps draw and name the QPV of the commune; a QPV map numbers and names its own QPV.

    Raises
    ------
    abs_report.maps.NoGeometry
        When a zone is not in the geometry.
    """
    geometry = geometry or geometry_of(ctx.geometry_folder)
    level = LEVEL_WORDS[spec.kind][0]
    values = map_values(published, spec.id, item)
    if values.empty:
        raise maps.NoGeometry(f"{spec.id} {item}: no zone")
    qpv = qpv_of_commune(geometry, ctx.territory.code) if level == "iris" else ()
    k = 5
    if level == "qpv":
        qpv = tuple(str(c) for c in values["zone_code"])
        # Seen on the page: four QPV in four quantile classes made 13,1 % and 16,0 % look worlds apart;
        # a class holds two QPV at least (the table above gives each value).
        k = max(1, min(5, len(qpv) // 2))
    unit = str(published.loc[published["measure"] == item, "unit"].iloc[0])
    return maps.choropleth(values, level, map_title(spec, item, ctx), unit, geometry=geometry, qpv=qpv,
                           show_title=False, place=f"({plain(ctx.territory.name)})", k=k)


__all__ = ["choropleth", "locator", "map_title", "map_values"]
