"""Choropleths of communes or IRIS: published values coloured, hidden ones hatched, missing ones grey."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch
from matplotlib.path import Path as MplPath

from .. import formatting as fmt
from ..geometry import Geometry, load_geometry
from .classes import _class_of, _classes
from .frame import _bounds, _finish, _map_axes
from .layers import _add, _grid_of, layer_path, zone_path
from .style import (BASE_FACE, BORDER, FONT, HATCH_COLOUR, HIDDEN_FACE, HIDDEN_HATCH, LEVEL_LAYERS, LEVEL_PLURAL,
                    MISSING_FACE, QPV_EDGE, TITLE_BAND, MapFigure, _wrap)


def choropleth(values: pd.DataFrame, level: str, title: str, unit: str, *,
               geometry: Geometry | None = None, qpv: Sequence[str] = (),
               breaks: Sequence[float] | None = None, k: int = 5, show_title: bool = True,
               place: str | None = None) -> MapFigure:
    """A choropleth of communes, IRIS or QPV.

    Parameters
    ----------
    values : pandas.DataFrame
        Columns ``zone_code``, ``value``, ``status`` (as in ``published.csv``).
    level : {"commune", "iris", "qpv"}
        What the zones are (QPV are drawn over their communes; pass them as ``qpv`` too
        to number and name their perimeters).
    title : str
        What is mapped, in French (``Taux de couverture par IRIS, Grenoble``).
    unit : str
        ``percent``, ``euro``, ``ratio`` or ``count``, for the legend's numbers.
    geometry : Geometry, optional
        The packaged geometry by default.
    qpv : sequence of str
        QPV codes whose perimeters are drawn and named.
    breaks : sequence of float, optional
        Class upper bounds computed elsewhere (for example once per batch);
        by default quantiles of the published values (:func:`class_breaks`).
    k : int
        Number of classes at most.
    show_title : bool
        Draw the title in the figure (a report's caption may carry it instead).
    place : str, optional
        Where the zones are, for the alt text (``de Grenoble-Alpes-Métropole``);
        by default the commune of IRIS, or the number of communes.

    Raises
    ------
    NoGeometry
        When a zone (or QPV) is not in the geometry.
    """
    geometry = geometry or load_geometry()
    layer = LEVEL_LAYERS[level]
    codes = [str(c) for c in values["zone_code"]]
    paths = {code: zone_path(geometry, layer, code) for code in codes}
    published = values["status"].eq("published") & values["value"].notna()
    numbers = pd.to_numeric(values["value"], errors="coerce")
    classes = _classes(numbers[published].to_numpy(dtype=float), unit, breaks, k)
    fig, ax = _map_axes(_bounds(_framed(geometry, level, codes, paths)), titled=show_title)
    grid = _grid_of(ax)
    paths = {code: zone_path(geometry, layer, code, grid) for code in codes}
    _context(ax, geometry, level, codes)
    zones = {}
    for code, status, value, ok in zip(codes, values["status"], numbers, published):
        zones[code] = _add(ax, _zone_patch(paths[code], status, value if ok else None, classes, level, unit))
        zones[code].set_gid(f"zone-{code}")
    _outlines(ax, geometry, level, codes)
    qpv_names = _draw_qpv(ax, geometry, qpv)
    _legend(fig, classes, values["status"], qpv_names, unit)
    _finish(fig, ax, title if show_title else None)
    where = place or _places(geometry, level, codes)
    return MapFigure(fig, title, _choropleth_alt(title, level, where, values, classes, unit), zones, classes)


def _zone_patch(path: MplPath, status: str, value: float | None, classes, level: str, unit: str) -> PathPatch:
    width = 0.25 if level == "commune" else 0.4
    if status.startswith("secret"):
        return PathPatch(path, facecolor=HIDDEN_FACE, hatch=HIDDEN_HATCH, hatchcolor=HATCH_COLOUR,
                         edgecolor=BORDER, linewidth=width)
    if value is None:
        return PathPatch(path, facecolor=MISSING_FACE, edgecolor=BORDER, linewidth=width)
    colour = _class_of(value, classes, fmt.DECIMALS.get(unit, 1)).colour
    return PathPatch(path, facecolor=colour, edgecolor=BORDER, linewidth=width)


def _in_view(geometry: Geometry, layer: str, view: tuple[float, float, float, float]) -> list[str]:
    """Zones of a layer whose bounds meet the view: the SVG then holds no unseen outline."""
    xmin, ymin, xmax, ymax = view
    return [code for code, shape in geometry._layers[layer]["shape"].items()
            if shape.bounds[0] <= xmax and shape.bounds[2] >= xmin
            and shape.bounds[1] <= ymax and shape.bounds[3] >= ymin]


def _view(ax) -> tuple[float, float, float, float]:
    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    return xmin, ymin, xmax, ymax


def _context(ax, geometry: Geometry, level: str, codes: list[str]) -> None:
    """Neighbouring communes in light grey, so that the zones sit in their surroundings."""
    if not geometry.has_layer("communes"):
        return
    around = [c for c in _in_view(geometry, "communes", _view(ax)) if level == "iris" or c not in set(codes)]
    if around:
        _add(ax, PathPatch(layer_path(geometry, "communes", around, _grid_of(ax)), facecolor=BASE_FACE,
                               edgecolor="#d4d4d4", linewidth=0.3))
    if level == "qpv":  # the QPV's own communes in white: where the quartiers lie within them shows
        _add(ax, PathPatch(layer_path(geometry, "communes", sorted(_communes_of(geometry, level, codes)), _grid_of(ax)),
                           facecolor="white", edgecolor="none"))


def _outlines(ax, geometry: Geometry, level: str, codes: list[str]) -> None:
    """Borders one level up: communes around IRIS, EPCI around communes."""
    if level in ("iris", "qpv") and geometry.has_layer("communes"):
        communes = sorted(_communes_of(geometry, level, codes))
        _add(ax, PathPatch(layer_path(geometry, "communes", communes, _grid_of(ax)), facecolor="none",
                               edgecolor="#333333", linewidth=0.9))
    elif level == "commune" and geometry.has_layer("epci"):
        _add(ax, PathPatch(layer_path(geometry, "epci", _in_view(geometry, "epci", _view(ax)), _grid_of(ax)),
                               facecolor="none", edgecolor="#444444", linewidth=0.6))


def _framed(geometry: Geometry, level: str, codes: list[str], paths: dict) -> list:
    """What a map frames: its zones, or for QPV their whole communes (a reader sees where they lie)."""
    if level == "qpv" and geometry.has_layer("communes"):
        return [zone_path(geometry, "communes", c) for c in sorted(_communes_of(geometry, level, codes))]
    return list(paths.values())


def _communes_of(geometry: Geometry, level: str, codes: list[str]) -> set[str]:
    """The communes the zones lie in (a QPV may span two)."""
    if level == "qpv":
        return {c for code in codes for c in geometry._layers["qpv"].at[code, "communes"]}
    return {c[:5] for c in codes}


def _draw_qpv(ax, geometry: Geometry, qpv: Sequence[str]) -> list[str]:
    """QPV perimeters (a red outline, no fill: the zones' colours stay readable), numbered.

    Names would cover the very zones a reader looks at (and several QPV lie close
    together): each perimeter carries a small number, the legend names them.
    """
    names = []
    for number, code in enumerate(qpv, start=1):
        _add(ax, PathPatch(zone_path(geometry, "qpv", code, _grid_of(ax)), facecolor="none", edgecolor=QPV_EDGE,
                               linewidth=1.3, gid=f"qpv-{code}", zorder=4))
        # On the perimeter's northernmost point, above it: the marker hides no zone inside.
        points = np.concatenate(geometry._layers["qpv"].at[code, "shape"].rings)
        x, y = points[np.argmax(points[:, 1])]
        ax.annotate(str(number), (x, y), xytext=(0, 4), textcoords="offset points", fontsize=6,
                    color=QPV_EDGE, ha="center", va="bottom", fontweight="bold", fontfamily="DejaVu Sans",
                    zorder=5, bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": QPV_EDGE,
                                    "linewidth": 0.6})
        names.append(str(geometry._layers["qpv"].at[code, "name"]))
    return names


def _legend(fig: Figure, classes, statuses: pd.Series, qpv_names: list[str], unit: str) -> None:
    handles = [Patch(facecolor=c.colour, edgecolor=BORDER, linewidth=0.4, label=c.label) for c in classes]
    if statuses.str.startswith("secret").any():
        handles.append(Patch(facecolor=HIDDEN_FACE, hatch=HIDDEN_HATCH, hatchcolor=HATCH_COLOUR,
                             edgecolor=BORDER, linewidth=0.4, label=f"{fmt.SECRET} : secret statistique"))
    if (statuses == "missing").any():
        handles.append(Patch(facecolor=MISSING_FACE, edgecolor=BORDER, linewidth=0.4,
                             label=f"{fmt.MISSING} : donnée non disponible"))
    if qpv_names:
        handles.append(Line2D([], [], color=QPV_EDGE, linewidth=1.3, label="Quartier prioritaire (QPV)"))
        handles += [Line2D([], [], linestyle="none", label=_wrap(f"{n}. {name}"))
                    for n, name in enumerate(qpv_names, start=1)]
    title = {"percent": "en %", "euro": "en €", "ratio": "", "count": "effectif"}.get(unit, "")
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 1 - TITLE_BAND / fig.get_figheight()), frameon=False, fontsize=7.5,
               title=title or None, title_fontsize=7.5, alignment="left", handlelength=1.6, handleheight=1.1,
               prop=FONT | {"size": 7.5})


def _choropleth_alt(title: str, level: str, where: str, values: pd.DataFrame, classes, unit: str) -> str:
    """What the map shows, for a reader who cannot see it."""
    plural = LEVEL_PLURAL[level]
    parts = [f"Carte des {plural} {where} : {title[0].lower() + title[1:]}"]
    if classes:
        parts.append(f"{len(classes)} classe{'s' if len(classes) > 1 else ''}, "
                     f"de {_plain(classes[0].lower, unit)} à {_plain(classes[-1].upper, unit)}"
                     + ", plus la valeur est élevée, plus la couleur est foncée")
    hidden = int(values["status"].str.startswith("secret").sum())
    missing = int((values["status"] == "missing").sum())
    if hidden:
        parts.append(f"{_count(hidden, level)} soumis au secret statistique (hachuré{'s' if hidden > 1 else ''})"
                     if level in ("iris", "qpv") else
                     f"{_count(hidden, level)} soumise{'s' if hidden > 1 else ''} au secret statistique "
                     f"(hachurée{'s' if hidden > 1 else ''})")
    if missing:
        parts.append(f"{_count(missing, level)} sans donnée (en gris)")
    return ". ".join(parts) + ". Les valeurs figurent dans le tableau associé."


def _count(n: int, level: str) -> str:
    if level == "qpv":
        return f"{n} quartier{'s' if n > 1 else ''} prioritaire{'s' if n > 1 else ''}"
    return f"{n} IRIS" if level == "iris" else f"{n} commune{'s' if n > 1 else ''}"


def _plain(value: float, unit: str) -> str:
    return fmt.value(value, unit if unit in fmt.DECIMALS else "ratio")


def _places(geometry: Geometry, level: str, codes: list[str]) -> str:
    communes = sorted(_communes_of(geometry, level, codes) if level in ("iris", "qpv") else codes)
    if level in ("iris", "qpv") and geometry.has_layer("communes") and len(communes) == 1:
        return "de " + str(geometry._layers["communes"].at[communes[0], "name"])
    if level in ("iris", "qpv"):
        return f"de {len(communes)} communes"
    return f"({len(codes)} communes)"
