"""The locator map: a territory within its intercommunality and département."""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Patch

from ..geometry import Geometry, load_geometry
from .frame import _bounds, _finish, _map_axes
from .layers import LOCATOR_PER, LOCATOR_SUFFIX, _add, _grid_of, layer_path, zone_path
from .style import BASE_FACE, EPCI_FACE, FONT, MapFigure, NoGeometry, TERRITORY_FACE, TITLE_BAND, _wrap


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
    for part in parts:  # NoGeometry for a zone the geometry lacks, before anything is looked up or drawn
        zone_path(geometry, layer, part)
    name = name or _name(geometry, layer, parts[0])
    epci = _epci_of(geometry, layer, parts)
    dep_code = geometry._layers["departement"].index[0]
    fig, ax = _map_axes(_bounds([layer_path(geometry, _small(geometry, "departement")[0])]), titled=show_title,
                        max_height=3.6)
    grid = _grid_of(ax, LOCATOR_PER)
    dep_layer, dep_grid = _small(geometry, "departement", grid)
    own_layer, own_grid = _small(geometry, layer, grid)
    epci_layer, epci_grid = _small(geometry, "epci", grid)
    zones = {dep_code: _add(ax, PathPatch(zone_path(geometry, dep_layer, dep_code, dep_grid),
                                              facecolor=BASE_FACE, edgecolor="#555555", linewidth=0.8))}
    if epci and layer != "epci":
        zones[epci] = _add(ax, PathPatch(zone_path(geometry, epci_layer, epci, epci_grid), facecolor=EPCI_FACE,
                                             edgecolor="none"))
    _add(ax, PathPatch(layer_path(geometry, epci_layer, grid=epci_grid), facecolor="none", edgecolor="#9a9a9a",
                       linewidth=0.4))
    communes = _communes_of_qpv(geometry, layer, parts)
    communes_layer, communes_grid = _small(geometry, "communes", grid)
    for commune in communes:  # a QPV is a speck at the département's scale: its communes show where it is
        zones[commune] = _add(ax, PathPatch(zone_path(geometry, communes_layer, commune, communes_grid),
                                            facecolor=COMMUNE_FACE, edgecolor="white", linewidth=0.4))
    for part in parts:
        zones[part] = _add(ax, PathPatch(zone_path(geometry, own_layer, part, own_grid),
                                             facecolor=TERRITORY_FACE, edgecolor=TERRITORY_FACE, linewidth=0.6))
    if layer == "departement":
        # Seen on the page: a département filled dark hid its EPCI, which the alt text names.
        _add(ax, PathPatch(layer_path(geometry, epci_layer, grid=epci_grid), facecolor="none", edgecolor="white",
                           linewidth=0.6))
    title = f"Localisation : {name}"
    _locator_legend(fig, name, geometry, epci if layer != "epci" else None, dep_code,
                    own=layer == "departement", communes=communes)
    _finish(fig, ax, title if show_title else None)
    return MapFigure(fig, title, _locator_alt(geometry, name, epci, layer, dep_code, communes), zones)


def _small(geometry: Geometry, layer: str, grid: int = 0) -> tuple[str, int]:
    """The layer to draw at the locator's scale, and its vertex grid.

    The packaged geometry holds ``<layer>_locator``, simplified for this map at build
    time (``scripts/build_geometry.py``), drawn as it is; imported contours have none
    and are snapped to ``grid`` instead.
    """
    small = f"{layer}_{LOCATOR_SUFFIX}"
    return (small, 0) if geometry.has_layer(small) else (layer, grid)


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


COMMUNE_FACE = "#5f8f96"
"""A QPV's communes on its locator map: between the EPCI's light and the territory's dark."""


def _communes_of_qpv(geometry: Geometry, layer: str, parts: list[str]) -> list[str]:
    """The communes a QPV lies in (none for another territory)."""
    if layer != "qpv" or not geometry.has_layer("communes"):
        return []
    known = geometry._layers["communes"].index
    return [c for c in geometry._layers["qpv"].at[parts[0], "communes"] if c in known]


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
                    own: bool = False, communes: Sequence[str] = ()) -> None:
    handles = [Patch(facecolor=TERRITORY_FACE, label=_wrap(name))]
    if communes:
        handles.append(Patch(facecolor=COMMUNE_FACE, label=_wrap(_commune_names(geometry, communes))))
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


def _commune_names(geometry: Geometry, communes: Sequence[str]) -> str:
    names = [_name(geometry, "communes", c) for c in communes]
    return ("Commune : " if len(names) == 1 else "Communes : ") + " et ".join(names)


def _locator_alt(geometry: Geometry, name: str, epci: str | None, layer: str, dep: str,
                 communes: Sequence[str] = ()) -> str:
    dep_name = _of_departement(geometry, dep)
    within = f"au sein de {_name(geometry, 'epci', epci)} (en clair), " if epci and layer != "epci" else ""
    if communes:
        names = " et ".join(_name(geometry, "communes", c) for c in communes)
        within = f"dans {'la commune' if len(communes) == 1 else 'les communes'} de {names} (en moyen), {within}"
    if layer == "departement":
        return f"Carte de localisation : le département {dep_name} et ses intercommunalités."
    return f"Carte de localisation : {name} (en foncé) {within}dans le département {dep_name}."


def _of_departement(geometry: Geometry, dep: str) -> str:
    """``de l'Isère``, ``du Rhône``, ``de la Drôme`` (INSEE's TNCC article code)."""
    from ..geography import article_of, load_geography

    article = article_of(load_geography(), "departement", dep)
    return {2: "du ", 3: "de la ", 4: "des ", 5: "de l'"}.get(article, "de ") + _name(geometry, "departement", dep)


