"""``abs-report geo import``: user contours are validated, then written projected, or nothing is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from abs_report.cli import main
from abs_report.geometry import load_geometry, read_geometry
from conftest import REPO

SHARED_GEO = REPO.parent / "shared" / "geo"


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code, geometry=None, **properties) -> dict:
    return {"type": "Feature", "properties": {"CODE": code, **properties},
            "geometry": geometry or square(5.70, 45.17)}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def good_communes() -> dict:
    return collection(feature("38185", square(5.70, 45.17), NOM="Grenoble"),
                      feature("38151", square(5.71, 45.14), NOM="Échirolles"),
                      feature("38421", {"type": "MultiPolygon", "coordinates": [
                          square(5.75, 45.18)["coordinates"], square(5.77, 45.18)["coordinates"]]},
                          NOM="Saint-Martin-d'Hères"))


def write(tmp_path: Path, content, name: str = "contours.geojson") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def run(path: Path, into: Path, level: str = "commune", *extra: str) -> int:
    return main(["geo", "import", str(path), "--level", level, "--code-field", "CODE", "--into", str(into),
                 *extra])


def test_good_communes_import(tmp_path):
    into = tmp_path / "geo"
    assert run(write(tmp_path, good_communes()), into, "commune", "--name-field", "NOM") == 0
    geometry = read_geometry(into / "geometry.json.gz")
    communes = geometry.communes
    assert list(communes.index) == ["38151", "38185", "38421"]
    assert communes.at["38151", "name"] == "Échirolles"
    assert geometry.meta["crs"] == "EPSG:2154"
    # Projected: Grenoble's square lies where the packaged Grenoble is, about 790 m x 1 110 m.
    xmin, ymin, xmax, ymax = communes.at["38185", "shape"].bounds
    gx0, gy0, gx1, gy1 = load_geometry().communes.at["38185", "shape"].bounds
    assert gx0 < xmin < xmax < gx1 + 2000 and gy0 < ymin < ymax < gy1 + 2000
    assert 700 < xmax - xmin < 900 and 1000 < ymax - ymin < 1200
    assert len(communes.at["38421", "shape"].polygons) == 2
    assert not [p for p in into.iterdir() if p.name != "geometry.json.gz"]  # no temporary left


def test_names_default_to_the_cog(tmp_path):
    into = tmp_path / "geo"
    assert run(write(tmp_path, collection(feature("38185"))), into) == 0
    assert read_geometry(into / "geometry.json.gz").communes.at["38185", "name"] == "Grenoble"


def test_good_iris_import(tmp_path):
    into = tmp_path / "geo"
    data = collection(feature("381850604", NOM="Arlequin"), feature(381850309, square(5.72, 45.17), NOM="Mistral"))
    assert run(write(tmp_path, data), into, "iris", "--name-field", "NOM") == 0
    iris = read_geometry(into / "geometry.json.gz").iris
    assert iris.at["381850604", "name"] == "Arlequin"
    assert iris.at["381850309", "commune"] == "38185"


BAD_CASES = {
    "invalid_json": ('{"type": "FeatureCollection", "features": [\n{"type": ', "commune",
                     ["contours.geojson", "ligne 2", "JSON invalide"]),
    "not_a_collection": (feature("38185"), "commune", ["FeatureCollection", "'Feature'"]),
    "point": (collection(feature("38185"), feature("38151", {"type": "Point", "coordinates": [5.7, 45.1]})),
              "commune", ["entité n° 2", "geometry.type", "'Point'", "Polygon"]),
    "projected": (collection(feature("38185", square(913924.0, 6458045.0, 100.0))), "commune",
                  ["entité n° 1", "coordinates", "913924", "WGS84"]),
    "unknown_commune": (collection(feature("38185"), feature("38999")), "commune",
                        ["entité n° 2", "champ 'CODE'", "'38999'", "inconnu du COG"]),
    "former_commune": (collection(feature("38007")), "commune", ["'38007'", "38524"]),
    "unknown_iris_commune": (collection(feature("389990101")), "iris",
                             ["entité n° 1", "'CODE'", "'389990101'", "38999"]),
    "bad_iris_code": (collection(feature("38185AB01")), "iris", ["'38185AB01'", "9 caractères"]),
    "duplicate": (collection(feature("38185"), feature("38151"), feature("38185")), "commune",
                  ["entité n° 3", "'38185'", "double", "n° 1"]),
    "missing_field": (collection({"type": "Feature", "properties": {"INSEE": "38185"},
                                  "geometry": square(5.7, 45.17)}), "commune",
                      ["entité n° 1", "'CODE'", "absent"]),
    "broken_ring": (collection(feature("38185", {"type": "Polygon", "coordinates": [[[5.7, 45.1], [5.8]]]})),
                    "commune", ["entité n° 1", "coordinates"]),
    "code_not_text": (collection(feature(["38185"])), "commune", ["entité n° 1", "'CODE'", "texte"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_exits_2_names_it_and_writes_nothing(tmp_path, capsys, case):
    content, level, expected = BAD_CASES[case]
    into = tmp_path / "geo"
    assert run(write(tmp_path, content), into, level) == 2
    message = capsys.readouterr().err
    for text in expected:
        assert text in message, (text, message)
    assert not into.exists()


def test_bad_input_leaves_a_previous_import_untouched(tmp_path):
    into = tmp_path / "geo"
    assert run(write(tmp_path, good_communes()), into) == 0
    before = (into / "geometry.json.gz").read_bytes()
    assert run(write(tmp_path, collection(feature("38999")), "bad.geojson"), into) == 2
    assert (into / "geometry.json.gz").read_bytes() == before
    assert [p.name for p in into.iterdir()] == ["geometry.json.gz"]


def test_file_over_the_size_limit(tmp_path, capsys, monkeypatch):
    from abs_report.sources import geo

    monkeypatch.setattr(geo, "MAX_BYTES", 100)
    assert run(write(tmp_path, good_communes()), tmp_path / "geo") == 2
    assert "trop volumineux" in capsys.readouterr().err
    assert not (tmp_path / "geo").exists()


def test_too_many_features(tmp_path, capsys, monkeypatch):
    from abs_report.sources import geo

    monkeypatch.setattr(geo, "MAX_FEATURES", 2)
    assert run(write(tmp_path, good_communes()), tmp_path / "geo") == 2
    assert "3 entités" in capsys.readouterr().err


def test_name_is_kept_as_text(tmp_path):
    into = tmp_path / "geo"
    name = "<script>alert(1)</script>\n../../etc"
    assert run(write(tmp_path, collection(feature("38185", NOM=name))), into, "commune", "--name-field", "NOM") == 0
    assert read_geometry(into / "geometry.json.gz").communes.at["38185", "name"] == \
        "<script>alert(1)</script> ../../etc"


def test_real_communes_import_like_the_packaged_ones(tmp_path):
    source = SHARED_GEO / "communes_38.geojson"
    if not source.is_file():
        pytest.skip(f"reference geography not found at {SHARED_GEO}")
    into = tmp_path / "geo"
    code = main(["geo", "import", str(source), "--level", "commune", "--code-field", "insee_com",
                 "--name-field", "nom", "--into", str(into)])
    assert code == 0
    imported = read_geometry(into / "geometry.json.gz").communes
    packaged = load_geometry().communes
    assert set(imported.index) == set(packaged.index)
    ratio = imported["shape"].map(lambda s: s.area) / packaged.loc[imported.index, "shape"].map(lambda s: s.area)
    assert np.quantile(np.abs(ratio - 1), 0.99) < 0.02
