"""The default report, rendered once, read as its users read it: PDF text, HTML, CSV, workbook."""

from __future__ import annotations

import re
import shutil
import textwrap

import pandas as pd
import pypdf
import pytest

from abs_report import formatting as fmt
from abs_report.cli import main
from abs_report.published import COLUMNS, STATUSES, read as read_published

from conftest import REPO

pytestmark = pytest.mark.slow

ZONES = ("Grenoble", "Grenoble-Alpes-Métropole", "Isère", "Auvergne-Rhône-Alpes", "France")
CHAPTERS = ("Synthèse", "Vue d'ensemble", "Composition des familles", "Revenus et précarité", "Logement",
            "Petite enfance, enfance, jeunesse", "Handicap", "Évolution sur cinq ans", "Quartiers",
            "Sources, méthode et secret statistique")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    assert main(["render", str(REPO / "params" / "grenoble.yml"), "--outputs", str(root)]) == 0
    return root / "38185" / "2024"


@pytest.fixture(scope="module")
def pdf_pages(report):
    return [page.extract_text() for page in pypdf.PdfReader(report / "report.pdf").pages]


@pytest.fixture(scope="module")
def published(report):
    return read_published(report / "published.csv")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("-\n", "-"))


def test_output_folder_contract(report):
    for name in ("report.pdf", "report.html", "report.ipynb", "published.csv", "tables.xlsx", "manifest.json"):
        assert (report / name).stat().st_size > 0, name
    # The lock file of the report folder stays (abs_report.atomic); nothing else hidden may.
    leftovers = [p.name for p in report.parent.iterdir()
                 if p.name.startswith(".") and p.name != f".{report.name}.lock"]
    assert leftovers == [], "scratch folders left behind"


def test_executed_notebook_shows_each_chapter_in_its_own_cell(report):
    """An auditor reads one cell per chapter, its code naming the chapter, its output right below."""
    import nbformat

    from abs_report.tables import CHAPTERS as CHAPTER_IDS, CHAPTER_TITLES

    cells = {c.get("id"): c for c in nbformat.read(report / "report.ipynb", as_version=4).cells}
    for chapter in CHAPTER_IDS:
        cell = cells[f"chapter-{chapter}"]
        assert f"report.chapter({chapter!r})" in cell.source and CHAPTER_TITLES[chapter] in cell.source
        markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in cell.outputs)
        assert markdown.startswith(f"# {CHAPTER_TITLES[chapter]}"), chapter


def test_quartiers_named_and_mapped(pdf_pages, report):
    """IRIS by their names (the packaged INSEE names), maps with their captions and credits."""
    import json

    text = _flat(" ".join(pdf_pages))
    for name in ("Arlequin (0604)", "Mistral (0309)", "Village Olympique Sud (0610)"):
        assert name in text, name
    assert "Carte : localisation du territoire" in text
    assert "Carte : part des foyers au RSA par IRIS" in text
    assert "Fond de carte : IGN – INSEE, contours IRIS 2020 ; QPV : ANCT" in text
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Arlequin (0604)" in html and "Carte : localisation du territoire" in html
    geometry = json.loads((report / "manifest.json").read_text(encoding="utf-8"))["reproducible"]["geometry"]
    assert geometry["crs"] == "EPSG:2154"
    assert any(s["title"] == "CONTOURS-IRIS" and s["vintage"] == "édition 2020" for s in geometry["sources"])


def test_pdf_reads_as_a_report(pdf_pages):
    text = _flat(" ".join(pdf_pages))
    assert 8 <= len(pdf_pages) <= 60
    assert "Analyse des besoins sociaux" in text
    for zone in ZONES:
        assert zone in text, zone
    for chapter in CHAPTERS:
        assert chapter in text, chapter
    assert "Source : Caf de l'Isère" in text
    assert "31 décembre 2024" in text
    assert "Destinataire" in text and "CCAS" in text
    assert "sans l'accord préalable de la Caf" in text


def test_demonstration_banner_on_every_page(pdf_pages):
    for number, page in enumerate(pdf_pages, 1):
        assert "Données fictives de démonstration" in page or "DONNÉES FICTIVES" in page, f"page {number}"


def test_html_is_self_contained(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", html)
    assert not re.search(r"url\(\s*['\"]?https?://", html)
    assert "@import" not in html
    for text in ("Grenoble", "Isère", "Données fictives de démonstration", "Sources, méthode et secret statistique"):
        assert text in html
    assert "alt=" in html


def test_published_csv_contract(report, published):
    header = (report / "published.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(COLUMNS)
    assert set(published["status"]) <= set(STATUSES)
    assert set(published["unit"]) <= {"count", "percent", "euro", "ratio"}
    ratios = published[published["unit"].isin(["percent", "ratio"])]
    assert (ratios["numerator"] != "").all() and (ratios["denominator"] != "").all()
    shown = published[published["status"] == "published"]
    assert shown["value"].notna().all()
    assert published.loc[published["status"] != "published", "value"].isna().all()
    assert published["zone_code"].map(type).eq(str).all()


def test_no_published_count_under_five(published):
    counts = published[(published["unit"] == "count") & (published["status"] == "published")]
    assert not counts["value"].between(1, 4).any()


def test_coverage_rate_is_people_over_population(published):
    table = published[published["table_id"] == "T01_vue_ensemble"]
    for (level, code), rows in table.groupby(["zone_level", "zone_code"]):
        values = rows.set_index("measure")["value"]
        assert values["taux_couverture"] == pytest.approx(
            values["personnes_couvertes"] / values["population_municipale"] * 100), code


def test_derived_numbers_hide_with_their_inputs(published):
    base = published[published["unit"].isin(["count", "euro"])]
    status = {(r.zone_level, r.zone_code, r.year, r.measure): r.status for r in base.itertuples()}
    for r in published[published["unit"] == "percent"].itertuples():
        if r.measure.startswith("evolution_"):
            continue
        for part in (r.numerator, r.denominator):
            key = (r.zone_level, r.zone_code, r.year, part)
            if key in status and status[key] != "published":
                assert r.status != "published", (r.table_id, r.zone_code, r.measure)


def test_every_published_number_is_printed_in_the_pdf(published, pdf_pages):
    text = _flat(" ".join(pdf_pages)).replace("\u202f", " ").replace("\u00a0", " ")
    shown = published[(published["status"] == "published") & ~published["measure"].str.startswith("indice_")]
    missing = []
    for r in shown.itertuples():
        printed = (fmt.signed_percent(r.value) if r.measure.startswith("evolution_")
                   else fmt.value(r.value, r.unit)).replace("\u202f", " ")
        if printed not in text:
            missing.append((r.table_id, r.zone_code, r.measure, printed))
    assert not missing, missing[:10]


def test_workbook_has_one_sheet_per_table(report, published):
    sheets = pd.read_excel(report / "tables.xlsx", sheet_name=None, header=None)
    tables = {t[:31] for t in published["table_id"].unique()}
    assert tables <= set(sheets)
    first = sheets["T01_vue_ensemble"]
    assert first.iloc[0, 0].startswith("Allocataires")
    assert first.astype(str).apply(lambda col: col.str.contains("Source : Caf")).any().any()


def test_bad_parameter_file_exits_2_and_writes_nothing(tmp_path, capsys):
    good = (REPO / "params" / "grenoble.yml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yml"
    bad.write_text(good.replace('code: "38185"', 'code: "38815"'), encoding="utf-8")
    outputs = tmp_path / "outputs"
    assert main(["render", str(bad), "--outputs", str(outputs)]) == 2
    err = capsys.readouterr().err
    assert "bad.yml" in err and "territory.code" in err and "38815" in err and "ligne" in err
    assert not outputs.exists()


def test_failed_run_keeps_the_previous_report(report, tmp_path, monkeypatch):
    copy = tmp_path / "outputs" / "38185" / "2024"
    shutil.copytree(report, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    import abs_report.pipeline as pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("simulated rendering failure")

    monkeypatch.setattr(pipeline, "execute", boom)
    # An unexpected exception is a bug: the CLI shows its traceback and exits 70 (tests/test_errors.py).
    assert main(["render", str(REPO / "params" / "grenoble.yml"), "--outputs", str(tmp_path / "outputs")]) == 70
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    assert [p.name for p in copy.parent.iterdir()] == ["2024"]


NUMBER = re.compile(r"[+\u2212]?\d+(?:\u202f\d{3})*(?:,\d+)?(?:\u202f[%€])?")


def _label_numbers() -> set[str]:
    """Numbers that belong to words, not data: 'Couples avec 2 enfants', 'QF de 1 000 à 1 499 €'."""
    from abs_report.catalogue import INDICATORS, MEASURES
    from abs_report.tables import SPECS

    texts = [m.label for m in MEASURES.values()] + [i.label for i in INDICATORS.values()]
    texts += [s.title for s in SPECS]
    return {n for t in texts for n in NUMBER.findall(t.replace(" ", "\u202f"))} | set(NUMBER.findall(
        " ".join(t for t in texts)))


def test_no_number_in_the_pdf_is_missing_from_published_csv(published, pdf_pages):
    """Between the first chapter and the closing section, every number printed is a published one."""
    allowed = set()
    for r in published[published["status"] == "published"].itertuples():
        text = (fmt.signed_percent(r.value) if r.measure.startswith("evolution_") else fmt.value(r.value, r.unit))
        allowed.add(text)
        allowed.add(text.lstrip("+"))
    allowed |= _label_numbers() | {"5", "100"}   # the secrecy footnote: 'inférieur à 5', '100 allocataires'
    body = "\n".join(pdf_pages)
    start = body.index("1 Synthèse", body.index("1 Synthèse") + 1)   # the chapter, not its TOC line
    body = body[start:body.rindex("Sources, méthode et secret statistique")]
    body = re.sub(r"(?m)^\d+(\.\d+)? (?=[A-ZÉ])", " ", body)       # chapter numbers
    body = re.sub(r"\((\s*)\d{4}\)", " ", body)                     # an IRIS's code beside its name
    body = re.sub(r"[ \t]*\n[ \t]*", " ", body)                    # lines wrap anywhere
    body = re.sub(r"(Tableau|Figure)\s\d+", " ", body)            # \s: pandoc may put a no-break space
    body = re.sub(r"\d+\s/\s\d+", " ", body)                     # page n / N
    body = re.sub(r"\d{1,2}\s(décembre|janvier)\s\d{4}", " ", body)  # reference and edition dates
    body = re.sub(r"(?<![\d\u202f])20[0-4]\d(?![\d\u202f]|,\d)", " ", body)  # years
    strays = sorted({n for n in NUMBER.findall(body) if n not in allowed})
    assert not strays, strays[:20]


def test_evolution_chapter_shows_every_year_of_the_series(published, pdf_pages):
    """Issue 13: the evolution table prints each year of the series, not only the first and last."""
    years = sorted(set(published.loc[published["table_id"] == "T13_evolution", "year"]))
    # 2020 to 2024 in the demo data, less a past year whose mask cannot be completed (docs/SECRECY.md).
    assert len(years) >= 4 and years[0] == 2020 and years[-1] == 2024
    text = _flat(" ".join(pdf_pages))
    chapter = text[text.rindex("Évolution sur cinq ans"):]
    header = re.search(r"(20\d\d ){%d}Évolution" % len(years), chapter)
    assert header and header.group(0).split()[:-1] == [str(y) for y in years], chapter[:400]
    index_years = set(published.loc[published["table_id"] == "G07_evolution", "year"])
    assert index_years == set(years[1:])
