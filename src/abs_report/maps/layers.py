"""Base layers, prepared once per process: each zone's matplotlib path, built on first use and kept."""

from __future__ import annotations

import warnings
import weakref
from typing import Iterable

import numpy as np
from matplotlib.path import Path as MplPath

from ..geometry import Geometry, Shape, load_geometry
from .style import NoGeometry


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
LOCATOR_SUFFIX = "locator"
"""``communes_locator``...: a layer simplified at build time for the locator's scale."""


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
    from ..geography import load_geography

    _import_mapclassify()
    load_geography()  # the locator's alt text reads the département's article there: 0.2 s a kernel
    geometry = load_geometry()
    if not geometry.has_layer("departement"):
        return
    xmin, ymin, xmax, ymax = geometry._layers["departement"]["shape"].iloc[0].bounds
    grid = display_grid(max(xmax - xmin, ymax - ymin) * 1.06, LOCATOR_PER)  # the locator's view (3 % margins)
    for layer in ("departement", "epci", "communes"):
        small = f"{layer}_{LOCATOR_SUFFIX}"
        if geometry.has_layer(small):
            layer_path(geometry, small)
        elif geometry.has_layer(layer):
            layer_path(geometry, layer, grid=grid)
    _draw_once(geometry)


def _draw_once(geometry: Geometry) -> None:
    """Draw one locator map to SVG and drop it: what matplotlib sets up on a first drawing.

    The legend's and the SVG writer's machinery and the glyphs of the font are built on
    first use; a kernel forked after this finds them built (a first map cost 0.08 s more).
    """
    from .frame import to_svg
    from .locator import locator_map

    code = geometry._layers["departement"].index[0]
    try:
        to_svg(locator_map("departement", code, geometry=geometry, show_title=False))
    except (LookupError, ValueError):  # a geometry without a name or EPCI: the first report pays instead
        pass


def _add(ax, patch):
    """Add a patch without ``add_patch``'s walk over every curve to update the data limits.

    The limits are set once from the territory's bounds; that walk was 70 % of the
    time of a map of Isère's 512 communes.
    """
    return ax.add_artist(patch)
