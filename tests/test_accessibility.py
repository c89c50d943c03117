"""Accessible and archivable reports (issue 16): PDF/UA-1 + PDF/A-2, and RGAA / WCAG 2.1 AA HTML.

One small batch (Grenoble and its EPCI, PDF and HTML) is built once; its two reports and
its catalogue ``outputs/index.html`` are checked with maintained tools, not rules of ours:

* the PDF with ``pdfua`` (the machine-checkable part of PDF/UA-1, on pikepdf), then with
  pikepdf for what pdfua leaves out: the structure tree (headings matching the bookmarks,
  tables with header cells, figures with ``/Alt``), ``/Lang`` and the XMP identification;
* the HTML with axe-core in Debian's headless Chromium (``tests/a11y``, installed by
  ``make test``): no violation of the WCAG 2.1 A and AA rules, nor of the few best-practice
  rules RGAA asks for (one h1, headings in order, landmarks, skip link).

docs/ACCESSIBILITY.md says what these checks cover and what a person still has to check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pdfua import validate

from abs_report import render
from abs_report.cli import main
from abs_report.errors import InputError
from conftest import REPO

pytestmark = pytest.mark.slow

GRENOBLE, EPCI = "38185", "200040715"
AXE_DIR = REPO / "tests" / "a11y"
# pdfua 0.1.3's empty-heading rule raises on an array /K with pikepdf 10 (its `getattr(obj,
# "is_integer", False)` meets a ValueError, not an AttributeError): the rule is skipped, and
# test_headings_match_bookmarks checks that every heading holds text instead.
KNOWN_SKIPPED = {"UA-14-001"}


def _params(folder: Path, level: str, code: str) -> None:
    (folder / f"{level}-{code}.yml").write_text(
        f'territory:\n  level: {level}\n  code: "{code}"\nyear: 2024\n'
        "recipient: CCAS de test\npurpose: Test d'accessibilité\nformats: [pdf, html]\n", encoding="utf-8")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """``abs-report batch`` over Grenoble and Grenoble-Alpes-Métropole: two reports and the catalogue."""
    root = tmp_path_factory.mktemp("a11y")
    params_dir, outputs = root / "params", root / "outputs"
    params_dir.mkdir()
    _params(params_dir, "commune", GRENOBLE)
    _params(params_dir, "epci", EPCI)
    assert main(["batch", "--departement", "38", "--year", "2024", "--params-dir", str(params_dir),
                 "--outputs", str(outputs), "--workers", "1"]) == 0
    return outputs


@pytest.fixture(scope="module", params=[GRENOBLE, EPCI])
def report(request, outputs) -> Path:
    return outputs / request.param / "2024"


# --------------------------------------------------------------------------- PDF


def test_pdf_standards_come_from_quarto_yml(tmp_path):
    assert render.read_format_options().pdf_standards == ("ua-1", "a-2a")
    bad = tmp_path / "_quarto.yml"
    bad.write_text("format:\n  typst:\n    pdf-standard: [ua-1, a-9z]\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        render.read_format_options(bad)
    assert "format.typst.pdf-standard" in str(caught.value) and "a-9z" in str(caught.value)



def test_pdf_passes_pdfua(report):
    result = validate(str(report / "report.pdf"))
    findings = [(f.rule_id, f.severity.name, f.message) for f in result.findings]
    assert findings == []
    skipped = {o.rule_id: o.skipped_reason for o in result.outcomes if o.skipped_reason}
    assert set(skipped) <= KNOWN_SKIPPED, skipped


def test_pdf_declares_ua1_and_a2_in_xmp(report):
    with pikepdf.open(report / "report.pdf") as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfuaid:part") == "1"
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "A"
        assert pdf.Root.Lang == "fr"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True  # title, not file name, in the window
        assert meta.get("dc:title").startswith("Analyse des besoins sociaux – ")


def _elements(node, role: str | None = None):
    """Structure elements under ``node`` in reading order, optionally of one role."""
    kids = node.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]) if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            if role is None or kid.S == role:
                yield kid
            yield from _elements(kid, role)


def _has_content(node) -> bool:
    """True when ``node`` marks some page content (an MCID), itself or below."""
    kids = node.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]) if kids is not None else []:
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Dictionary)
                                    and (kid.get("/Type") == "/MCR" or _has_content(kid))):
            return True
    return False


def _bookmarks(outline) -> list[tuple[int, str]]:
    found = []

    def walk(items, depth):
        for item in items:
            found.append((depth, item.title))
            walk(item.children, depth + 1)
    walk(outline.root, 1)
    return found


def test_headings_match_bookmarks(report):
    """The H1/H2 elements, in reading order, are the chapters and sections of the bookmarks
    (the table of contents), each holding text; the contents page's own title comes first."""
    with pikepdf.open(report / "report.pdf") as pdf:
        with pdf.open_outline() as outline:
            bookmarks = [(depth, re.sub(r"^[\d.]+ ", "", title)) for depth, title in _bookmarks(outline)]
        headings = [element for element in _elements(pdf.Root.StructTreeRoot)
                    if re.fullmatch(r"/H\d?", str(element.S))]
        assert all(_has_content(h) for h in headings)
        tagged = [(int(str(h.S)[2:]), str(h.get("/T", ""))) for h in headings]
        assert tagged[0] == (1, "Sommaire")
        assert tagged[1:] == bookmarks
        assert (1, "Sources, méthode et secret statistique") in bookmarks


def test_every_table_has_header_cells(report):
    with pikepdf.open(report / "report.pdf") as pdf:
        tables = list(_elements(pdf.Root.StructTreeRoot, "/Table"))
        assert len(tables) >= 5
        for table in tables:
            headers = list(_elements(table, "/TH"))
            assert headers and all(h.get("/A") is None or h.A.get("/Scope") in (None, "/Column", "/Both")
                                   for h in headers)


def test_every_figure_has_alt_text(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    with pikepdf.open(report / "report.pdf") as pdf:
        figures = list(_elements(pdf.Root.StructTreeRoot, "/Figure"))
        assert len(figures) == html.count("<img ")  # every chart of the HTML, tagged in the PDF
        for figure in figures:
            alt = str(figure.get("/Alt", ""))
            # Bar and line charts and maps (issues 13 and 14) each say what they show.
            assert alt.startswith(("Diagramme en barres", "Graphique en courbes", "Carte ")) and len(alt) > 40, alt


def test_running_header_and_footer_are_artefacts(report):
    """Page 2 shows text inside /Artifact marked content (running header and footer), and
    tagged text outside it (the body): furniture is skipped by a screen reader, content is not."""
    with pikepdf.open(report / "report.pdf") as pdf:
        stack, shown = [], {True: 0, False: 0}
        for op in pikepdf.parse_content_stream(pdf.pages[1]):
            name = str(op.operator)
            if name in ("BDC", "BMC"):
                stack.append(op.operands[0] == pikepdf.Name.Artifact)
            elif name == "EMC":
                stack.pop()
            elif name in ("Tj", "TJ", "'", '"'):
                shown[any(stack)] += 1
        assert shown[True] and shown[False], shown


# --------------------------------------------------------------------------- HTML (axe-core)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _axe_unavailable() -> str | None:
    if _chromium() is None:
        return "headless Chromium not installed (make system-deps)"
    if shutil.which("node") is None:
        return "node not installed"
    if not (AXE_DIR / "node_modules" / "axe-core").is_dir():
        return "axe-core not installed (make a11y-tools)"
    return None


@pytest.fixture(scope="module")
def axe_results(outputs) -> dict[str, list[dict]]:
    reason = _axe_unavailable()
    if reason:
        pytest.skip(reason)
    pages = [outputs / GRENOBLE / "2024" / "report.html", outputs / EPCI / "2024" / "report.html",
             outputs / "index.html"]
    completed = subprocess.run(["node", str(AXE_DIR / "axe.js"), _chromium(), *map(str, pages)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    return {Path(page).relative_to(outputs).as_posix(): found for page, found in results.items()}


@pytest.mark.parametrize("page", [f"{GRENOBLE}/2024/report.html", f"{EPCI}/2024/report.html", "index.html"])
def test_axe_finds_no_wcag21_aa_violation(axe_results, page):
    violations = {v["id"]: (v["count"], v["help"], v["nodes"][:3]) for v in axe_results[page]}
    assert violations == {}


def test_report_html_tables_and_headings_without_a_browser(report):
    """What axe checks, in its simplest form, where no browser is installed: one h1, every
    table captioned with scoped column and row headers, every chart with its alt text."""
    html = (report / "report.html").read_text(encoding="utf-8")
    assert html.count("<h1") == 1 and "<h5" not in html
    tables = re.findall(r"<table>.*?</table>", html, re.S)
    assert tables
    for table in tables:
        assert "<caption>" in table and 'scope="col"' in table and 'scope="row"' in table, table[:300]
    assert re.findall(r"<img ", html) and not re.findall(r"<img (?![^>]*alt=\"[^\"]+\")", html)


def test_report_html_has_no_script(report):
    """The report is read, not run: no script, no inline event handler (a11y must not need one)."""
    html = (report / "report.html").read_text(encoding="utf-8").lower()
    assert "<script" not in html and " onclick=" not in html and " onload=" not in html
