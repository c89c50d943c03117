"""Renderer: executed notebook to PDF (pandoc + Typst) and self-contained HTML.

The notebook is built here with nbformat and its outputs set directly, the way an
executed report notebook holds them: no kernel is needed.
"""

from __future__ import annotations

import io
import re
import stat
from pathlib import Path

import nbformat
import pytest

from abs_report.errors import InputError
from abs_report.render import RenderError, RendererUnavailable, render

DEMO = "Données fictives de démonstration"
ZONES = ["Grenoble-Alpes-Métropole", "Isère", "Auvergne-Rhône-Alpes", "France"]
TABLE_CAPTION = "Tableau 1 – Foyers allocataires et couverture"
FIGURE_CAPTION = "Figure 1 – Taux de couverture par zone"
ALT = "Diagramme en barres : taux de couverture de 58 % à Grenoble contre 49 % en Isère"

CHAPTER_1 = """# Vue d'ensemble

À Grenoble, 58 % des habitants sont couverts par au moins une prestation de la Caf.

| Zone | Foyers allocataires | Personnes couvertes | Taux de couverture |
|:---|---:|---:|---:|
| Grenoble | 41 234 | 89 012 | 57,1 % |
| Grenoble-Alpes-Métropole | 98 765 | 214 321 | 48,9 % |
| Isère | 251 300 | 612 450 | 48,7 % |
| Auvergne-Rhône-Alpes | 1 812 345 | 4 321 987 | 52,3 % |
| France | s[^secret] | 1 234 | s |

: Tableau 1 – Foyers allocataires et couverture

::: source-note
Source : Caf de l'Isère, données au 31 décembre 2024.
:::

[^secret]: s : donnée soumise au secret statistique.
"""

CHAPTER_2 = """# Sources, méthode et secret statistique

Les données de la Caf ne peuvent être utilisées que dans le cadre de l'étude déclarée.

## Secret statistique

Aucun effectif de 1 à 4 n'est publié.
"""


def chart_svg() -> str:
    """A small seaborn-like bar chart as SVG, deterministic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"svg.hashsalt": "abs-report", "svg.fonttype": "path", "font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots(figsize=(6.3, 3.0))
        zones = ["Grenoble", *ZONES]
        values = [57.1, 48.9, 48.7, 52.3, 49.5]
        ax.barh(zones[::-1], values[::-1], color=["#9bb7ba"] * 4 + ["#1d5c63"])
        ax.set_xlabel("Taux de couverture (%)")
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    return buffer.getvalue()


def markdown_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": "<IPython.core.display.Markdown object>"})


def build_notebook(path: Path) -> Path:
    """An executed report notebook: front matter, markdown outputs, a captioned SVG chart."""
    nb = nbformat.v4.new_notebook()
    front = nbformat.v4.new_raw_cell("---\ntitle: Titre du notebook\nterritory: Ailleurs\nexecute:\n  echo: false\n---")
    params = nbformat.v4.new_code_cell("code = '38185'", metadata={"tags": ["parameters"]})
    params.outputs = [nbformat.v4.new_output("stream", name="stdout", text="SECRET_STDOUT\n")]
    chapter = nbformat.v4.new_code_cell("display(Markdown(chapter_1))")
    chapter.outputs = [
        markdown_output(CHAPTER_1),
        nbformat.v4.new_output("stream", name="stderr", text="SECRET_STDERR warning\n"),
    ]
    chart = nbformat.v4.new_code_cell("display({'image/svg+xml': svg}, raw=True, metadata=...)")
    chart.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/svg+xml": chart_svg()},
            metadata={"image/svg+xml": {"abs_report": {"caption": FIGURE_CAPTION, "alt": ALT}}},
        ),
        markdown_output("::: source-note\nSource : Caf de l'Isère, données au 31 décembre 2024.\n:::\n"),
    ]
    result = nbformat.v4.new_code_cell("1 + 1")
    result.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "PLAIN_REPR_42"}, execution_count=4)]
    closing = nbformat.v4.new_code_cell("display(Markdown(chapter_2))")
    closing.outputs = [markdown_output(CHAPTER_2)]
    nb.cells = [front, params, chapter, chart, result, closing]
    nbformat.write(nb, path)
    return path


def metadata(demo: bool = True) -> dict:
    return {
        "title": "Analyse des besoins sociaux — données de la Caf",
        "subtitle": "Portrait des familles allocataires",
        "territory": "Grenoble",
        "territory_level": "commune",
        "comparison_zones": list(ZONES),
        "reference_date": "31 décembre 2024",
        "recipient": "CCAS de Grenoble",
        "purpose": "Analyse des besoins sociaux 2026 du CCAS",
        "source": "Source : Caf de l'Isère, données au 31 décembre 2024",
        "demo": demo,
        "edition_date": "28 novembre 2026",
        "timestamp": 1_790_000_000,
    }


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    return build_notebook(tmp_path_factory.mktemp("nb") / "report.ipynb")


@pytest.fixture(scope="module")
def demo_report(notebook, tmp_path_factory) -> dict[str, Path]:
    return render(notebook, tmp_path_factory.mktemp("demo"), metadata(demo=True))


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_outputs_are_inside_workdir(demo_report):
    assert set(demo_report) == {"pdf", "html"}
    workdir = demo_report["pdf"].parent
    assert demo_report["html"].parent == workdir
    assert (workdir / "figures" / "figure-01.svg").is_file()


def test_pdf_shows_cover_table_and_figure(demo_report):
    pages = pdf_pages(demo_report["pdf"])
    text = " ".join(pages)
    assert 3 <= len(pages) <= 12
    for expected in ["Analyse des besoins sociaux", "Grenoble", "commune", *ZONES, "31 décembre 2024",
                     "Destinataire :", "CCAS de Grenoble", "Objet de l'étude :", "28 novembre 2026",
                     "Sommaire", TABLE_CAPTION, FIGURE_CAPTION, "57,1 %", "1 234",
                     "Source : Caf de l'Isère", "Secret statistique"]:
        assert expected in text, expected
    # metadata wins over the notebook's front matter
    assert "Ailleurs" not in text and "Titre du notebook" not in text


def test_pdf_hides_code_streams_and_plain_reprs(demo_report):
    text = " ".join(pdf_pages(demo_report["pdf"]))
    for hidden in ["SECRET_STDOUT", "SECRET_STDERR", "PLAIN_REPR_42", "display(", "code = ", "execute:"]:
        assert hidden not in text


def test_pdf_demo_band_and_page_numbers_on_every_page(demo_report):
    pages = pdf_pages(demo_report["pdf"])
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert DEMO in page, f"page {number}"
        if number > 1:
            assert f"{number} / {total}" in page
            assert "Grenoble" in page


def test_pdf_keeps_chart_as_vector(demo_report):
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(demo_report["pdf"])
    chart_pages = [page for page in reader.pages if FIGURE_CAPTION in " ".join(page.extract_text().split())]
    # The chart must be there first: Typst draws an SVG as path operators on its page.
    assert len(chart_pages) == 1, "no page carries the chart"
    operations = ContentStream(chart_pages[0].get_contents(), reader).operations
    drawn = sum(1 for _, op in operations if op in (b"m", b"l", b"c"))
    assert drawn > 100, f"the chart's page draws only {drawn} path segments"
    # ...then not as pixels.
    assert all(len(page.images) == 0 for page in reader.pages), "chart rasterised"


def test_no_demo_band_without_demo(notebook, tmp_path):
    produced = render(notebook, tmp_path, metadata(demo=False))
    assert all(DEMO not in page for page in pdf_pages(produced["pdf"]))
    assert DEMO not in produced["html"].read_text(encoding="utf-8")


def test_html_is_self_contained(demo_report):
    html = demo_report["html"].read_text(encoding="utf-8")
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", html, re.I)
    assert external == []
    # Anything else starting with http(s) may only be an XML namespace identifier.
    for match in re.finditer(r"https?://", html):
        before = html[max(0, match.start() - 20): match.start()]
        assert "xmlns" in before, html[match.start() - 40: match.start() + 40]


def test_html_content_and_navigation(demo_report):
    html = demo_report["html"].read_text(encoding="utf-8")
    for expected in ["Grenoble", *ZONES, TABLE_CAPTION, FIGURE_CAPTION, "57,1 %", "Destinataire :",
                     "Source : Caf de l'Isère", "Secret statistique"]:
        assert expected in html, expected
    assert f'alt="{ALT}"' in html
    assert re.search(r'<nav id="TOC"[^>]*>.*href="#vue-densemble"', html, re.S)
    assert 'class="demo-banner"' in html
    assert html.count(DEMO) >= 3  # banner + each of the two chapters
    assert 'src="data:image/svg+xml;base64,' in html
    for hidden in ["SECRET_STDOUT", "SECRET_STDERR", "PLAIN_REPR_42"]:
        assert hidden not in html


def test_rendering_twice_gives_identical_bytes(notebook, tmp_path, demo_report):
    again = render(notebook, tmp_path, metadata(demo=True))
    assert again["pdf"].read_bytes() == demo_report["pdf"].read_bytes()
    assert again["html"].read_bytes() == demo_report["html"].read_bytes()


def test_a_fresh_pandoc_process_gives_identical_bytes(notebook, tmp_path, demo_report):
    # A batch worker's pandoc process renders hundreds of reports: a report must
    # not depend on what the process rendered before it.
    from abs_report.render import PANDOC

    PANDOC.close()
    again = render(notebook, tmp_path, metadata(demo=True))
    assert again["pdf"].read_bytes() == demo_report["pdf"].read_bytes()
    assert again["html"].read_bytes() == demo_report["html"].read_bytes()


def test_pandoc_process_outlives_a_refused_request(notebook, tmp_path):
    from abs_report.render import PANDOC

    render(notebook, tmp_path / "first", metadata(), formats=("html",))
    process = PANDOC._process
    missing = tmp_path / "missing.md"
    with pytest.raises(RenderError, match="missing.md") as raised:
        PANDOC.request({"markdown": str(missing), "metadata": str(missing), "filter": "", "editions": []}, missing)
    assert raised.value.intermediate == missing
    assert render(notebook, tmp_path / "second", metadata(), formats=("html",))["html"].is_file()
    assert PANDOC._process is process and process.poll() is None


def test_pandoc_process_restarts_after_it_died(notebook, tmp_path):
    from abs_report.render import PANDOC

    render(notebook, tmp_path / "first", metadata(), formats=("html",))
    PANDOC._process.kill()
    PANDOC._process.wait()
    assert render(notebook, tmp_path / "second", metadata(), formats=("html",))["html"].is_file()


def test_single_format(notebook, tmp_path):
    produced = render(notebook, tmp_path, metadata(), formats=("html",))
    assert set(produced) == {"html"}
    assert not (tmp_path / "report.pdf").exists()


def test_both_editions_from_one_parse_equal_each_edition_alone(notebook, tmp_path, demo_report):
    # Both formats: one pandoc request reads the Markdown once for both writers.
    # The bytes must not depend on which editions a request asks for.
    pdf = render(notebook, tmp_path / "pdf", metadata(demo=True), formats=("pdf",))["pdf"]
    html = render(notebook, tmp_path / "html", metadata(demo=True), formats=("html",))["html"]
    assert not (tmp_path / "pdf" / "report.html").exists()
    assert pdf.read_bytes() == demo_report["pdf"].read_bytes()
    assert html.read_bytes() == demo_report["html"].read_bytes()


def test_typst_failure_names_intermediate_file(notebook, tmp_path, monkeypatch):
    from abs_report.render import typst_pdf

    template = tmp_path / "broken.typ"
    template.write_text("#let x = (\n$body$\n", encoding="utf-8")
    monkeypatch.setattr(typst_pdf, "TYPST_TEMPLATE", template)
    with pytest.raises(RenderError) as raised:
        render(notebook, tmp_path, metadata(), formats=("pdf",))
    assert raised.value.intermediate == tmp_path / "report.typ"
    assert str(tmp_path / "report.typ") in str(raised.value)


def test_quarto_missing_is_reported(notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RendererUnavailable) as raised:
        render(notebook, tmp_path / "work", metadata(), renderer="quarto")
    assert isinstance(raised.value, InputError)
    assert "builtin" in str(raised.value)


def test_quarto_renderer_runs_in_workdir(notebook, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    # A stand-in for Quarto: records its arguments and writes the expected output.
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$@" >> calls.txt\n'
        'case "$4" in typst) touch report.pdf ;; html) touch report.html ;; esac\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    workdir = tmp_path / "work"
    produced = render(notebook, workdir, metadata(), renderer="quarto")
    assert produced == {"pdf": workdir / "report.pdf", "html": workdir / "report.html"}
    calls = (workdir / "calls.txt").read_text(encoding="utf-8")
    assert "render report.ipynb --to typst" in calls and "--to html" in calls
    assert (workdir / "_quarto.yml").is_file()


def test_unknown_renderer_is_bad_input(notebook, tmp_path):
    with pytest.raises(InputError):
        render(notebook, tmp_path, metadata(), renderer="latex")


def test_pandoc_failure_names_intermediate_file(notebook, tmp_path, monkeypatch):
    import dataclasses

    import abs_report.render as module

    options = dataclasses.replace(module.read_format_options(), html_css="templates/missing.css")
    monkeypatch.setattr(module, "read_format_options", lambda: options)
    with pytest.raises(RenderError) as raised:
        render(notebook, tmp_path, metadata(), formats=("html",))
    assert "pandoc" in str(raised.value) and "missing.css" in str(raised.value)
    assert raised.value.intermediate == tmp_path / "report.md"
    assert raised.value.intermediate.is_file()


def test_error_output_is_not_published(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1/0")
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    nb.cells = [cell]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        render(path, tmp_path / "work", metadata())
