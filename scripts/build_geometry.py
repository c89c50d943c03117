"""Rebuild ``src/abs_report/data/geometry.json.gz`` from the reference geography of Isère.

The sources are the open files in ``../shared/geo`` (see its README): IGN – INSEE
CONTOURS-IRIS 2020 with the IRIS names, commune and EPCI membership from the COG
2026, ANCT's QP2024 perimeters. Run from the project root::

    .venv/bin/python scripts/build_geometry.py                 # reads ../shared/geo
    .venv/bin/python scripts/build_geometry.py --source DIR --output FILE

Build-time only: shapely cleans and simplifies the contours here; the product
reads the derived file with numpy alone (``abs_report.geometry``).

What it does:

1. projects every contour to Lambert-93 (``abs_report.projection``, the same
   formulas ``abs-report geo import`` uses);
2. cleans the IRIS layer into an exact coverage (the source, rebuilt from
   vector tiles, has sub-metre gaps and overlaps between neighbours), then
   simplifies it as a coverage (shared borders stay shared) at ``TOLERANCE``
   metres and rounds to the metre;
3. derives communes, EPCI (their Isère part) and the département as unions of
   those IRIS, so that every layer's borders coincide;
4. derives the locator's layers (``communes_locator``, ``epci_locator``,
   ``departement_locator``): the communes simplified again as a coverage at
   ``LOCATOR_TOLERANCE`` metres, the EPCI and the département as their unions.
   Every report's locator map draws the whole département at some 540 m to the
   point: at 20 m its outlines were 45 KB of SVG in every report;
5. simplifies the QPV perimeters on their own (``QPV_TOLERANCE``);
6. computes the QPV ∩ IRIS pieces on the unsimplified contours;
7. checks every code against the packaged COG and stops on any mismatch.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from abs_report.geography import load_geography  # noqa: E402
from abs_report.geometry import ATTRIBUTION, FORMAT, dump, encode_ring  # noqa: E402
from abs_report.projection import to_lambert93  # noqa: E402

SOURCE = ROOT.parent / "shared" / "geo"
OUTPUT = ROOT / "src" / "abs_report" / "data" / "geometry.json.gz"
TOLERANCE = 20.0  # metres: 0.1 mm on an A4 map of Grenoble (1:50 000), invisible
QPV_TOLERANCE = 5.0  # metres: a QPV is a few hundred metres across
LOCATOR_TOLERANCE = 250.0  # metres: half a point on the locator map (Isère, 139 km on 3.6 in: 540 m a point)
LOCATOR_LAYERS = ("communes", "epci", "departement")
"""Layers drawn on the locator map, each also packaged as ``<name>_locator``."""
GAP_WIDTH = 5.0  # metres: source gaps narrower than this are closed by the cleaning
SLIVER = 0.01  # a QPV ∩ IRIS piece under 1 % of both is a generalisation artefact
DEPARTEMENT = "38"
FILES = ("iris_38_2020.geojson", "iris_38_2020_libelles.csv", "qpv_38_2024.geojson",
         "epci_38.geojson", "departement_38.geojson", "communes_38.geojson")
SOURCES = [
    {"layer": "iris, communes, epci, departement",
     "producer": "IGN – INSEE", "title": "CONTOURS-IRIS", "vintage": "édition 2020",
     "licence": "Licence Ouverte / Etalab 2.0",
     "note": "contours généralisés (environ 15 m) ; communes, EPCI et département : union des IRIS"},
    {"layer": "communes, epci",
     "producer": "INSEE – DGCL", "title": "Code officiel géographique (COG 2026)",
     "vintage": "COG 2026", "licence": "Licence Ouverte / Etalab 2.0",
     "note": "appartenance des communes aux EPCI, via @etalab/decoupage-administratif 6.0.0"},
    {"layer": "qpv", "producer": "ANCT", "title": "Quartiers prioritaires de la politique de la ville (QP2024)",
     "vintage": "QP2024 (décret 2023-1314)", "licence": "Licence Ouverte / Etalab 2.0",
     "note": "périmètres simplifiés"},
]


def project(geometry):
    """WGS84 longitude/latitude to Lambert-93 metres."""
    return shapely.transform(geometry, lambda c: np.column_stack(to_lambert93(c[:, 0], c[:, 1])))


def read_features(path: Path) -> list[tuple[dict, object]]:
    """(properties, projected shapely geometry) of each feature of a GeoJSON file."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    return [(f["properties"], project(shapely.geometry.shape(f["geometry"]))) for f in collection["features"]]


def simplify_coverage(polygons: np.ndarray) -> np.ndarray:
    """Clean into an exact coverage, simplify it as one, round to the metre."""
    clean = shapely.coverage_clean(polygons, gap_width=GAP_WIDTH, snapping_distance=1.0)
    simple = shapely.coverage_simplify(clean, TOLERANCE)
    rounded = shapely.set_precision(simple, 1.0, mode="pointwise")
    if not (shapely.coverage_is_valid(rounded) and shapely.is_valid(rounded).all()):
        raise SystemExit("the simplified IRIS are not a valid coverage")
    return rounded


def encode(geometry) -> list[list[list[int]]]:
    """A shapely (Multi)Polygon in the file's shape form, exteriors counter-clockwise."""
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    parts = getattr(oriented, "geoms", [oriented])
    return [[encode_ring(np.asarray(p.exterior.coords))] + [encode_ring(np.asarray(r.coords)) for r in p.interiors]
            for p in parts]


def _layer(columns: list[str], rows: list[list], geometries) -> dict:
    return {"columns": columns, "rows": rows, "shapes": [encode(g) for g in geometries]}


def iris_layer(source: Path, cog) -> tuple[dict, dict[str, object], dict[str, object]]:
    """The IRIS layer, and the simplified and source IRIS contours by code."""
    features = sorted(read_features(source / "iris_38_2020.geojson"), key=lambda f: f[0]["code_iris"])
    with open(source / "iris_38_2020_libelles.csv", encoding="utf-8", newline="") as handle:
        names = {row["CODE_IRIS"]: row for row in csv.DictReader(handle)}
    codes = [p["code_iris"] for p, _ in features]
    check(set(codes) == set(names), "IRIS codes of the contours and of the names differ")
    raw = np.array([g for _, g in features])
    simple = simplify_coverage(raw)
    rows = [[code, code[:5], code[5:], names[code]["LIB_IRIS"], names[code]["TYP_IRIS"]] for code in codes]
    for code, p in zip(codes, (p for p, _ in features)):
        check(p["insee_com"] == code[:5] == names[code]["DEPCOM"], f"IRIS {code}: commune mismatch")
        check(code[:5] in cog.communes.index, f"IRIS {code}: commune {code[:5]} unknown to the COG")
    layer = _layer(["code", "commune", "iris", "name", "type"], rows, simple)
    return layer, dict(zip(codes, simple)), dict(zip(codes, raw))


def commune_layers(iris: dict[str, object], cog, source: Path) -> tuple[dict, dict, dict]:
    """Communes, EPCI and département as unions of the simplified IRIS."""
    communes = cog.communes[cog.communes["departement"] == DEPARTEMENT].sort_index()
    by_commune = {code: [g for c, g in iris.items() if c[:5] == code] for code in communes.index}
    check(all(by_commune.values()), "a COG commune of Isère has no IRIS")
    commune_shapes = {code: shapely.coverage_union_all(parts) for code, parts in by_commune.items()}
    rows = [[code, r["name"], r["epci"], int(r["population"])] for code, r in communes.iterrows()]
    commune_layer = _layer(["code", "name", "epci", "population"], rows, commune_shapes.values())
    reference = {p["siren_epci"]: p for p, _ in read_features(source / "epci_38.geojson")}
    epci_codes = sorted(set(communes["epci"]) - {""})
    check(set(epci_codes) == set(reference), "EPCI of the COG and of the source differ")
    epci_rows, epci_shapes = [], []
    for code in epci_codes:
        members = communes.index[communes["epci"] == code]
        epci_rows.append([code, cog.epcis.at[code, "name"], cog.epcis.at[code, "type"],
                          bool(reference[code]["partiel_isere"])])
        epci_shapes.append(shapely.coverage_union_all([commune_shapes[c] for c in members]))
    epci_layer = _layer(["code", "name", "type", "partial"], epci_rows, epci_shapes)
    dep = shapely.coverage_union_all(list(commune_shapes.values()))
    dep_layer = _layer(["code", "name"], [[DEPARTEMENT, cog.departements.at[DEPARTEMENT, "name"]]], [dep])
    return commune_layer, epci_layer, dep_layer


def locator_layers(communes: dict, epci: dict) -> dict[str, dict]:
    """The locator's communes, EPCI and département, simplified at ``LOCATOR_TOLERANCE`` as one coverage.

    Read from the packaged layers (their integer metres), so that the detailed and
    the locator layers always come from the same contours.
    """
    from abs_report.geometry import decode_shape

    def polygon(shape) -> object:
        return shapely.union_all([shapely.Polygon(p[0], p[1:]) for p in decode_shape(shape).polygons])

    codes = [row[0] for row in communes["rows"]]
    simple = shapely.coverage_simplify(np.array([polygon(s) for s in communes["shapes"]]), LOCATOR_TOLERANCE)
    rounded = shapely.set_precision(simple, 1.0, mode="pointwise")
    check(bool(shapely.coverage_is_valid(rounded)) and bool(shapely.is_valid(rounded).all())
          and not shapely.is_empty(rounded).any(), "the locator's communes are not a valid coverage")
    by_code = dict(zip(codes, rounded))
    members = {row[0]: [c for c, e in zip(codes, (r[2] for r in communes["rows"])) if e == row[0]]
               for row in epci["rows"]}
    return {
        "communes_locator": _layer(["code"], [[c] for c in codes], rounded),
        "epci_locator": _layer(["code"], [[e] for e in members],
                               [shapely.coverage_union_all([by_code[c] for c in m]) for m in members.values()]),
        "departement_locator": _layer(["code"], [[DEPARTEMENT]], [shapely.coverage_union_all(list(rounded))]),
    }


def qpv_layer(source: Path, cog) -> tuple[dict, dict[str, object]]:
    """The QPV perimeters (simplified) and the source perimeters by code."""
    features = sorted(read_features(source / "qpv_38_2024.geojson"), key=lambda f: f[0]["code_qp"])
    rows, shapes, raw = [], [], {}
    for p, g in features:
        communes = tuple(sorted(c.strip() for c in p["insee_com"].split(",")))
        check(all(c in cog.communes.index for c in communes), f"QPV {p['code_qp']}: unknown commune")
        rows.append([p["code_qp"], p["lib_qp"], list(communes), p["siren_epci"], p["surface_ha"]])
        simple = shapely.set_precision(shapely.simplify(g, QPV_TOLERANCE, preserve_topology=True), 1.0)
        shapes.append(simple)
        raw[p["code_qp"]] = g
    return _layer(["code", "name", "communes", "epci", "surface_ha"], rows, shapes), raw


def qpv_iris_pieces(qpv: dict[str, object], qpv_communes: dict[str, tuple], iris: dict[str, object]) -> dict:
    """For each QPV, the IRIS it overlaps and the shares of the piece in each."""
    codes = list(iris)
    polygons = np.array([iris[c] for c in codes])
    areas = shapely.area(polygons)
    rows = []
    for code, perimeter in qpv.items():
        overlap = shapely.area(shapely.intersection(polygons, perimeter))
        for i in np.nonzero(overlap > 0)[0]:
            of_iris, of_qpv = overlap[i] / areas[i], overlap[i] / perimeter.area
            if codes[i][:5] in qpv_communes[code] and max(of_iris, of_qpv) >= SLIVER:
                rows.append([code, codes[i], round(float(overlap[i])), round(float(of_iris), 4),
                             round(float(of_qpv), 4)])
    return {"columns": ["qpv", "iris", "area_m2", "share_of_iris", "share_of_qpv"], "rows": rows}


def check(condition: bool, message: str) -> None:
    """Stop the build on a source that does not match the COG."""
    if not condition:
        raise SystemExit(f"build_geometry: {message}")


def build(source: Path = SOURCE, output: Path = OUTPUT) -> dict:
    """Derive the geometry file from ``source`` into ``output``; returns the payload."""
    cog = load_geography()
    iris, iris_simple, iris_raw = iris_layer(source, cog)
    communes, epci, departement = commune_layers(iris_simple, cog, source)
    check(len(communes["rows"]) == 512 and len(epci["rows"]) == 18, "expected 512 communes and 18 EPCI")
    qpv, qpv_raw = qpv_layer(source, cog)
    check(len(qpv["rows"]) == 24, "expected 24 QPV")
    qpv_communes = {row[0]: tuple(row[2]) for row in qpv["rows"]}
    meta = {
        "crs": "EPSG:2154", "unit": "m", "territory": "Isère (38)",
        "attribution": ATTRIBUTION, "sources": SOURCES,
        "tolerance_m": {"iris_communes_epci_departement": TOLERANCE, "qpv": QPV_TOLERANCE,
                        "locator": LOCATOR_TOLERANCE},
        "built_by": "scripts/build_geometry.py",
        "source_sha256": {name: hashlib.sha256((source / name).read_bytes()).hexdigest() for name in FILES},
    }
    payload = {"format": FORMAT, "meta": meta,
               "layers": {"communes": communes, "epci": epci, "departement": departement, "iris": iris,
                          "qpv": qpv, **locator_layers(communes, epci)},
               "tables": {"qpv_iris": qpv_iris_pieces(qpv_raw, qpv_communes, iris_raw)}}
    output.write_bytes(dump(payload))
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of the reference geography")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    payload = build(args.source, args.output)
    layers = ", ".join(f"{len(layer['rows'])} {name}" for name, layer in payload["layers"].items())
    print(f"{args.output}: {layers}, {len(payload['tables']['qpv_iris']['rows'])} QPV ∩ IRIS pieces, "
          f"{args.output.stat().st_size} bytes")


if __name__ == "__main__":
    main()
