"""Maps: a locator map and choropleths of communes or IRIS, as matplotlib figures.

Drawn in the report's kernel by :mod:`abs_report.figures.maps`. Everything is drawn from the packaged
geometry (Lambert-93, north up, metres) or a user's imported one; values come
as ``(zone_code, value, status)`` rows, already protected: only ``published``
values are coloured, a hidden cell (``secret_*``) is hatched on white and a
missing one grey, whatever value the row carries.

Base layers are prepared once per process: each zone's matplotlib
:class:`~matplotlib.path.Path` is built on first use and kept (per geometry
object), so a batch of maps only pays for the drawing.
"""

from .choropleth import choropleth
from .classes import class_breaks
from .frame import to_svg
from .layers import display_grid, layer_path, preload, zone_path
from .locator import locator_map
from .style import (BASE_FACE, BORDER, EPCI_FACE, HIDDEN_FACE, HIDDEN_HATCH, MISSING_FACE, NO_MAP_TEXT, PALETTE,
                    QPV_EDGE, TERRITORY_FACE, MapClass, MapFigure, NoGeometry)

__all__ = ["BASE_FACE", "BORDER", "EPCI_FACE", "HIDDEN_FACE", "HIDDEN_HATCH", "MISSING_FACE", "NO_MAP_TEXT", "PALETTE",
           "QPV_EDGE", "TERRITORY_FACE", "MapClass", "MapFigure", "NoGeometry", "choropleth", "class_breaks",
           "display_grid", "layer_path", "locator_map", "preload", "to_svg", "zone_path"]
