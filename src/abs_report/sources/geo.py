"""User contours (GeoJSON) for maps outside the packaged territory.

``abs-report geo import`` reads a GeoJSON FeatureCollection of communes or
IRIS, validates every feature against the COG, projects it to Lambert-93 and
writes it in the packaged geometry format (``abs_report.geometry``). The file
is untrusted: its size and number of features are capped, property values are
kept as text, nothing in it is used as a path, and every problem names the
file, the feature (``entité n°``, counted from 1), the field and the value.
Nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..geography import Geography, load_geography
from ..geometry import FORMAT, PACKAGED_FILE, dump, encode_ring
from ..projection import to_lambert93

MAX_BYTES = 200 * 1024 * 1024
MAX_FEATURES = 100_000
MAX_REPORTED = 50  # problems listed before "… et N autres"
MAX_NAME = 200
GRID_M = 5.0  # metres: vertices snap to this grid, so shared borders stay shared and dense lines thin out
LEVELS = {"commune": ("communes", 5), "iris": ("iris", 9)}
POLYGONS = ("Polygon", "MultiPolygon")
_SPACES = re.compile(r"\s+")


class _Feature(Exception):
    """One problem of one feature (caught and collected)."""

    def __init__(self, message: str, field: str | None = None, value: object = None):
        super().__init__(message)
        self.message, self.field, self.value = message, field, value


def import_contours(path: Path, level: str, code_field: str, into: Path,
                    name_field: str | None = None, geography: Geography | None = None) -> Path:
    """Validate ``path`` and write its contours into ``into/geometry.json.gz``.

    Parameters
    ----------
    path : Path
        A GeoJSON FeatureCollection of Polygon or MultiPolygon features, WGS84.
    level : {"commune", "iris"}
        What the features are.
    code_field, name_field : str
        Property holding the zone code; optional property holding its name.
    into : Path
        Folder to write to (created; its geometry file replaced atomically).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        On any problem; nothing is written then.
    """
    geography = geography or load_geography()
    raw = _read(path)
    features = _features(path, raw)
    rows, problems, seen = [], [], {}
    for index, item in enumerate(features, start=1):
        try:
            rows.append(_feature(item, level, code_field, name_field, geography, seen, index))
        except _Feature as exc:
            problems.append(Problem(f"{path}, entité n° {index}", exc.message, field=exc.field, value=exc.value))
    if problems:
        raise InputError(_capped(problems, path))
    payload = _payload(rows, level, path, raw, code_field, name_field)
    return _write_atomically(into, dump(payload))


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(Problem(str(path), f"fichier illisible ({exc.strerror})")) from None
    if size > MAX_BYTES:
        raise InputError(Problem(str(path), f"fichier trop volumineux ({size / 1e6:.0f} Mo ; "
                                            f"limite {MAX_BYTES / 1e6:.0f} Mo)"))
    return path.read_bytes()


def _features(path: Path, raw: bytes) -> list:
    """The features of a FeatureCollection, or an error naming what the file is instead."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(Problem(str(path), "le fichier n'est pas encodé en UTF-8")) from None
    except json.JSONDecodeError as exc:
        raise InputError(Problem(str(path), f"JSON invalide : {exc.msg} (colonne {exc.colno})",
                                 line=exc.lineno)) from None
    except RecursionError:
        raise InputError(Problem(str(path), "JSON invalide : imbrication trop profonde")) from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise InputError(Problem(str(path), "un GeoJSON de type 'FeatureCollection' avec une liste "
                                            "'features' est attendu", field="type", value=_text(kind)))
    crs = json.dumps(data.get("crs", "")) if "crs" in data else ""
    if crs and not re.search(r"CRS84|4326", crs):
        raise InputError(Problem(str(path), "les coordonnées doivent être en WGS84 (EPSG:4326) ; "
                                            "reprojetez le fichier", field="crs", value=_text(crs)))
    features = data["features"]
    if len(features) > MAX_FEATURES:
        raise InputError(Problem(str(path), f"{len(features)} entités : trop nombreuses "
                                            f"(limite {MAX_FEATURES})"))
    if not features:
        raise InputError(Problem(str(path), "aucune entité dans 'features'"))
    return features


def _feature(item, level: str, code_field: str, name_field: str | None, geography: Geography,
             seen: dict[str, int], index: int) -> list:
    """One validated feature as ``[code, name, shape]``; raises :class:`_Feature`."""
    if not isinstance(item, dict) or item.get("type") != "Feature":
        kind = item.get("type") if isinstance(item, dict) else type(item).__name__
        raise _Feature("une entité GeoJSON (type 'Feature') est attendue", "type", _text(kind))
    properties = item.get("properties") if isinstance(item.get("properties"), dict) else {}
    code = _code(properties, code_field, level, geography)
    if code in seen:
        raise _Feature(f"code en double (déjà celui de l'entité n° {seen[code]})", code_field, code)
    seen[code] = index
    name = _name(properties, name_field) if name_field else None
    return [code, name, _shape(item.get("geometry"))]


def _code(properties: dict, field: str, level: str, geography: Geography) -> str:
    if field not in properties:
        raise _Feature(f"champ absent (champs présents : {', '.join(map(_text, list(properties)[:10])) or 'aucun'})",
                       field)
    value = properties[field]
    width = LEVELS[level][1]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value).zfill(width)  # a numeric export drops leading zeros (01001 -> 1001)
    if not isinstance(value, str):
        raise _Feature("le code doit être un texte", field, _text(value))
    code = value.strip().upper()
    commune = code[:5]
    if level == "iris" and not (len(code) == 9 and code[5:].isdigit()):
        raise _Feature("code IRIS attendu : 9 caractères, la commune (5) puis 4 chiffres", field, value)
    if commune not in geography.communes.index or (level == "commune" and len(code) != 5):
        current = geography.current_commune_code(commune) if len(commune) == 5 else None
        if current and current != commune:
            raise _Feature(f"ancien code de commune, aujourd'hui {current} "
                           f"({geography.communes.at[current, 'name']})", field, value)
        # Close codes of the same département only: difflib would offer 89399 for 38999.
        hint = [h for h in geography.suggest("commune", commune) if h[:2] == commune[:2]]
        what = "code commune" if level == "commune" else f"commune {commune} du code IRIS"
        raise _Feature(f"{what} inconnu du COG" + (f" ; proches : {', '.join(hint)}" if hint else ""),
                       field, value)
    return code


def _name(properties: dict, field: str) -> str:
    value = properties.get(field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Feature("nom absent ou vide", field, _text(value))
    # Text only: control characters and line breaks become spaces; length capped.
    return _SPACES.sub(" ", "".join(c if c.isprintable() else " " for c in value)).strip()[:MAX_NAME]


def _shape(geometry) -> list:
    """A validated (Multi)Polygon, projected, snapped and encoded."""
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONS:
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise _Feature("géométrie 'Polygon' ou 'MultiPolygon' attendue", "geometry.type", _text(kind))
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise _Feature("coordonnées absentes", "geometry.coordinates")
    shape = [p for p in (_polygon(polygon) for polygon in polygons) if p]
    if not shape:
        raise _Feature(f"contour vide une fois projeté (moins de 3 points distincts à {GRID_M:g} m près)",
                       "geometry.coordinates")
    return shape


def _polygon(rings) -> list:
    if not isinstance(rings, list) or not rings:
        raise _Feature("un polygone est une liste d'anneaux", "geometry.coordinates")
    encoded = []
    for position, ring in enumerate(rings):
        points = _ring(ring)
        if points is None:
            if position == 0:
                return []  # an exterior that collapses: the whole polygon is too small to draw
            continue
        # Exterior counter-clockwise, holes clockwise: the non-zero fill rule then draws holes.
        if (_signed_area(points) > 0) != (position == 0):
            points = points[::-1]
        encoded.append(encode_ring(points))
    return encoded


def _ring(ring) -> np.ndarray | None:
    """A ring's projected points on the grid, or None when it collapses."""
    try:
        lonlat = np.array(ring, dtype=float)
    except (TypeError, ValueError):
        lonlat = None
    if lonlat is None or lonlat.ndim != 2 or lonlat.shape[1] not in (2, 3) or len(lonlat) < 4:
        raise _Feature("anneau mal formé : au moins 4 positions [longitude, latitude] attendues",
                       "geometry.coordinates", _text(ring))
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    if not (np.isfinite(lonlat).all() and (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all()):
        bad = lonlat[~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))][:1].tolist() or lonlat[:1].tolist()
        raise _Feature("coordonnées hors des bornes WGS84 (longitude −180 à 180, latitude −90 à 90) : "
                       "le fichier semble projeté ; exportez-le en WGS84 (EPSG:4326)",
                       "geometry.coordinates", _text(bad[0]))
    x, y = to_lambert93(lon, lat)
    points = np.rint(np.column_stack([x, y]) / GRID_M) * GRID_M
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = (np.diff(points, axis=0) != 0).any(axis=1)
    points = points[keep]
    if len(points) > 1 and (points[0] == points[-1]).all():
        points = points[:-1]
    if len(points) < 3 or _signed_area(points) == 0:
        return None
    return points


def _signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _text(value: object, limit: int = 80) -> str:
    """A value from the file as short text for a message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _capped(problems: list[Problem], path: Path) -> list[Problem]:
    if len(problems) <= MAX_REPORTED:
        return problems
    more = len(problems) - MAX_REPORTED
    return problems[:MAX_REPORTED] + [Problem(str(path), f"… et {more} autres problèmes")]


def _payload(rows: list[list], level: str, path: Path, raw: bytes, code_field: str,
             name_field: str | None) -> dict:
    layer_name = LEVELS[level][0]
    rows = sorted(rows, key=lambda row: row[0])
    geography = load_geography()
    if level == "commune":
        columns = ["code", "name"]
        table = [[code, name or str(geography.communes.at[code, "name"])] for code, name, _ in rows]
    else:
        columns = ["code", "commune", "iris", "name"]
        table = [[code, code[:5], code[5:], name or f"IRIS {code[5:]}"] for code, name, _ in rows]
    meta = {"crs": "EPSG:2154", "unit": "m", "grid_m": GRID_M, "imported_by": "abs-report geo import",
            "sources": [{"layer": layer_name, "title": "contours importés par l'utilisateur",
                         "file": path.name, "sha256": hashlib.sha256(raw).hexdigest(),
                         "code_field": code_field, "name_field": name_field}]}
    return {"format": FORMAT, "meta": meta,
            "layers": {layer_name: {"columns": columns, "rows": table, "shapes": [r[2] for r in rows]}}}


def _write_atomically(into: Path, content: bytes) -> Path:
    """Write into a temporary file beside the target, then rename over it."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / PACKAGED_FILE
    handle, temporary = tempfile.mkstemp(dir=into, prefix=".geometry-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


__all__ = ["import_contours", "MAX_BYTES", "MAX_FEATURES"]
