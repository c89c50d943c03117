"""What every map shares: colours, hatching, sizes, fonts, and the figure a map returns."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.patches import PathPatch



NO_MAP_TEXT = "Fond de carte non disponible pour ce territoire"
PALETTE = "YlGnBu"  # ColorBrewer, sequential, colour-blind safe
HIDDEN_FACE, HIDDEN_HATCH, HATCH_COLOUR = "#ffffff", "/////", "#6e6e6e"
MISSING_FACE = "#c8c8c8"
TERRITORY_FACE, EPCI_FACE, BASE_FACE = "#0b5563", "#a9c3c7", "#efefef"
BORDER = "#8a8a8a"
QPV_EDGE = "#b2182b"
FONT = {"family": "DejaVu Sans"}
RC = {"svg.hashsalt": "abs-report", "svg.fonttype": "path", "font.family": "DejaVu Sans",
      "hatch.linewidth": 0.6}
WIDTH = 6.3  # inches: the text width of an A4 report, as the charts
TITLE_BAND, CREDITS_BAND = 0.34, 0.24  # inches above and below the map
LEVEL_LAYERS = {"commune": "communes", "iris": "iris", "qpv": "qpv"}
LEVEL_PLURAL = {"commune": "communes", "iris": "IRIS", "qpv": "quartiers prioritaires"}


class NoGeometry(LookupError):
    """A zone the geometry does not hold: the report says :data:`NO_MAP_TEXT` instead."""


@dataclass(frozen=True)
class MapClass:
    """One class of a choropleth: values from ``lower`` to ``upper`` (inclusive) in ``colour``."""

    lower: float
    upper: float
    colour: str
    label: str


@dataclass(eq=False)
class MapFigure:
    """A drawn map: the figure, what it shows (title, alt text), and each zone's patch."""

    figure: Figure
    title: str
    alt: str
    zones: dict[str, PathPatch] = field(default_factory=dict)
    classes: tuple[MapClass, ...] = ()

def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 28)) or text
