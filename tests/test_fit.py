"""Reports that fit their data and their territory (issue 17).

No table, chart or row made only of ``nd``; what the source lacks said once; a
short fiche for a territory whose key figures are hidden; an aggregation
proposal that depends on published information only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
import yaml

from abs_report.cli import main
from abs_report.published import read as read_published
from abs_report.tables import CHAPTER_TITLES

FIXTURES = Path(__file__).parent / "fixtures" / "cafdata"


def pdf_text(path: Path) -> str:
    return " ".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def render(tmp: Path, name: str, body: str) -> Path:
    params = tmp / f"{name}.yml"
    params.write_text(body, encoding="utf-8")
    assert main(["render", str(params), "--outputs", str(tmp / "outputs")]) == 0
    return params


# --- 1. real open data: no page of nd -------------------------------------------------

@pytest.mark.realdata
@pytest.mark.slow
def test_real_import_report_has_no_row_of_nd_only_and_says_what_is_missing(tmp_path, shared_data):
    dataset = tmp_path / "caf-isere"
    export = shared_data / "cafdata" / "s_ben_com_f_isere_2020-2022.csv"
    assert main(["data", "import", str(export), "--into", str(dataset)]) == 0
    render(tmp_path, "grenoble", "territory: {level: commune, code: \"38185\"}\nyear: 2022\n"
           "recipient: CCAS\npurpose: Test\nformats: [pdf]\n" f"data: {dataset}\n")
    folder = tmp_path / "outputs" / "38185" / "2022"
    lines = [line.strip() for p in pypdf.PdfReader(folder / "report.pdf").pages
             for line in p.extract_text().splitlines()]
    # A table row or a chart's value marks whose every figure is nd: nothing but a label before them.
    only_nd = [line for line in lines if re.fullmatch(r"[^\d%]*?(\bnd\b\s*)+", line)]
    assert only_nd == []
    text = re.sub(r"\s+", " ", " ".join(lines))
    assert "Ce que la source ne fournit pas" in text
    assert "s_ben_nat" in text and "demande à la Caf" in text
    # published.csv still lists every measure, the dropped ones as missing.
    published = read_published(folder / "published.csv")
    family = published[(published["table_id"] == "T03_composition_familiale")
                       & (published["zone_code"] == "38185") & (published["measure"] == "couples_1_enfant")]
    assert list(family["status"]) == ["missing"]


# --- 2. national, regional and départemental files --------------------------------------

def test_national_and_departemental_files_fill_the_comparison_zones(tmp_path, geography):
    from abs_report.pipeline import prepare, read_report_params

    dataset = tmp_path / "caf"
    files = [FIXTURES / n for n in ("s_ben_com_f.csv", "s_ben_dep.csv", "s_ben_reg.csv", "s_ben_nat.csv")]
    assert main(["data", "import", *map(str, files), "--into", str(dataset)]) == 0
    params = tmp_path / "grenoble.yml"
    params.write_text("territory: {level: commune, code: \"38185\"}\nyear: 2022\nrecipient: CCAS\n"
                      f"purpose: Test\nformats: [pdf]\ndata: {dataset}\n", encoding="utf-8")
    prepared = prepare(*read_report_params(params, geography), geography)
    rows = prepared.published
    key = rows[(rows["table_id"] == "T00_chiffres_cles") & (rows["measure"] == "foyers_allocataires")]
    values = dict(zip(key["zone_code"], zip(key["status"], key["value"])))
    assert values["FR"] == ("published", 13_810_000)
    assert values["38"] == ("published", 252_105)
    assert values["84"] == ("published", 1_640_105)


# --- 3. the short fiche --------------------------------------------------------------------

AMBEL = ("territory: {level: commune, code: \"38008\"}\nyear: 2024\nrecipient: Mairie d'Ambel\n"
         "purpose: Test\nformats: [pdf]\ndata: demo\n")


@pytest.mark.slow
def test_small_commune_gets_a_short_fiche_that_says_why(tmp_path):
    render(tmp_path, "ambel", AMBEL)
    folder = tmp_path / "outputs" / "38008" / "2024"
    pdf = pypdf.PdfReader(folder / "report.pdf")
    assert len(pdf.pages) <= 4
    text = re.sub(r"\s+", " ", pdf_text(folder / "report.pdf"))
    assert "fiche courte" in text
    assert "chiffres clés" in text and "secret statistique" in text
    assert "Obligations du destinataire" in text
    assert "regroupement" in text and "abs-report suggest-aggregation 38008" in text
    assert "Composition des familles" not in text
    # published.csv is built before presentation: every measure is still listed.
    published = read_published(folder / "published.csv")
    assert "T03_composition_familiale" in set(published["table_id"])


@pytest.mark.slow
def test_large_commune_keeps_every_chapter(tmp_path):
    render(tmp_path, "grenoble", "territory: {level: commune, code: \"38185\"}\nyear: 2024\n"
           "recipient: CCAS\npurpose: Test\nformats: [pdf]\ndata: demo\n")
    text = re.sub(r"\s+", " ", pdf_text(tmp_path / "outputs" / "38185" / "2024" / "report.pdf"))
    for title in CHAPTER_TITLES.values():
        assert title in text
    assert "fiche courte" not in text
    assert "Ce que la source ne fournit pas" not in text


# --- 4. aggregation proposal ------------------------------------------------------------------

@pytest.mark.slow
def test_suggest_aggregation_writes_a_contiguous_group_that_renders(tmp_path, geography):
    from abs_report import aggregation
    from abs_report.geometry import load_geometry

    out = tmp_path / "ambel-groupe.yml"
    assert main(["suggest-aggregation", "38008", "--out", str(out)]) == 0
    params = yaml.safe_load(out.read_text(encoding="utf-8"))
    territory = params["territory"]
    assert territory["level"] == "aggregation" and re.fullmatch(r"[A-Z]+[A-Z0-9]*", territory["code"])
    communes = territory["communes"]
    assert "38008" in communes and len(communes) >= 2
    epci = set(geography.communes.loc[communes, "epci"])
    assert epci == {geography.communes.at["38008", "epci"]}
    _assert_contiguous(communes, load_geometry())
    # The group reaches the size rule on published figures.
    cells = aggregation.demo_cells(geography, params["year"])
    assert aggregation.group_size(communes, cells) >= aggregation.MIN_FOYERS
    # Never overwrite the user's file without --force.
    before = out.read_bytes()
    assert main(["suggest-aggregation", "38008", "--out", str(out)]) == 2
    assert out.read_bytes() == before
    assert main(["suggest-aggregation", "38008", "--out", str(out), "--force"]) == 0
    params_file = tmp_path / "groupe.yml"
    params_file.write_text(out.read_text(encoding="utf-8").replace("formats: [pdf, html]", "formats: [pdf]"),
                           encoding="utf-8")
    assert main(["render", str(params_file), "--outputs", str(tmp_path / "outputs")]) == 0


def _assert_contiguous(communes, geometry):
    """Every member reachable from 38008 through shared borders (shapely, independent of the code)."""
    from shapely.geometry import Polygon

    layer = geometry.communes
    shapes = {}
    for code in communes:
        shape = layer.at[code, "shape"]
        polygons = [Polygon(rings[0], rings[1:]) for rings in shape.polygons]
        shapes[code] = polygons
    def touch(a, b):
        return any(p.buffer(1.0).intersects(q) for p in shapes[a] for q in shapes[b])
    reached, frontier = {"38008"}, ["38008"]
    while frontier:
        current = frontier.pop()
        for other in communes:
            if other not in reached and touch(current, other):
                reached.add(other)
                frontier.append(other)
    assert reached == set(communes)


def test_proposal_ignores_hidden_counts(geography):
    """Two tables that differ only in hidden cells (within their band, or not) give the same proposal."""
    from abs_report import aggregation

    cells = aggregation.demo_cells(geography, 2024)
    hidden = cells[(cells["measure"] == "foyers_allocataires") & (cells["zone_level"] == "commune")
                   & cells["status"].str.startswith("secret")]
    assert len(hidden), "the demo data has hidden commune counts"
    other = cells.copy()
    other.loc[hidden.index, "value"] = other.loc[hidden.index, "value"].map(lambda v: 4 if v == 3 else 3)
    assert not other["value"].equals(cells["value"])
    first = aggregation.propose("38008", cells, geography)
    second = aggregation.propose("38008", other, geography)
    assert first == second


# --- unit: what a view leaves out, and what it never leaves out -------------------------------

def _small_view():
    import numpy as np
    import pandas as pd

    from abs_report import published as pub
    from abs_report.context import DatasetInfo, ReportContext, ReportZone, SecrecyInfo
    from abs_report.figures.view import ReportView
    from abs_report.geography import Zone
    from abs_report.tables import SPECS

    zones = (Zone("commune", "38999", "Ville-Test"), Zone("departement", "38", "Isère"),
             Zone("france", "FR", "France"))
    rows = []
    for year in (2020, 2024):
        for zone in zones:
            values = {"population_municipale": 3000, "foyers_allocataires": 1234, "personnes_couvertes": 2500,
                      "foyers_rsa": 3, "foyers_ppa": 380}
            for measure, value in values.items():
                status = "secret_primary" if zone.level == "commune" and measure == "foyers_rsa" else "published"
                if zone.level == "france" and measure != "population_municipale":
                    value, status = np.nan, "missing"
                rows.append((zone.level, zone.code, year, measure, float(value), status))
    cells = pd.DataFrame(rows, columns=["zone_level", "zone_code", "year", "measure", "value", "status"])
    published = pub.build(SPECS, zones, 2024, cells, years=(2020, 2024))
    context = ReportContext(
        title="Test", year=2024, reference_date="31 décembre 2024", recipient="CCAS", purpose="ABS",
        zones=tuple(ReportZone(z.level, z.code, z.name, True, f"en {z.name}") for z in zones),
        years=(2020, 2024), iris=(), population_source="recensement",
        dataset=DatasetInfo("test", False, "Caf de l'Isère", "Cnaf", None),
        secrecy=SecrecyInfo("test", "0" * 64, 5, 100))
    return ReportView(context, published), published


def test_view_leaves_out_missing_rows_zones_and_chapters_but_never_secrets():
    from abs_report.tables import CHAPTERS

    view, published = _small_view()
    t02 = next(s for s in __import__("abs_report.tables", fromlist=["SPECS"]).SPECS if s.id == "T02_prestations")
    markdown = "\n".join(b.markdown for b in view.table(t02) if b.markdown)
    assert "| Foyers bénéficiaires du RSA | s | " in markdown          # a secret stays visible
    assert "AAH" not in markdown                                        # a row missing for the territory goes
    assert "France" not in markdown.split("\n")[0]                      # a zone without data leaves the table...
    assert "France ne figure pas ici" in markdown                       # ...and is named in its note
    assert view.chapter("handicap") == []                               # a chapter with nothing goes
    assert view.chapter("familles") == []
    closing = view.closing_section()[0].markdown
    assert "## Ce que la source ne fournit pas" in closing
    assert "les chiffres en France : fichier s_ben_nat" in closing and "demande à la Caf" in closing
    # « part des personnes isolées » comes with the family configuration, not with its denominator.
    assert not re.search(r"composition des familles[^\n]*s_ben_com_f", closing)
    # published.csv keeps every measure, the ones left out as missing.
    assert (published[published["measure"] == "foyers_aah"]["status"] == "missing").all()
    # Chapters are numbered by the renderer from their headings: the ones kept, in order.
    kept = [c for c in CHAPTERS if view.chapter(c)]
    assert kept[0] == "synthese" and "handicap" not in kept


def test_open_data_files_agree_with_the_cafdata_reader():
    from abs_report.figures.fit import OPEN_DATA_FILES
    from abs_report.sources import cafdata

    assert set(OPEN_DATA_FILES["s_ben_com_f"]) == set(cafdata.COLUMN_MEASURES.values())
    assert set(OPEN_DATA_FILES["ndur_s_qf_400_com_f"]) == set(cafdata.QF_BANDS.values()) | {"qf_inconnu"}


def test_smallest_group_is_connected_and_smallest():
    from abs_report import aggregation

    # a - b - c - d, and a - e: a alone is small; {a, e} reaches with e's 200, not the longer chain.
    neighbours = {"a": {"b", "e"}, "b": {"a", "c"}, "c": {"b", "d"}, "d": {"c"}, "e": {"a"}}
    sizes = {"a": 0, "b": 50, "c": 100, "d": 300, "e": 200}
    assert aggregation.smallest_group("a", neighbours, sizes) == ("a", "e")
    sizes["e"] = 0  # now only through the chain: b and c (150) fall short, d is reached through them
    assert aggregation.smallest_group("a", neighbours, sizes) == ("a", "b", "c", "d")
    sizes["d"] = 0
    assert aggregation.smallest_group("a", neighbours, sizes) is None


def test_without_contours_the_epci_is_the_neighbourhood(geography):
    from abs_report import aggregation

    epci = geography.communes.at["01001", "epci"]
    members = tuple(sorted(geography.member_communes_of("epci", epci)))
    neighbours, how = aggregation.adjacency(geography, members)
    assert how == "epci" and neighbours["01001"] == set(members) - {"01001"}
    neighbours, how = aggregation.adjacency(geography, ("38008", "38128", "38185"))
    assert how == "contours" and neighbours["38008"] == {"38128"} and neighbours["38185"] == set()


def test_suggest_refuses_an_unknown_commune(tmp_path, capsys):
    out = tmp_path / "x.yml"
    assert main(["suggest-aggregation", "99999", "--out", str(out)]) == 2
    assert "code commune inconnu" in capsys.readouterr().err and not out.exists()
