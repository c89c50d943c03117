"""Maps: a locator map and choropleths of communes or IRIS, as matplotlib figures.

Not wired into the reports yet. Everything is drawn from the packaged
geometry (Lambert-93, north up, metres) or a user's imported one; values come
as ``(zone_code, value, status)`` rows, already protected: only ``published``
values are coloured, a hidden cell (``secret_*``) is hatched on white and a
missing one grey, whatever value the row carries.

Base layers are prepared once per process: each zone's matplotlib
:class:`~matplotlib.path.Path` is built on first use and kept (per geometry
object), so a batch of maps only pays for the drawing.
"""

from __future__ import annotations

import io
import re
import textwrap
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch, Rectangle
from matplotlib.path import Path as MplPath
import matplotlib.patheffects as effects

from . import formatting as fmt
from .geometry import ATTRIBUTION, Geometry, Shape, load_geometry

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
LEVEL_LAYERS = {"commune": "communes", "iris": "iris"}
LEVEL_PLURAL = {"commune": "communes", "iris": "IRIS"}


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


# --- base layers, prepared once per process ------------------------------------
_PATHS: "weakref.WeakKeyDictionary[Geometry, dict]" = weakref.WeakKeyDictionary()


def _shape_path(shape: Shape, grid: int = 0) -> MplPath:
    """One compound path of a shape's rings (holes wind the other way).

    ``grid`` (metres) snaps the vertices to a grid and drops the repeated ones: a
    département printed 11 cm wide has some 400 m to the point, and its 20 m contours
    made each map's SVG a megabyte. Neighbours snap alike, so shared borders stay shared.
    """
    vertices, codes = [], []
    for ring in shape.rings:
        if grid:
            ring = _thin(np.round(ring / grid) * grid)
            if len(ring) < 3:
                continue
        vertices += [ring, ring[:1]]
        ring_codes = np.full(len(ring) + 1, MplPath.LINETO, dtype=MplPath.code_type)
        ring_codes[0], ring_codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        codes.append(ring_codes)
    if not vertices:  # a zone smaller than the grid: its exact outline, not nothing
        return _shape_path(shape)
    return MplPath(np.concatenate(vertices), np.concatenate(codes), readonly=True)


def _thin(ring: np.ndarray) -> np.ndarray:
    """A snapped ring without repeated points and without points on the line between their neighbours.

    On the grid the test is exact; a point dropped lies on the border it belonged to, so
    the neighbour's outline, thinned or not, still coincides with it.
    """
    ring = ring[np.r_[True, (np.diff(ring, axis=0) != 0).any(axis=1)]]
    if len(ring) > 1 and (ring[0] == ring[-1]).all():
        ring = ring[:-1]
    if len(ring) < 4:
        return ring
    before, after = ring - np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0) - ring
    turn = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    return ring[turn != 0]


LOCATOR_PER = 250


def display_grid(extent: float, per: int = 500) -> int:
    """Vertex grid (metres) for a map spanning ``extent`` metres: a ``per``-th of it, 0 under 50 m.

    A 500th is about half a point on the printed page. A locator (a small map, read for
    where the territory is, in every report) takes a 250th: its SVG then weighs 60 KB, not 120.
    """
    return max((g for g in (50, 100, 200, 250, 500) if g <= extent / per), default=0)


def zone_path(geometry: Geometry, layer: str, code: str, grid: int = 0) -> MplPath:
    """The cached path of one zone; raises :class:`NoGeometry` when it is not there."""
    cache = _PATHS.setdefault(geometry, {})
    key = (layer, code, grid)
    if key not in cache:
        table = geometry._layers.get(layer)
        if table is None or code not in table.index:
            raise NoGeometry(f"{layer} {code}")
        cache[key] = _shape_path(table.at[code, "shape"], grid)
    return cache[key]


def layer_path(geometry: Geometry, layer: str, codes: Iterable[str] | None = None, grid: int = 0) -> MplPath:
    """The cached compound path of many zones (a whole layer by default), for outlines."""
    codes = tuple(geometry._layers[layer].index if codes is None else codes)
    cache = _PATHS.setdefault(geometry, {})
    key = (layer, "+".join(codes), grid)
    if key not in cache:
        cache[key] = MplPath.make_compound_path(*(zone_path(geometry, layer, c, grid) for c in codes))
    return cache[key]


def _grid_of(ax, per: int = 500) -> int:
    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    return display_grid(max(xmax - xmin, ymax - ymin), per)


def _import_mapclassify():
    with warnings.catch_warnings():
        # Without numba mapclassify warns at import; quantiles do not need it, and a
        # warning would print into the executed notebook.
        warnings.simplefilter("ignore")
        import mapclassify  # noqa: PLC0415: a heavy import, paid only when a map is drawn
    return mapclassify


def preload() -> None:
    """Import the classifier, read the packaged geometry and build its base layers, once per process.

    A batch's zygote calls it before forking kernels: every report then draws its maps
    on paths already built (the département, its EPCI and communes).
    """
    _import_mapclassify()
    geometry = load_geometry()
    if not geometry.has_layer("departement"):
        return
    xmin, ymin, xmax, ymax = geometry._layers["departement"]["shape"].iloc[0].bounds
    grid = display_grid(max(xmax - xmin, ymax - ymin) * 1.06, LOCATOR_PER)  # the locator's view (3 % margins)
    for layer in ("departement", "epci", "communes"):
        if geometry.has_layer(layer):
            layer_path(geometry, layer, grid=grid)


def _add(ax, patch):
    """Add a patch without ``add_patch``'s walk over every curve to update the data limits.

    The limits are set once from the territory's bounds; that walk was 70 % of the
    time of a map of Isère's 512 communes.
    """
    return ax.add_artist(patch)


# --- classes -------------------------------------------------------------------
def class_breaks(values: Sequence[float], k: int = 5) -> list[float]:
    """Upper bounds of up to ``k`` classes (quantiles, from mapclassify).

    Quantiles keep every class populated whatever the spread of rates; the
    classification is mapclassify's, imported here only (it loads scikit-learn).
    """
    mapclassify = _import_mapclassify()
    values = np.asarray(values, dtype=float)
    k = min(k, len(np.unique(values)))
    if k < 2:
        return [float(values.max())]
    return sorted({float(b) for b in mapclassify.Quantiles(values, k=k).bins})


def _classes(values: np.ndarray, unit: str, breaks: Sequence[float] | None, k: int) -> tuple[MapClass, ...]:
    if len(values) == 0:
        return ()
    # Bounds at the legend's precision, so that a value printed 5,4 falls in the class
    # whose label ends at 5,4 (quantiles give 5.3999999999999995).
    decimals = fmt.DECIMALS.get(unit, 1)
    breaks = list(breaks) if breaks is not None else class_breaks(values, k)
    breaks = sorted({float(b) for b in np.round(breaks, decimals)})
    lowers = [float(np.round(values.min(), decimals))] + breaks[:-1]
    cmap = colormaps[PALETTE]
    colours = [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.25, 0.95, len(breaks))]
    if len(breaks) == 1:
        colours = [matplotlib.colors.to_hex(cmap(0.6))]
    return tuple(MapClass(lo, hi, colour, _class_label(lo, hi, unit, first=i == 0))
                 for i, (lo, hi, colour) in enumerate(zip(lowers, breaks, colours)))


def _class_label(lower: float, upper: float, unit: str, first: bool) -> str:
    """``de 12,3 à 15,6 %`` (French numbers; the unit once, at the end)."""
    decimals = fmt.DECIMALS.get(unit, 1)
    suffix = {"percent": f"{fmt.THIN}%", "euro": f"{fmt.THIN}€"}.get(unit, "")
    low, high = fmt.number(lower, decimals), fmt.number(upper, decimals)
    if low == high:
        return f"{high}{suffix}"
    return f"{'de' if first else 'plus de'} {low} à {high}{suffix}"


def _class_of(value: float, classes: tuple[MapClass, ...], decimals: int) -> MapClass:
    value = float(np.round(value, decimals))
    for cls in classes:
        if value <= cls.upper:
            return cls
    return classes[-1]


# --- choropleth ----------------------------------------------------------------
def choropleth(values: pd.DataFrame, level: str, title: str, unit: str, *,
               geometry: Geometry | None = None, qpv: Sequence[str] = (),
               breaks: Sequence[float] | None = None, k: int = 5, show_title: bool = True,
               place: str | None = None) -> MapFigure:
    """A choropleth of communes or IRIS.

    Parameters
    ----------
    values : pandas.DataFrame
        Columns ``zone_code``, ``value``, ``status`` (as in ``published.csv``).
    level : {"commune", "iris"}
        What the zones are.
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
    fig, ax = _map_axes(_bounds(paths.values()), titled=show_title)
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


def _outlines(ax, geometry: Geometry, level: str, codes: list[str]) -> None:
    """Borders one level up: communes around IRIS, EPCI around communes."""
    if level == "iris" and geometry.has_layer("communes"):
        communes = sorted({c[:5] for c in codes})
        _add(ax, PathPatch(layer_path(geometry, "communes", communes, _grid_of(ax)), facecolor="none",
                               edgecolor="#333333", linewidth=0.9))
    elif level == "commune" and geometry.has_layer("epci"):
        _add(ax, PathPatch(layer_path(geometry, "epci", _in_view(geometry, "epci", _view(ax)), _grid_of(ax)),
                               facecolor="none", edgecolor="#444444", linewidth=0.6))


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
                     if level == "iris" else
                     f"{_count(hidden, level)} soumise{'s' if hidden > 1 else ''} au secret statistique "
                     f"(hachurée{'s' if hidden > 1 else ''})")
    if missing:
        parts.append(f"{_count(missing, level)} sans donnée (en gris)")
    return ". ".join(parts) + ". Les valeurs figurent dans le tableau associé."


def _count(n: int, level: str) -> str:
    return f"{n} IRIS" if level == "iris" else f"{n} commune{'s' if n > 1 else ''}"


def _plain(value: float, unit: str) -> str:
    return fmt.value(value, unit if unit in fmt.DECIMALS else "ratio")


def _places(geometry: Geometry, level: str, codes: list[str]) -> str:
    communes = sorted({c[:5] for c in codes})
    if level == "iris" and geometry.has_layer("communes") and len(communes) == 1:
        return "de " + str(geometry._layers["communes"].at[communes[0], "name"])
    if level == "iris":
        return f"de {len(communes)} communes"
    return f"({len(codes)} communes)"


# --- locator map ---------------------------------------------------------------
def locator_map(level: str, code: str, *, members: Sequence[str] = (), name: str | None = None,
                geometry: Geometry | None = None, show_title: bool = True) -> MapFigure:
    """The territory within its EPCI and the département.

    Parameters
    ----------
    level : str
        ``commune``, ``iris``, ``qpv``, ``aggregation``, ``epci`` or ``departement``.
    code : str
        The territory's code (an aggregation's own id, with ``members``).
    members : sequence of str
        Communes of an aggregation.
    name : str, optional
        The territory's name (from the geometry by default; required for an aggregation).

    Raises
    ------
    NoGeometry
        When the territory is outside the packaged geometry.
    """
    geometry = geometry or load_geometry()
    layer, parts = _territory(geometry, level, code, members)
    paths = [zone_path(geometry, layer, p) for p in parts]
    name = name or _name(geometry, layer, parts[0])
    epci = _epci_of(geometry, layer, parts)
    dep_code = geometry._layers["departement"].index[0]
    fig, ax = _map_axes(_bounds([layer_path(geometry, "departement")]), titled=show_title, max_height=3.6)
    grid = _grid_of(ax, LOCATOR_PER)
    paths = [zone_path(geometry, layer, p, grid) for p in parts]
    zones = {dep_code: _add(ax, PathPatch(zone_path(geometry, "departement", dep_code, grid),
                                              facecolor=BASE_FACE, edgecolor="#555555", linewidth=0.8))}
    if epci and layer != "epci":
        zones[epci] = _add(ax, PathPatch(zone_path(geometry, "epci", epci, grid), facecolor=EPCI_FACE,
                                             edgecolor="none"))
    _add(ax, PathPatch(layer_path(geometry, "epci", grid=grid), facecolor="none", edgecolor="#9a9a9a",
                       linewidth=0.4))
    for part, path in zip(parts, paths):
        zones[part] = _add(ax, PathPatch(path, facecolor=TERRITORY_FACE, edgecolor=TERRITORY_FACE,
                                             linewidth=0.6))
    if layer == "departement":
        # Seen on the page: a département filled dark hid its EPCI, which the alt text names.
        _add(ax, PathPatch(layer_path(geometry, "epci", grid=grid), facecolor="none", edgecolor="white",
                           linewidth=0.6))
    title = f"Localisation : {name}"
    _locator_legend(fig, name, geometry, epci if layer != "epci" else None, dep_code,
                    own=layer == "departement")
    _finish(fig, ax, title if show_title else None)
    return MapFigure(fig, title, _locator_alt(geometry, name, epci, layer, dep_code), zones)


def _territory(geometry: Geometry, level: str, code: str, members: Sequence[str]) -> tuple[str, list[str]]:
    """Which layer and zones stand for the territory on a locator map."""
    if level == "iris":
        return "iris", [code]
    if level == "qpv":
        return "qpv", [code]
    if level == "commune":
        return "communes", [code]
    if level == "aggregation":
        return "communes", list(members)
    if level == "epci":
        return "epci", [code]
    if level == "departement":
        if code not in geometry._layers["departement"].index:
            raise NoGeometry(f"departement {code}")
        return "departement", [code]
    raise NoGeometry(f"{level} {code}")


def _name(geometry: Geometry, layer: str, code: str) -> str:
    return str(geometry._layers[layer].at[code, "name"])


def _epci_of(geometry: Geometry, layer: str, parts: list[str]) -> str | None:
    communes = geometry._layers["communes"]
    if layer == "epci":
        return parts[0]
    if layer == "iris":
        first = parts[0][:5]
    elif layer == "qpv":
        first = geometry._layers["qpv"].at[parts[0], "communes"][0]
    elif layer == "communes":
        first = parts[0]
    else:
        return None
    epci = communes.at[first, "epci"] if first in communes.index else ""
    return epci if epci and geometry.has_layer("epci") and epci in geometry._layers["epci"].index else None


def _locator_legend(fig: Figure, name: str, geometry: Geometry, epci: str | None, dep: str,
                    own: bool = False) -> None:
    handles = [Patch(facecolor=TERRITORY_FACE, label=_wrap(name))]
    if own:  # the département itself: its EPCI's borders, not the département a second time
        handles.append(Line2D([], [], color=TERRITORY_FACE, linewidth=0, marker="s", markersize=9,
                              markeredgecolor="white", label=_wrap("Limites des intercommunalités (en blanc)")))
    if epci:
        handles.append(Patch(facecolor=EPCI_FACE, label=_wrap(_name(geometry, "epci", epci))))
    if not own:
        handles.append(Patch(facecolor=BASE_FACE, edgecolor="#555555", linewidth=0.6,
                             label=_wrap(f"Département : {_name(geometry, 'departement', dep)}")))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 1 - TITLE_BAND / fig.get_figheight()), frameon=False,
               prop=FONT | {"size": 7.5}, handlelength=1.6, handleheight=1.1)


def _locator_alt(geometry: Geometry, name: str, epci: str | None, layer: str, dep: str) -> str:
    dep_name = _of_departement(geometry, dep)
    within = f"au sein de {_name(geometry, 'epci', epci)} (en clair), " if epci and layer != "epci" else ""
    if layer == "departement":
        return f"Carte de localisation : le département {dep_name} et ses intercommunalités."
    return f"Carte de localisation : {name} (en foncé) {within}dans le département {dep_name}."


def _of_departement(geometry: Geometry, dep: str) -> str:
    """``de l'Isère``, ``du Rhône``, ``de la Drôme`` (INSEE's TNCC article code)."""
    from .geography import article_of, load_geography

    article = article_of(load_geography(), "departement", dep)
    return {2: "du ", 3: "de la ", 4: "des ", 5: "de l'"}.get(article, "de ") + _name(geometry, "departement", dep)


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 28)) or text


# --- frame: axes, scale bar, north arrow, credits, SVG ------------------------
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
    # Coordinates to a hundredth of a point (matplotlib writes six decimals): half the bytes.
    svg = re.sub(r"(\d\.\d\d)\d+", r"\1", svg)
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip()


__all__ = ["MapClass", "MapFigure", "NO_MAP_TEXT", "NoGeometry", "choropleth", "class_breaks", "locator_map",
           "to_svg", "zone_path"]
