"""Packaged map geometry: contours of Isère's communes, EPCI, IRIS and QPV, in Lambert-93.

Read once per process from the compact file derived by
``scripts/build_geometry.py`` (``data/geometry.json.gz``); the same format
holds contours a user imports with ``abs-report geo import``. Needs numpy and
pandas only: no GIS library at run time.

The file format (``abs-report-geometry/1``), a gzip JSON object::

    {"format": "abs-report-geometry/1",
     "meta": {"crs": "EPSG:2154", "unit": "m", "sources": [...], ...},
     "layers": {"communes": {"columns": [...], "rows": [[...], ...],
                             "shapes": [shape, ...]}, ...},
     "tables": {"qpv_iris": {"columns": [...], "rows": [...]}}}

A shape is a list of polygons, a polygon a list of rings (exterior first,
counter-clockwise; holes clockwise, so that the non-zero fill rule draws
them), a ring a flat list of integers in metres: the first point, then the
difference to each next point (``[x0, y0, dx1, dy1, ...]``), the closing
point left out. Differences keep the numbers short, which gzip rewards.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

FORMAT = "abs-report-geometry/1"
PACKAGED_FILE = "geometry.json.gz"
LAYERS = ("communes", "epci", "departement", "iris", "qpv")
ATTRIBUTION = "Fond de carte : IGN – INSEE, contours IRIS 2020 ; QPV : ANCT"


@dataclass(frozen=True, eq=False)
class Shape:
    """One zone's outline: polygons of rings, coordinates in metres (Lambert-93).

    Attributes
    ----------
    polygons : tuple of tuple of numpy.ndarray
        Each ring an ``(n, 2)`` read-only array, not repeating its first point.
    """

    polygons: tuple[tuple[np.ndarray, ...], ...]

    @property
    def rings(self) -> tuple[np.ndarray, ...]:
        """Every ring, exteriors and holes, in file order."""
        return tuple(ring for polygon in self.polygons for ring in polygon)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in metres."""
        points = np.concatenate(self.rings)
        return (*points.min(axis=0), *points.max(axis=0))

    @cached_property
    def area(self) -> float:
        """Area in square metres (holes count negative through their orientation)."""
        return float(sum(_signed_area(ring) for ring in self.rings))

    def representative_point(self) -> tuple[float, float]:
        """A point for a label: the vertex mean of the largest polygon's exterior."""
        largest = max(self.polygons, key=lambda polygon: _signed_area(polygon[0]))
        x, y = largest[0].mean(axis=0)
        return float(x), float(y)


def _signed_area(ring: np.ndarray) -> float:
    """Shoelace area, positive for a counter-clockwise ring."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def encode_ring(points: np.ndarray) -> list[int]:
    """Integer metres, first point then differences; the closing point dropped."""
    ints = np.rint(np.asarray(points, dtype=float)).astype(np.int64)
    if len(ints) > 1 and (ints[0] == ints[-1]).all():
        ints = ints[:-1]
    deltas = np.vstack([ints[:1], np.diff(ints, axis=0)])
    return deltas.ravel().tolist()


def decode_ring(values: list[int]) -> np.ndarray:
    """Inverse of :func:`encode_ring`: an ``(n, 2)`` float array, read-only."""
    ring = np.cumsum(np.asarray(values, dtype=np.int64).reshape(-1, 2), axis=0).astype(float)
    ring.flags.writeable = False
    return ring


def decode_shape(polygons: list[list[list[int]]]) -> Shape:
    """A :class:`Shape` from its file form."""
    return Shape(tuple(tuple(decode_ring(ring) for ring in polygon) for polygon in polygons))


def dump(payload: dict) -> bytes:
    """The file's bytes: compact JSON, gzip without a timestamp (same input, same bytes)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


@dataclass(frozen=True, eq=False)
class Geometry:
    """Map layers of one geometry file, as read-only tables.

    Each layer is a DataFrame indexed by zone code with a ``shape`` column of
    :class:`Shape` objects. Accessors return shallow copies (copy-on-write):
    a caller may change its copy without touching the cached one.
    """

    _layers: Mapping[str, pd.DataFrame]
    _tables: Mapping[str, pd.DataFrame]
    meta: Mapping[str, object]

    def layer(self, name: str) -> pd.DataFrame:
        """The layer ``name`` (``communes``, ``epci``, ``departement``, ``iris``, ``qpv``).

        Raises
        ------
        KeyError
            When this file has no such layer.
        """
        return self._layers[name].copy(deep=False)

    def has_layer(self, name: str) -> bool:
        """Whether the file holds the layer ``name``."""
        return name in self._layers

    @property
    def communes(self) -> pd.DataFrame:
        """Communes: ``name``, ``epci``, ``population``, ``shape``."""
        return self.layer("communes")

    @property
    def epci(self) -> pd.DataFrame:
        """EPCI (their Isère part): ``name``, ``type``, ``partial``, ``shape``."""
        return self.layer("epci")

    @property
    def departement(self) -> pd.DataFrame:
        """The département outline: ``name``, ``shape``."""
        return self.layer("departement")

    @property
    def iris(self) -> pd.DataFrame:
        """IRIS 2020: ``commune``, ``iris`` (4 digits), ``name``, ``type`` (H, A, D, Z), ``shape``."""
        return self.layer("iris")

    @property
    def qpv(self) -> pd.DataFrame:
        """QPV 2024: ``name``, ``communes`` (tuple of codes), ``epci``, ``surface_ha``, ``shape``."""
        return self.layer("qpv")

    @property
    def qpv_iris(self) -> pd.DataFrame:
        """QPV ∩ IRIS pieces: ``qpv``, ``iris``, ``area_m2``, ``share_of_iris``, ``share_of_qpv``.

        Computed by the build script on the source perimeters; pieces under 1 % of
        both the IRIS and the QPV (generalisation slivers) and pieces in a commune
        that is not one of the QPV's are left out.
        """
        return self._tables["qpv_iris"].copy(deep=False)


def parse(payload: dict) -> Geometry:
    """A :class:`Geometry` from a decoded file.

    Raises
    ------
    ValueError
        When the payload is not in the ``abs-report-geometry/1`` format.
    """
    if payload.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} file: format {payload.get('format')!r}")
    layers = {}
    for name, layer in payload["layers"].items():
        frame = pd.DataFrame(layer["rows"], columns=layer["columns"])
        if "communes" in frame.columns:
            frame["communes"] = [tuple(codes) for codes in frame["communes"]]
        frame["shape"] = [decode_shape(shape) for shape in layer["shapes"]]
        layers[name] = frame.set_index("code")
    tables = {name: pd.DataFrame(table["rows"], columns=table["columns"])
              for name, table in payload.get("tables", {}).items()}
    return Geometry(MappingProxyType(layers), MappingProxyType(tables),
                    MappingProxyType(payload["meta"]))


def read_geometry(path: Path) -> Geometry:
    """A geometry file written by the build script or by ``abs-report geo import``."""
    return parse(json.loads(gzip.decompress(Path(path).read_bytes())))


@cache
def load_geometry() -> Geometry:
    """The packaged geometry of Isère (read once per process)."""
    raw = resources.files("abs_report.data").joinpath(PACKAGED_FILE).read_bytes()
    return parse(json.loads(gzip.decompress(raw)))


@cache
def geometry_of(folder: str = "") -> Geometry:
    """The geometry a report's maps use: a folder written by ``abs-report geo import``, else the packaged one.

    Read once per process and folder (a batch's reports share it).
    """
    return read_geometry(Path(folder) / PACKAGED_FILE) if folder else load_geometry()


def covers(geometry: Geometry, level: str, code: str, members: tuple[str, ...] = ()) -> bool:
    """Whether a locator map of the territory can be drawn (its zones and the département's outline)."""
    if not (geometry.has_layer("departement") and geometry.has_layer("communes")):
        return False
    layer = {"commune": "communes", "epci": "epci", "departement": "departement",
             "aggregation": "communes", "qpv": "qpv"}.get(level)
    if layer is None or not geometry.has_layer(layer):
        return False
    codes = members if level == "aggregation" else (code,)
    return bool(codes) and all(c in geometry._layers[layer].index for c in codes)


def qpv_of_commune(geometry: Geometry, commune: str) -> tuple[str, ...]:
    """Codes of the QPV lying (partly) in a commune, in code order."""
    if not geometry.has_layer("qpv"):
        return ()
    table = geometry._layers["qpv"]
    return tuple(sorted(code for code, communes in table["communes"].items() if commune in communes))


def record(geometry: Geometry) -> dict:
    """What a report's manifest says of the contours its maps use: sources, vintage, projection."""
    meta = dict(geometry.meta)
    keep = ("crs", "sources", "attribution", "tolerance_m", "built_with", "format")
    return {k: meta[k] for k in keep if k in meta} | {"layers": sorted(geometry._layers)}


def iris_label(code: str, geometry: Geometry | None = None) -> str:
    """An IRIS as a reader knows it: ``Arlequin (0604)``.

    Parameters
    ----------
    code : str
        The 9-character IRIS code (commune code + 4 digits).
    geometry : Geometry, optional
        Where to look the name up; the packaged geometry by default.

    Returns
    -------
    str
        The IRIS name and its 4-digit code within the commune; ``IRIS 0604``
        when the name is unknown (an IRIS outside the packaged territory).
    """
    table = (geometry or load_geometry())._layers.get("iris")
    if table is not None and code in table.index:
        return f"{table.at[code, 'name']} ({code[5:]})"
    return f"IRIS {code[5:]}"


def qpv_name(code: str, geometry: Geometry | None = None) -> str:
    """The name of a quartier prioritaire: ``QN03806M`` -> ``Mistral Lys Rouge Camine``.

    Returns the code itself when the QPV is not in the packaged list.
    """
    table = (geometry or load_geometry())._layers.get("qpv")
    if table is not None and code in table.index:
        return str(table.at[code, "name"])
    return code


__all__ = ["ATTRIBUTION", "Geometry", "Shape", "covers", "geometry_of", "iris_label", "load_geometry",
           "qpv_name", "qpv_of_commune", "read_geometry", "record"]
