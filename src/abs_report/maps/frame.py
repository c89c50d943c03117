"""A map's frame: axes in Lambert-93 (north up), scale bar, north arrow, credits, SVG."""

from __future__ import annotations

import io
import re
from typing import Iterable

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath
import matplotlib.patheffects as effects

from .. import formatting as fmt
from ..geometry import ATTRIBUTION
from .layers import _add
from .style import CREDITS_BAND, FONT, MapFigure, RC, TITLE_BAND, WIDTH


def _bounds(paths: Iterable[MplPath]) -> tuple[float, float, float, float]:
    points = np.concatenate([p.vertices for p in paths])
    (xmin, ymin), (xmax, ymax) = points.min(axis=0), points.max(axis=0)
    return xmin, ymin, xmax, ymax


def _map_axes(bounds, titled: bool = True, max_height: float = 5.0) -> tuple[Figure, object]:
    """A figure A4-wide whose map axes keep the territory's proportions (equal scale, north up).

    Heights in inches: a band for the title on top, one for the credits below,
    the map between them (its height follows the territory's shape, within bounds).
    """
    xmin, ymin, xmax, ymax = bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    xmin, xmax, ymin, ymax = xmin - pad, xmax + pad, ymin - pad, ymax + pad
    map_width = WIDTH * 0.68
    # At most 5 inches (3.6 for a locator): a map, its caption and its source note then
    # share an A4 page with some text, instead of the note falling alone on the next page.
    map_height = min(max(map_width * (ymax - ymin) / (xmax - xmin), 2.4), max_height)
    top, bottom = (TITLE_BAND if titled else 0.08), CREDITS_BAND
    height = map_height + top + bottom
    fig = Figure(figsize=(WIDTH, height))
    ax = fig.add_axes((0.01, bottom / height, 0.68, map_height / height))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box", anchor="NW")  # the limits stay the territory's
    ax.set_axis_off()
    return fig, ax


def _finish(fig: Figure, ax, title: str | None) -> None:
    height = fig.get_figheight()
    if title:
        fig.text(0.01, 1 - 0.06 / height, title, ha="left", va="top", fontsize=9.5, fontweight="bold",
                 fontdict=FONT)
    _scale_bar(ax)
    _north_arrow(ax)
    fig.text(0.99, 0.04 / height, "Lambert-93. " + ATTRIBUTION, ha="right", va="bottom", fontsize=6,
             color="#555555", fontdict=FONT)


def _scale_bar(ax) -> None:
    """A bar of a round length in km, about a fifth of the map's width, bottom left."""
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    target = (xmax - xmin) / 5
    length = max((n for n in (200, 500, 1000, 2000, 5000, 10000, 20000, 50000) if n <= target), default=100)
    x0, y0 = xmin + 0.04 * (xmax - xmin), ymin + 0.04 * (ymax - ymin)
    height = 0.008 * (ymax - ymin)
    for i, colour in enumerate(("#333333", "#ffffff")):
        _add(ax, Rectangle((x0 + i * length / 2, y0), length / 2, height, facecolor=colour,
                               edgecolor="#333333", linewidth=0.5, zorder=6))
    label = f"{fmt.number(length / 1000, 0 if length >= 1000 else 1)} km"
    ax.text(x0 + length / 2, y0 + 2.2 * height, label, ha="center", va="bottom", fontsize=6.5,
            fontdict=FONT, zorder=6, path_effects=[effects.withStroke(linewidth=2, foreground="white")])


def _north_arrow(ax) -> None:
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.87), xycoords="axes fraction", ha="center", va="center",
                fontsize=7, fontweight="bold", fontfamily="DejaVu Sans",
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "linewidth": 0.8})


def to_svg(result: MapFigure) -> str:
    """The map as one-line SVG text, the same bytes for the same inputs (glyphs as paths)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        result.figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = re.sub(r"<!--.*?-->", "", buffer.getvalue(), flags=re.S)
    svg = _OUTLINE.sub(_compact_outline, svg)
    # Other coordinates to a hundredth of a point (matplotlib writes six decimals): half the bytes.
    # Not the factors of a scale(): the glyphs' 0.015625 cut to 0.01 drew every letter of a
    # map's text at two thirds of its size, spaced as if full size (seen on the page).
    svg = re.sub(r"scale\([^)]*\)|(\d\.\d\d)\d+", lambda m: m.group(1) or m.group(0), svg)
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip()


_OUTLINE = re.compile(r' d="([MLz0-9.\s-]+)"')
"""The data of a path of straight lines only (zones, borders, scale bar; glyphs have curves)."""


def _compact_outline(match: re.Match) -> str:
    """A straight-line path in tenths of a point, relative, without repeated points.

    A tenth of a point is 0.035 mm on the page, finer than any printer's dot. matplotlib
    writes ``M 220.853125 118.240625 L 220.853125 117.303125 ...``; this writes
    ``M220.9 118.2l0-.9...``: the same drawing (the differences are exact on the rounded
    points, so no error adds up) in a third of the bytes, which the notebook, pandoc,
    Typst and the HTML then carry for every report.
    """
    tokens = match.group(1).split()
    out: list[str] = []
    start = last = (0, 0)
    relative = False  # whether the previous command was a relative line, continued implicitly
    i = 0
    while i < len(tokens):
        command = tokens[i]
        if command == "z":
            out.append("z")
            last, relative, i = start, False, i + 1
            continue
        point = (round(float(tokens[i + 1]) * 10), round(float(tokens[i + 2]) * 10))
        i += 3
        if command == "M":
            out.append(f"M{_tenths(point[0])} {_tenths(point[1])}")
            start = last = point
            relative = False
            continue
        if point == last:
            continue
        pair = _pair(point[0] - last[0], point[1] - last[1])
        out.append(pair if relative and pair[0] == "-" else (" " + pair if relative else "l" + pair))
        last, relative = point, True
    return ' d="' + "".join(out) + '"'


def _pair(dx: int, dy: int) -> str:
    y = _tenths(dy)
    return _tenths(dx) + (y if y[0] == "-" else " " + y)


def _tenths(value: int) -> str:
    """``-5`` -> ``-.5``, ``20`` -> ``2``, ``123`` -> ``12.3``: a number of tenths, shortest."""
    sign, value = ("-" if value < 0 else ""), abs(value)
    whole, tenth = divmod(value, 10)
    if not tenth:
        return f"{sign}{whole}"
    return f"{sign}{whole if whole else ''}.{tenth}"
