"""The packaged map geometry agrees with the packaged COG, and names IRIS and QPV."""

from __future__ import annotations

import csv
import importlib.util
import sys

import numpy as np
import pytest

from abs_report.geometry import iris_label, load_geometry, qpv_name
from abs_report.projection import to_lambert93
from conftest import REPO

DATA = REPO / "src" / "abs_report" / "data"
SHARED_GEO = REPO.parent / "shared" / "geo"


@pytest.fixture(scope="module")
def geometry():
    return load_geometry()


@pytest.fixture(scope="module")
def shared_geo():
    if not (SHARED_GEO / "iris_38_2020.geojson").is_file():
        pytest.skip(f"reference geography not found at {SHARED_GEO} (the shared folder sits beside the checkout)")
    return SHARED_GEO


def test_lambert93_matches_proj_reference_points():
    # Reference values from PROJ (pyproj 3.7, EPSG:4326 -> EPSG:2154); the origin is IGN's definition.
    x, y = to_lambert93([3.0, 5.7245, -4.5], [46.5, 45.1885, 48.4])
    assert np.allclose(x, [700000.0, 913924.1011745431, 145709.78894982324], atol=1e-3)
    assert np.allclose(y, [6600000.0, 6458045.15801285, 6837422.082614361], atol=1e-3)


def test_communes_are_the_cog_communes_of_isere(geometry, geography):
    cog = geography.communes[geography.communes["departement"] == "38"]
    communes = geometry.communes
    assert len(communes) == 512
    assert set(communes.index) == set(cog.index)
    assert (communes["epci"] == cog.loc[communes.index, "epci"]).all()


def test_epci_are_the_18_cog_epci_of_isere(geometry, geography):
    epci = geometry.epci
    assert len(epci) == 18
    assert set(epci.index) == set(geography.epcis_of_departement("38"))


def test_every_iris_code_starts_with_its_commune(geometry, geography):
    iris = geometry.iris
    assert len(iris) == 728
    assert all(code[:5] == commune for code, commune in zip(iris.index, iris["commune"]))
    assert set(iris["commune"]) == set(geometry.communes.index)
    assert set(iris["type"]) <= {"H", "A", "D", "Z"}
    assert (iris.loc[iris["type"] == "Z"].index.str.endswith("0000")).all()


def test_each_communes_iris_partition_it(geometry):
    # Same area (the IRIS cover the commune) and no IRIS outside it (bounds inside).
    communes, iris = geometry.communes, geometry.iris
    areas = iris["shape"].map(lambda s: s.area).groupby(iris["commune"]).sum()
    commune_areas = communes["shape"].map(lambda s: s.area)
    assert np.allclose(areas.loc[commune_areas.index], commune_areas, rtol=1e-9)
    for code, shape in iris["shape"].items():
        xmin, ymin, xmax, ymax = communes.at[code[:5], "shape"].bounds
        bx0, by0, bx1, by1 = shape.bounds
        assert xmin <= bx0 and ymin <= by0 and bx1 <= xmax and by1 <= ymax, code


def test_shapes_are_in_lambert93_metres(geometry):
    xmin, ymin, xmax, ymax = geometry.departement["shape"].iloc[0].bounds
    # Isère spans about 4.7-6.4°E, 44.7-45.9°N.
    assert 820_000 < xmin < xmax < 980_000 and 6_390_000 < ymin < ymax < 6_540_000
    assert 7.4e9 < geometry.departement["shape"].iloc[0].area < 8.2e9  # about 7 900 km² in square metres


def test_24_qpv_with_their_communes(geometry, geography):
    qpv = geometry.qpv
    assert len(qpv) == 24
    assert qpv.at["QN03817M", "communes"] == ("38298", "38344")
    assert qpv.at["QN03818M", "communes"] == ("38298", "38344")
    assert qpv.at["QN03823M", "communes"] == ("38318", "38544")
    assert sum(len(c) == 2 for c in qpv["communes"]) == 3
    assert all(set(c) <= set(geography.communes.index) for c in qpv["communes"])


def test_qpv_iris_pieces_lie_in_the_qpv_communes(geometry):
    pieces, qpv = geometry.qpv_iris, geometry.qpv
    assert set(pieces["qpv"]) == set(qpv.index)
    for row in pieces.itertuples():
        assert row.iris[:5] in qpv.at[row.qpv, "communes"]
        assert 0 < row.share_of_iris <= 1 and 0 < row.share_of_qpv <= 1
        assert row.share_of_iris >= 0.01 or row.share_of_qpv >= 0.01
    # The pieces of a QPV cover (nearly) all of it: only slivers were dropped.
    assert (pieces.groupby("qpv")["share_of_qpv"].sum() > 0.95).all()
    # A two-commune QPV has pieces in both of its communes.
    assert {i[:5] for i in pieces.loc[pieces["qpv"] == "QN03823M", "iris"]} == {"38318", "38544"}


def test_metadata_records_sources_licence_and_vintage(geometry):
    meta = geometry.meta
    assert meta["crs"] == "EPSG:2154"
    text = str(meta["sources"])
    for fact in ("IRIS", "2020", "COG 2026", "ANCT", "QP2024", "Licence Ouverte"):
        assert fact in text
    assert meta["attribution"] == "Fond de carte : IGN – INSEE, contours IRIS 2020 ; QPV : ANCT"


def test_packaged_file_stays_small():
    size = (DATA / "geometry.json.gz").stat().st_size
    assert size < 2_000_000, f"{size} bytes"


def test_iris_labels_are_real_names_with_their_code(geometry, shared_geo):
    with open(shared_geo / "iris_38_2020_libelles.csv", encoding="utf-8") as handle:
        names = {row["CODE_IRIS"]: row["LIB_IRIS"] for row in csv.DictReader(handle)}
    assert iris_label("381850604", geometry) == f"{names['381850604']} (0604)" == "Arlequin (0604)"
    assert iris_label("381850309", geometry) == "Mistral (0309)"
    assert iris_label("381850610", geometry) == "Village Olympique Sud (0610)"
    assert all(iris_label(code, geometry) == f"{name} ({code[5:]})" for code, name in names.items())


def test_unknown_iris_falls_back_on_its_code(geometry):
    assert iris_label("690010101", geometry) == "IRIS 0101"


def test_qpv_names(geometry):
    assert qpv_name("QN03806M", geometry) == "Mistral Lys Rouge Camine"
    assert qpv_name("QN03809M", geometry) == "Alma - Très Cloîtres - Chenoise"
    assert qpv_name("QN99999M", geometry) == "QN99999M"


def test_geometry_tables_are_read_only_for_callers(geometry):
    communes = geometry.communes
    communes["name"] = "changed"
    assert (load_geometry().communes["name"] != "changed").all()
    with pytest.raises(ValueError):
        geometry.communes["shape"].iloc[0].rings[0][0, 0] = 0.0


def test_build_script_reproduces_the_packaged_file(shared_geo, tmp_path):
    pytest.importorskip("shapely", reason="shapely builds the geometry (build-time tool)")
    spec = importlib.util.spec_from_file_location("build_geometry", REPO / "scripts" / "build_geometry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_geometry"] = module
    spec.loader.exec_module(module)
    out = tmp_path / "geometry.json.gz"
    module.build(shared_geo, out)
    assert out.read_bytes() == (DATA / "geometry.json.gz").read_bytes()


LOCATOR = {"communes": "communes_locator", "epci": "epci_locator", "departement": "departement_locator"}


def _points(shape) -> set[tuple[float, float]]:
    return {tuple(p) for ring in shape.rings for p in ring}


@pytest.mark.parametrize("layer", list(LOCATOR))
def test_locator_layers_hold_every_zone_simplified(geometry, layer):
    """The locator's layers: the same zones, fewer points, each within the tolerance of its detailed outline."""
    detailed, small = geometry._layers[layer], geometry._layers[LOCATOR[layer]]
    assert list(small.index) == list(detailed.index)
    tolerance = geometry.meta["tolerance_m"]["locator"]
    assert 0 < tolerance <= 500  # at most a point on the locator (Isère at some 540 m a point)
    assert sum(len(_points(s)) for s in small["shape"]) < 0.5 * sum(len(_points(s)) for s in detailed["shape"])
    for code, shape in small["shape"].items():
        full = detailed.at[code, "shape"]
        assert shape.area > 0
        # GEOS simplifies a coverage by triangle areas (Visvalingam-Whyatt): the tolerance is a
        # scale, not a strict bound; twice it is still a point on the locator.
        assert np.allclose(shape.bounds, full.bounds, atol=2 * tolerance)
        assert abs(shape.area - full.area) < 0.25 * full.area


def test_locator_layers_share_their_borders(geometry):
    """EPCI and département of the locator are unions of its communes: every vertex is a commune's vertex."""
    communes = geometry._layers["communes_locator"]["shape"]
    every = set().union(*(_points(s) for s in communes))
    dep = geometry._layers["departement_locator"]["shape"].iloc[0]
    assert _points(dep) <= every
    xmin, ymin, xmax, ymax = dep.bounds
    for code, shape in communes.items():
        x0, y0, x1, y1 = shape.bounds
        assert xmin <= x0 and x1 <= xmax and ymin <= y0 and y1 <= ymax, code
    members = geometry._layers["communes"]["epci"]
    for code, shape in geometry._layers["epci_locator"]["shape"].items():
        own = set().union(*(_points(communes[c]) for c in members.index[members == code]))
        assert _points(shape) <= own, code
