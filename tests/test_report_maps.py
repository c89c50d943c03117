"""The maps of a report: drawn from its published rows, hidden zones hatched, IRIS named, no map outside Isère."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest

from abs_report import maps
from abs_report.context import ReportContext, ReportZone, ZoneRef
from abs_report.figures import maps as report_maps
from abs_report.figures.view import ReportView
from abs_report.geometry import load_geometry
from abs_report.pipeline import prepare, read_report_params
from abs_report.tables import MAP_RATES, SPECS

pytestmark = pytest.mark.slow

SPEC = {s.id: s for s in SPECS}


def rgba(colour) -> tuple:
    return tuple(np.round(mcolors.to_rgba(colour), 4))


def _prepared(tmp_path_factory, name: str, territory: str):
    folder = tmp_path_factory.mktemp(name)
    params = folder / "params.yml"
    params.write_text(f"territory: {territory}\nyear: 2024\nrecipient: Test\npurpose: Test\n", encoding="utf-8")
    from abs_report.geography import load_geography

    geography = load_geography()
    return prepare(*read_report_params(params, geography), geography)


@pytest.fixture(scope="module")
def epci(tmp_path_factory):
    return _prepared(tmp_path_factory, "epci", '{level: epci, code: "200040715"}')


@pytest.fixture(scope="module")
def grenoble(tmp_path_factory):
    return _prepared(tmp_path_factory, "grenoble", '{level: commune, code: "38185"}')


def _coloured(drawn: maps.MapFigure) -> dict[str, tuple]:
    """Zones drawn in a class colour (neither hatched white nor missing grey)."""
    plain = {rgba(maps.HIDDEN_FACE), rgba(maps.MISSING_FACE)}
    return {code: rgba(p.get_facecolor()) for code, p in drawn.zones.items()
            if rgba(p.get_facecolor()) not in plain and not p.get_hatch()}


def test_iris_are_named_with_their_code(grenoble):
    names = {z.code: z.name for z in grenoble.context.iris}
    assert names["381850604"] == "Arlequin (0604)"
    assert names["381850309"] == "Mistral (0309)"
    assert names["381850610"] == "Village Olympique Sud (0610)"


def test_demo_iris_of_isere_are_the_packaged_ones(grenoble):
    iris = load_geometry().iris
    expected = set(iris.index[(iris["commune"] == "38185") & (iris["type"] != "Z")])
    assert {z.code for z in grenoble.context.iris} == expected


def test_commune_without_iris_split_has_no_quartier(tmp_path_factory):
    # Villard-de-Lans (38548) is a commune non irisée: its one IRIS (type Z) equals the commune.
    assert load_geometry().iris.at["385480000", "type"] == "Z"
    prepared = _prepared(tmp_path_factory, "villard", '{level: commune, code: "38548"}')
    assert prepared.context.iris == ()
    blocks = ReportView(prepared.context, prepared.published).chapter("quartiers")
    text = " ".join(b.markdown or "" for b in blocks)
    assert "pas de découpage en quartiers" in text
    assert not any(b.svg for b in blocks)


def test_every_coloured_commune_is_a_published_row(epci):
    rows = epci.published[epci.published["table_id"] == "C01_carte_communes"]
    assert set(rows["zone_code"]) == {z.code for z in epci.context.communes}
    assert len(epci.context.communes) == 49
    for item in MAP_RATES:
        drawn = report_maps.choropleth(SPEC["C01_carte_communes"], item, epci.context, epci.published)
        item_rows = rows[rows["measure"] == item].set_index("zone_code")
        coloured = _coloured(drawn)
        assert coloured, item
        for code, colour in coloured.items():
            assert item_rows.at[code, "status"] == "published", (item, code)
            value = item_rows.at[code, "value"]
            cls = next(c for c in drawn.classes if c.lower <= round(value, 1) <= c.upper)
            assert colour == rgba(cls.colour), (item, code)
        for code, row in item_rows.iterrows():
            if row["status"] != "published":
                assert code not in coloured, (item, code)


def test_hidden_commune_is_hatched_never_coloured(epci):
    """A published frame whose rows hide two communes (one even carrying a value): hatched, white."""
    published = epci.published.copy()
    mask = (published["table_id"] == "C01_carte_communes") & (published["measure"] == "part_rsa")
    hidden = ["38185", "38421"]
    published.loc[mask & published["zone_code"].eq("38185"), ["value", "status"]] = [np.nan, "secret_primary"]
    published.loc[mask & published["zone_code"].eq("38421"), "status"] = "secret_secondary"
    drawn = report_maps.choropleth(SPEC["C01_carte_communes"], "part_rsa", epci.context, published)
    colours = {rgba(c.colour) for c in drawn.classes}
    for code in hidden:
        patch = drawn.zones[code]
        assert patch.get_hatch(), code
        assert rgba(patch.get_facecolor()) == rgba(maps.HIDDEN_FACE)
        assert rgba(patch.get_facecolor()) not in colours
    blocks = ReportView(epci.context, published).chapter("ensemble")
    notes = " ".join(b.markdown or "" for b in blocks)
    assert "Fond de carte : IGN – INSEE, contours IRIS 2020 ; QPV : ANCT" in notes


def test_hidden_iris_is_hatched_and_qpv_named(grenoble):
    spec = SPEC["C02_carte_iris"]
    drawn = report_maps.choropleth(spec, "part_rsa", grenoble.context, grenoble.published)
    rows = grenoble.published[(grenoble.published["table_id"] == spec.id)
                              & (grenoble.published["measure"] == "part_rsa")].set_index("zone_code")
    secret = rows.index[rows["status"].str.startswith("secret")]
    assert len(secret) > 0
    for code in secret:
        assert drawn.zones[code].get_hatch() and rgba(drawn.zones[code].get_facecolor()) == rgba(maps.HIDDEN_FACE)
    legend = " ".join(t.get_text() for t in drawn.figure.legends[0].get_texts())
    assert "Mistral" in legend and "Villeneuve" in legend


def test_report_chapters_show_numbered_maps(epci, grenoble):
    view = ReportView(epci.context, epci.published)
    captions = [b.caption for c in view.chapters() for b in view.chapter(c) if b.svg]
    maps_ = [c for c in captions if "Carte" in c]
    assert maps_[0].endswith("Carte : localisation du territoire")
    assert any("taux de couverture par commune" in c for c in maps_)
    numbers = [int(c.split()[1]) for c in captions]
    assert numbers == list(range(1, len(captions) + 1))
    view = ReportView(grenoble.context, grenoble.published)
    blocks = view.chapter("quartiers")
    assert any(b.svg and "part des foyers au RSA par IRIS" in b.caption for b in blocks)


def test_outside_isere_the_map_is_unavailable(grenoble):
    lyon = replace(grenoble.context, iris=(),
                   zones=(ReportZone("commune", "69123", "Lyon", False, "à Lyon"), *grenoble.context.zones[1:]))
    blocks = ReportView(lyon, grenoble.published).chapter("synthese")
    text = " ".join(b.markdown or "" for b in blocks)
    assert maps.NO_MAP_TEXT in text
    assert not any(b.svg and "Carte" in (b.caption or "") for b in blocks)


def test_parameter_file_may_point_at_imported_contours(tmp_path):
    """``geography:`` names a folder written by ``abs-report geo import``: the maps use its contours."""
    from test_geo_import import good_communes, run, write

    from abs_report.geography import load_geography

    assert run(write(tmp_path, good_communes()), tmp_path / "geo", "commune", "--name-field", "NOM") == 0
    params = tmp_path / "params.yml"
    params.write_text('territory: {level: aggregation, code: trio, name: Trio, communes: ["38185", "38151", '
                      '"38421"]}\nyear: 2024\nrecipient: Test\npurpose: Test\ngeography: geo\n', encoding="utf-8")
    geography = load_geography()
    prepared = prepare(*read_report_params(params, geography), geography)
    assert prepared.context.geometry_folder == str((tmp_path / "geo").resolve())
    view = ReportView(prepared.context, prepared.published)
    synthese = view.chapter("synthese")
    assert maps.NO_MAP_TEXT in " ".join(b.markdown or "" for b in synthese)  # no département outline
    drawn = report_maps.choropleth(SPEC["C01_carte_communes"], "part_rsa", prepared.context, prepared.published)
    _, _, width, _ = drawn.zones["38185"].get_path().get_extents().bounds  # x0, y0, width, height
    assert width < 2_000  # the imported square (about 790 m wide), not the packaged Grenoble (about 7 km)
    from abs_report.manifest import map_geometry

    assert map_geometry(prepared.context)["origin"] == "imported"


@pytest.mark.parametrize("value, reason", [("absent", "dossier sans fichier de contours"),
                                           ("bad", "fichier de contours illisible")])
def test_bad_geography_folder_exits_2_and_writes_nothing(tmp_path, capsys, value, reason):
    from abs_report.cli import main

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "geometry.json.gz").write_bytes(b"not gzip")
    params = tmp_path / "params.yml"
    params.write_text(f'territory: {{level: commune, code: "38185"}}\nyear: 2024\nrecipient: Test\n'
                      f'purpose: Test\ngeography: {value}\n', encoding="utf-8")
    outputs = tmp_path / "outputs"
    assert main(["render", str(params), "--outputs", str(outputs)]) == 2
    err = capsys.readouterr().err
    assert "params.yml" in err and "geography" in err and value in err and reason in err and "ligne 5" in err
    assert not outputs.exists()


@pytest.fixture(scope="module")
def epci_without_maps(tmp_path_factory):
    return _prepared(tmp_path_factory, "epci-no-maps", '{level: epci, code: "200040715"}\nmaps: false')


def test_maps_false_drops_the_maps_and_keeps_the_other_figures(epci_without_maps, tmp_path):
    """``maps: false``: no map, no "no map" excuse, the other figures numbered 1..n, recorded for reproduction."""
    from abs_report.manifest import map_geometry, parameters

    prepared = epci_without_maps
    assert prepared.context.maps is False
    assert ReportContext.from_json(prepared.context.to_json()).maps is False
    view = ReportView(prepared.context, prepared.published)
    blocks = [b for c in view.chapters() for b in view.chapter(c)]
    captions = [b.caption for b in blocks if b.svg]
    assert captions and not any("Carte" in c for c in captions)
    assert [int(c.split()[1]) for c in captions] == list(range(1, len(captions) + 1))
    assert maps.NO_MAP_TEXT not in " ".join(b.markdown or "" for b in blocks)
    assert "C01_carte_communes" in set(prepared.published["table_id"])  # the values stay published
    assert map_geometry(prepared.context) is None
    recorded = parameters(prepared.params, tmp_path)
    assert recorded["as_given"]["maps"] is False and recorded["resolved"]["maps"] is False


def test_a_report_with_maps_keeps_its_context_json(epci):
    assert epci.context.maps is True
    assert '"maps"' not in epci.context.to_json()  # byte-identical notebooks for reports with maps
