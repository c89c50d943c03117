"""Maps, tested on the figure's own data: each zone's patch, its colour and hatch, the legend's text."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from abs_report import maps
from abs_report.formatting import THIN
from abs_report.geometry import load_geometry


def rgba(colour) -> tuple:
    return tuple(np.round(mcolors.to_rgba(colour), 4))


@pytest.fixture(scope="module")
def grenoble_iris() -> pd.DataFrame:
    codes = sorted(c for c in load_geometry().iris.index if c.startswith("38185"))
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"zone_code": codes, "value": np.round(rng.uniform(10, 60, len(codes)), 1),
                          "status": "published"})
    frame.loc[frame["zone_code"] == "381850604", ["value", "status"]] = [None, "secret_primary"]
    frame.loc[frame["zone_code"] == "381850309", ["value", "status"]] = [12.0, "secret_secondary"]
    frame.loc[frame["zone_code"] == "381850610", ["value", "status"]] = [None, "missing"]
    return frame


@pytest.fixture(scope="module")
def iris_map(grenoble_iris):
    return maps.choropleth(grenoble_iris, level="iris", title="Taux de couverture par IRIS, Grenoble",
                           unit="percent", qpv=["QN03806M", "QN03807M"])


def test_hidden_zones_are_hatched_never_coloured(iris_map):
    class_colours = {rgba(c.colour) for c in iris_map.classes}
    for code in ("381850604", "381850309"):  # the second one even carries a value
        patch = iris_map.zones[code]
        assert patch.get_hatch()
        assert rgba(patch.get_facecolor()) == rgba(maps.HIDDEN_FACE)
        assert rgba(patch.get_facecolor()) not in class_colours


def test_missing_zone_is_grey(iris_map):
    patch = iris_map.zones["381850610"]
    assert rgba(patch.get_facecolor()) == rgba(maps.MISSING_FACE)
    assert not patch.get_hatch()


def test_published_zones_take_their_class_colour(iris_map, grenoble_iris):
    published = grenoble_iris[grenoble_iris["status"] == "published"]
    assert len(iris_map.classes) == 5
    assert iris_map.classes[0].lower == published["value"].min()
    assert iris_map.classes[-1].upper == published["value"].max()
    for code, value in zip(published["zone_code"], published["value"]):
        cls = next(c for c in iris_map.classes if c.lower <= value <= c.upper)
        patch = iris_map.zones[code]
        assert rgba(patch.get_facecolor()) == rgba(cls.colour), code
        assert not patch.get_hatch()
    # Darker for higher values: the palette is sequential.
    lightness = [np.mean(mcolors.to_rgb(c.colour)) for c in iris_map.classes]
    assert lightness == sorted(lightness, reverse=True)


def test_legend_is_french(iris_map):
    texts = [t.get_text() for legend in iris_map.figure.legends for t in legend.get_texts()]
    assert "s : secret statistique" in texts
    assert "nd : donnée non disponible" in texts
    assert any(t.endswith(f"{THIN}%") and "," in t and " à " in t for t in texts), texts
    assert "Quartier prioritaire (QPV)" in texts


def test_qpv_perimeters_drawn_and_named(iris_map):
    outlines = [p for p in iris_map.figure.axes[0].patches if (p.get_gid() or "").startswith("qpv-")]
    assert [p.get_gid() for p in outlines] == ["qpv-QN03806M", "qpv-QN03807M"]
    assert all(p.get_facecolor()[3] == 0 for p in outlines)  # an outline: the zones below stay readable
    numbers = [t.get_text() for t in iris_map.figure.axes[0].texts]
    assert {"1", "2"} <= set(numbers)
    legend = [t.get_text().replace("\n", " ") for lg in iris_map.figure.legends for t in lg.get_texts()]
    assert "1. Mistral Lys Rouge Camine" in legend
    assert "2. Villeneuve - Village Olympique" in legend


def test_alt_text_says_what_the_map_shows(iris_map):
    alt = iris_map.alt
    assert alt.startswith("Carte des IRIS de Grenoble")
    assert "taux de couverture" in alt.lower()
    assert "2 IRIS soumis au secret statistique" in alt
    assert "1 IRIS sans donnée" in alt


def test_svg_is_deterministic_and_vector(iris_map):
    first, second = maps.to_svg(iris_map), maps.to_svg(iris_map)
    assert first == second
    assert first.startswith("<?xml") or first.startswith("<svg")
    assert "<image" not in first


def test_commune_choropleth_of_the_departement():
    communes = load_geometry().communes
    frame = pd.DataFrame({"zone_code": communes.index, "value": np.arange(len(communes), dtype=float),
                          "status": "published"})
    frame.loc[frame.index[:3], "status"] = "secret_threshold"
    result = maps.choropleth(frame, level="commune", title="Part des foyers au RSA", unit="percent",
                             place="de l'Isère")
    assert result.alt.startswith("Carte des communes de l'Isère : part des foyers au RSA.")
    assert "3 communes soumises au secret statistique (hachurées)" in result.alt
    assert len(result.zones) == 512
    assert all(result.zones[c].get_hatch() for c in frame["zone_code"][:3])


def test_unknown_zone_has_no_map():
    frame = pd.DataFrame({"zone_code": ["69123"], "value": [1.0], "status": ["published"]})
    with pytest.raises(maps.NoGeometry):
        maps.choropleth(frame, level="commune", title="x", unit="percent")
    with pytest.raises(maps.NoGeometry):
        maps.locator_map("commune", "69123")
    assert maps.NO_MAP_TEXT == "Fond de carte non disponible pour ce territoire"


def test_locator_map_highlights_the_territory_in_its_epci():
    result = maps.locator_map("commune", "38185")
    assert rgba(result.zones["38185"].get_facecolor()) == rgba(maps.TERRITORY_FACE)
    assert rgba(result.zones["200040715"].get_facecolor()) == rgba(maps.EPCI_FACE)
    assert "Grenoble" in result.alt and "Grenoble-Alpes-Métropole" in result.alt
    assert "département de l'Isère" in result.alt


def test_locator_map_of_an_epci_and_of_the_departement():
    epci = maps.locator_map("epci", "200040715")
    assert rgba(epci.zones["200040715"].get_facecolor()) == rgba(maps.TERRITORY_FACE)
    dep = maps.locator_map("departement", "38")
    assert rgba(dep.zones["38"].get_facecolor()) == rgba(maps.TERRITORY_FACE)


def test_svg_is_the_same_bytes_in_another_process():
    # Clip-path and hatch ids are hashed with a salt that is random per process unless set.
    import subprocess
    import sys

    code = ("import sys; from abs_report import maps; "
            "sys.stdout.write(maps.to_svg(maps.locator_map('commune', '38185')))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and 'clip-path="url(#' in runs[0]


def _absolute(data: str) -> list[list[tuple[float, float]]]:
    """Subpaths of a compact outline (``M x y l dx dy dx dy ... z``) as absolute points."""
    import re

    subpaths, x, y = [], 0.0, 0.0
    for command, numbers in re.findall(r"([MLlz])([^MLlz]*)", data):
        values = [float(v) for v in re.findall(r"-?(?:\d+\.?\d*|\.\d+)", numbers)]
        pairs = list(zip(values[::2], values[1::2]))
        if command == "M":
            (x, y), = pairs
            subpaths.append([(x, y)])
        elif command == "l":
            for dx, dy in pairs:
                x, y = round(x + dx, 1), round(y + dy, 1)
                subpaths[-1].append((x, y))
    return subpaths


def test_compact_outline_draws_the_same_points_to_a_tenth_of_a_point():
    from abs_report.maps.frame import _OUTLINE, _compact_outline

    raw = (' d="M 220.853125 118.240625 \nL 220.853125 117.303125 \nL 222.723115 117.309715 \n'
           'L 222.723115 117.309715 \nL 3.95 -0.06 \nz\nM 1 1 \nL 2 2 \nL 1.5 0.95 \nz\n"')
    compact = _OUTLINE.sub(_compact_outline, raw)
    assert len(compact) < len(raw) / 2
    expected = [[(220.9, 118.2), (220.9, 117.3), (222.7, 117.3), (4.0, -0.1)], [(1, 1), (2, 2), (1.5, 1.0)]]
    got = _absolute(compact[4:-1])
    assert [[(round(x, 1), round(y, 1)) for x, y in sub] for sub in got] == expected


def test_map_svg_keeps_the_glyphs_scale():
    """Text as glyph paths scaled by 0.015625: cut to 0.01, every letter was two thirds of its size."""
    import io
    import re

    import matplotlib

    result = maps.locator_map("commune", "38185", show_title=False)
    raw = io.StringIO()
    with matplotlib.rc_context(maps.style.RC):
        result.figure.savefig(raw, format="svg", metadata={"Date": None, "Creator": None})
    scales = set(re.findall(r"scale\([^)]*\)", raw.getvalue()))
    assert "scale(0.015625)" in scales
    assert set(re.findall(r"scale\([^)]*\)", maps.to_svg(result))) == scales


def test_locator_draws_the_layers_simplified_for_it():
    geometry = load_geometry()
    result = maps.locator_map("commune", "38185")
    small = geometry._layers["departement_locator"].at["38", "shape"]
    assert len(result.zones["38"].get_path().vertices) == sum(len(r) + 1 for r in small.rings)
    assert len(maps.to_svg(result)) < 60_000  # 92 KB before the locator layers and compact outlines
