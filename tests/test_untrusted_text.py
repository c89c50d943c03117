"""Untrusted text: parameter strings and zone names stay plain text in every output.

A parameter file, a dataset or a manifest may come from someone else. Their strings
(title, recipient, purpose, zone names...) are printed in the PDF, the HTML, the
workbook and the catalogue; none of them may become HTML, Markdown, Typst or an
embedded file there, and no control or bidirectional character may reach a reader.

The reports are rendered through the pipeline with the strings set on the validated
parameters directly (a family through the command line too), so that the output
layer is tested whatever the parameter reader refuses.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import nbformat
import pypdf
import pytest
from bs4 import BeautifulSoup

from abs_report import catalog_page
from abs_report.cli import main

pytestmark = pytest.mark.slow

COMMUNES = ["38563", "38111", "38407", "38565"]  # the aggregation of test_report_levels: its masks are cached
CHAPTERS = ["Synthèse", "Vue d'ensemble", "Composition des familles", "Revenus et précarité", "Logement",
            "Petite enfance, enfance, jeunesse", "Handicap", "Évolution sur cinq ans", "Quartiers",
            "Sources, méthode et secret statistique"]
SECTIONS = ["Sources", "Définitions", "Méthode", "Secret statistique", "Obligations du destinataire"]
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What no output may hold (tab, line feed and carriage return are layout in HTML and XML)."""
FIELDS = ("title", "recipient", "purpose", "name")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def secret_png(folder: Path) -> Path:
    """A real, readable PNG (one red pixel) with a marker no report holds."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
           + chunk(b"tEXt", b"Comment\x00SECRET-LOCAL-FILE-3141") + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
           + chunk(b"IEND", b""))
    path = folder / "secret.png"
    path.write_bytes(png)
    return path


def families(secret: Path) -> dict[str, dict[str, str]]:
    """Attack strings, one per field, grouped so that one render checks four of them."""
    return {
        "html": {  # through the command line: only characters every reader accepts
            "title": "<script>alert(1)</script>",
            "recipient": "<img src=x onerror=alert(1)> [clic](javascript:alert(1)) <https://exemple.org>",
            "purpose": f'![](/etc/passwd.png) <img src="{secret}"> ![x]({secret}) <iframe src="{secret}">',
            "name": "[x]{.class onclick=alert(1)} <b onmouseover=alert(1)>Zone</b> <style>*{color:red}</style>",
        },
        "raw": {
            "title": "```{=html}\n<script>x</script>\n```",
            "recipient": "\n\n```{=html}\n<script>alert(2)</script>\n```\n\n",
            "purpose": '\n\n```{=typst}\n#panic("injection")\n```\n\n`#sys.exit()`{=typst} `<b>`{=html}',
            "name": "&lt;script&gt; &amp; &#60;b&#62; \\emph{x} \\ <!-- c --> *gras* _it_ ^sup^ ~sub~",
        },
        "typst": {
            "title": '= Faux titre #eval("1+1") $x^2$ #set page(fill: red)',
            "recipient": "Mairie\n# Faux chapitre\n\n## Fausse section\n\nFaux titre\n=========\n",
            "purpose": "@fig-1 [@fig-01] [^1] /* commentaire // ligne\n\n= Faux titre Typst\n\n- liste\n1. un",
            "name": "= Fausse zone ] #set text(size: 40pt) <lbl> $ \\",
        },
        "controls": {
            "title": "Titre\u0000nul\x1b[31mrouge\x1b[0m",
            "recipient": "CCAS\u202eetouq\u2066isolé\u2069\u200e\u200f\u061c",
            "purpose": "Objet\x07\x08\x0b\x0c\x7f\x85\x9b fin\u2028ligne\u2029para\tTab\rCR",
            "name": "Zone\x1b]8;;http://x\x1b\\ lien\u202d\u202a\u202b\u202c",
        },
    }


def literal(text: str) -> str:
    """What a reader must see: the string, controls dropped, each run of white space one space."""
    return " ".join(CONTROLS.sub("", text.replace("\u2028", " ").replace("\u2029", " ")).split())


def flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- rendering


def _params_file(folder: Path, strings: dict[str, str] | None = None) -> Path:
    strings = strings or {"title": "Titre", "recipient": "Test", "purpose": "Test", "name": "Regroupement"}
    doc = {"territory": {"level": "aggregation", "code": "bv-voiron", "name": strings["name"], "communes": COMMUNES},
           "year": 2024, "title": strings["title"], "recipient": strings["recipient"],
           "purpose": strings["purpose"]}
    path = folder / "params.yml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


def _render_direct(folder: Path, strings: dict[str, str], geography) -> Path:
    """Through the pipeline with the strings set on the validated parameters (no reader involved)."""
    from abs_report.pipeline import build_report, prepare, read_report_params

    params, dataset = read_report_params(_params_file(folder), geography)
    territory = dataclasses.replace(params.territory, name=strings["name"])
    params = dataclasses.replace(params, territory=territory, title=strings["title"],
                                 recipient=strings["recipient"], purpose=strings["purpose"])
    report = folder / "report"
    report.mkdir()
    build_report(prepare(params, dataset, geography), report)
    return report


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    return secret_png(tmp_path_factory.mktemp("secret"))


@pytest.fixture(scope="module", params=["html", "raw", "typst", "controls"])
def attacked(request, tmp_path_factory, secret, geography):
    """(strings, report folder, PDF text, PDF reader, HTML text, parsed HTML) of one family."""
    strings = families(secret)[request.param]
    folder = tmp_path_factory.mktemp(f"attack-{request.param}")
    if request.param == "html":
        assert main(["render", str(_params_file(folder, strings)), "--outputs", str(folder / "out")]) == 0
        report = folder / "out" / "bv-voiron" / "2024"
    else:
        report = _render_direct(folder, strings, geography)
    reader = pypdf.PdfReader(report / "report.pdf")
    pdf_text = "\n".join(page.extract_text() for page in reader.pages)
    html = (report / "report.html").read_text(encoding="utf-8")
    return strings, report, pdf_text, reader, html, BeautifulSoup(html, "html.parser")


# --------------------------------------------------------------------------- HTML


def test_html_has_no_script_handler_or_link_out(attacked):
    *_, html, soup = attacked
    assert soup.find_all("script") == []
    for tag in soup.find_all(True):
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        assert not handlers, (tag.name, handlers)
    for tag in soup.find_all(href=True):
        assert tag["href"].startswith("#"), tag["href"]  # a report links only to itself
    for name in ("iframe", "object", "embed", "link", "base", "form", "input", "svg", "math"):
        assert soup.find_all(name) == [], name
    assert len(soup.find_all("style")) == 1
    assert len([m for m in soup.find_all("meta") if m.get("http-equiv", "").lower() == "refresh"]) == 0


def test_html_embeds_only_the_report_figures(attacked, secret):
    *_, html, soup = attacked
    encoded = base64.b64encode(secret.read_bytes()).decode()
    assert encoded[:40] not in html and "SECRET-LOCAL-FILE" not in html
    images = soup.find_all("img")
    assert images
    for img in images:
        assert img["src"].startswith("data:image/svg+xml;base64,"), img["src"][:80]
        assert base64.b64decode(img["src"].split(",", 1)[1]).lstrip().startswith(b"<svg"), img.get("alt")
    assert "/etc/passwd" not in " ".join(img["src"] for img in images)


def test_html_headings_are_the_report_chapters_only(attacked):
    strings, *_, soup = attacked
    # The cover title is the page's one h1; chapters are h2 and sections h3 (accessibility).
    chapters = [h.get_text(" ", strip=True) for h in soup.find_all("h2") if "toc-title" not in h.get("class", [])]
    assert chapters == [f"{n} {c}" for n, c in enumerate(CHAPTERS, 1)]
    sections = [h.get_text(" ", strip=True) for h in soup.find_all("h3")]
    assert sections == [f"10.{n} {s}" for n, s in enumerate(SECTIONS, 1)]
    assert soup.find_all(["h4", "h5", "h6"]) == []
    assert [h.get_text() for h in soup.find_all("h1")] == [literal(strings["title"])]


def test_html_shows_each_string_as_literal_text(attacked):
    strings, *_, soup = attacked
    text = flat(soup.get_text(" "))
    for field in FIELDS:
        assert literal(strings[field]) in text, field
    assert soup.title.get_text() == f"{literal(strings['title'])} – {literal(strings['name'])}"


def test_html_has_no_control_character(attacked):
    *_, html, _ = attacked
    assert not CONTROLS.search(html.replace("\t", "").replace("\n", "").replace("\r", "")), \
        [hex(ord(c)) for c in CONTROLS.findall(html)][:10]
    assert "\u2028" not in html and "\u2029" not in html


# --------------------------------------------------------------------------- PDF


def _outline_titles(reader) -> list[tuple[int, str]]:
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title))

    walk(reader.outline, 0)
    return found


def test_pdf_outline_has_exactly_the_report_chapters(attacked):
    *_, reader, _, _ = attacked
    expected = []
    for number, chapter in enumerate(CHAPTERS, 1):
        expected.append((0, f"{number} {chapter}"))
    expected += [(1, f"10.{n} {s}") for n, s in enumerate(SECTIONS, 1)]
    assert _outline_titles(reader) == expected


def test_pdf_shows_each_string_as_literal_text(attacked):
    strings, _, pdf_text, reader, _, _ = attacked
    # Typst breaks lines, and may break after a hyphen of the string itself ("popen-" at a
    # line end): compare without white space or hyphens.
    text = re.sub(r"[\s-]+", "", pdf_text)
    for field in FIELDS:
        assert re.sub(r"[\s-]+", "", literal(strings[field])) in text, field
    assert reader.metadata.title == f"{literal(strings['title'])} – {literal(strings['name'])}"


def test_pdf_table_of_contents_page_lists_no_forged_chapter(attacked):
    *_, reader, _, _ = attacked
    page = next(page.extract_text() for page in reader.pages if "Sommaire" in page.extract_text())
    contents = page.split("Sommaire", 1)[1]  # below the running header, which prints the title
    assert "Faux" not in contents and "Fausse" not in contents
    assert len(re.findall(r"^\d+(\.\d+)? ", contents, re.M)) == len(CHAPTERS) + len(SECTIONS)


def test_pdf_has_no_control_character(attacked):
    _, _, pdf_text, reader, _, _ = attacked
    assert not CONTROLS.search(pdf_text.replace("\t", "").replace("\n", "").replace("\r", ""))
    assert not CONTROLS.search(reader.metadata.title)


# --------------------------------------------------------------------------- workbook


def test_workbook_cells_are_literal_text_without_controls(attacked):
    import openpyxl

    strings, report, *_ = attacked
    book = openpyxl.load_workbook(report / "tables.xlsx")
    texts = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    assert literal(strings["name"]) in texts
    assert not any(CONTROLS.search(text) for text in texts)
    assert not any(re.search(r"_x[0-9A-Fa-f]{4}_", text) for text in texts)  # no escaped control either


# --------------------------------------------------------------------------- CSP


def _policy(soup) -> dict[str, list[str]]:
    metas = [m for m in soup.find_all("meta") if m.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(metas) == 1
    directives = [d.split() for d in metas[0]["content"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def test_report_csp_allows_no_script_and_only_its_own_styles(attacked):
    *_, html, soup = attacked
    policy = _policy(soup)
    assert policy["default-src"] == ["'none'"]
    assert policy.get("script-src", ["'none'"]) == ["'none'"]
    assert policy["img-src"] == ["data:"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert _sha256(soup.style.string) in policy["style-src"]
    for value in {tag["style"] for tag in soup.find_all(style=True)}:
        assert _sha256(value) in policy["style-src"], value


def test_catalogue_csp_allows_its_filter_script_by_hash(tmp_path):
    entry = catalog_page.Entry("38185", "commune", "<script>alert(1)</script>\x1b[31m\u202eGrenoble", 2024,
                               "38185/2024", ("report.pdf",))
    page = catalog_page.render([entry])
    soup = BeautifulSoup(page, "html.parser")
    policy = _policy(soup)
    scripts = soup.find_all("script")
    assert len(scripts) == 1
    assert policy["script-src"] == [_sha256(scripts[0].string)]
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == [_sha256(soup.style.string)]
    assert not CONTROLS.search(page)
    assert "<script>alert" not in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_report_looks_the_same_with_and_without_its_csp(attacked, tmp_path):
    """The policy blocks nothing the report needs (styles, style attributes and charts display)
    and is enforced: a style of its own added to the page changes nothing."""
    *_, html, soup = attacked
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n?', html)
    forged = (html.replace("</head>", "<style>main { display: none; }</style></head>", 1)
              .replace('<main id="contenu">', '<main id="contenu" style="display: none">', 1))
    pages = (("with", html), ("without", html.replace(csp.group(0), "")), ("forged", forged),
             ("forged-without", forged.replace(csp.group(0), "")))
    pictures = []
    for name, page in pages:
        path = tmp_path / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        picture = tmp_path / f"{name}.png"
        subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / name}",
                        "--window-size=1200,6000", f"--screenshot={picture}", path.as_uri()],
                       capture_output=True, timeout=120, check=True)
        pictures.append(picture.read_bytes())
    assert pictures[0] == pictures[1]
    assert pictures[0] == pictures[2] != pictures[3]


# --------------------------------------------------------------------------- escaping, below the pipeline


def attack_strings(secret: Path) -> list[str]:
    return [text for family in families(secret).values() for text in family.values()]


def _inline_types(node, found: set) -> set:
    if isinstance(node, dict):
        if "t" in node:
            found.add(node["t"])
        for value in node.values():
            _inline_types(value, found)
    elif isinstance(node, list):
        for value in node:
            _inline_types(value, found)
    return found


def test_markdown_escaping_leaves_only_plain_words(secret):
    """Each string, escaped, is read by pandoc as words and spaces, in a paragraph and in a table cell."""
    import pypandoc

    from abs_report.untrusted import markdown_text

    strings = attack_strings(secret)
    paragraphs = "\n\n".join(f"{markdown_text(s)}" for s in strings)
    table = "| a | b |\n|:--|--:|\n" + "\n".join(f"| {markdown_text(s)} | 1 |" for s in strings)
    doc = json.loads(pypandoc.convert_text(paragraphs + "\n\n" + table + "\n", "json",
                                           format="markdown-smart"))
    assert _inline_types(doc["blocks"], set()) <= {"Para", "Str", "Space", "Table", "Plain", "AlignLeft",
                                                   "AlignRight", "AlignDefault", "ColWidth", "ColWidthDefault"}
    texts = [pypandoc.convert_text(markdown_text(s), "plain", format="markdown-smart",
                                   extra_args=["--wrap=none"]).strip() for s in strings[:3]]
    assert texts == [literal(s) for s in strings[:3]]


def test_plain_text_drops_controls_and_bidi_overrides():
    from abs_report.untrusted import plain_text

    for text in ("a\u0000b", "a\x1b[31mb", "a\u202eb", "a\u2066b\u2069", "a\u200e\u200fb", "a\x85b", "a\x7fb"):
        assert not CONTROLS.search(plain_text(text)), repr(text)
    assert plain_text("une\nligne\tet\r\nune autre") == "une ligne et une autre"
    assert plain_text("Caf de l'Isère — 31 décembre") == "Caf de l'Isère — 31 décembre"


def test_embedding_refuses_any_image_but_the_report_figures(tmp_path, secret):
    """Defence in depth: Markdown that reaches the renderer with an image of its own is refused."""
    from abs_report.render import RenderError, render

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": f"# Chapitre\n\n![image]({secret})\n\nTexte <img src=\"{secret}\">\n"})]
    nb.cells = [cell]
    path = tmp_path / "report.ipynb"
    nbformat.write(nb, path)
    encoded = base64.b64encode(secret.read_bytes()).decode()[:40]
    try:
        produced = render(path, tmp_path / "work", {"title": "T", "territory": "Z"}, ("html",))
    except RenderError as error:
        assert "image" in str(error)
        assert not (tmp_path / "work" / "report.html").exists() or \
            encoded not in (tmp_path / "work" / "report.html").read_text(encoding="utf-8")
    else:
        assert encoded not in produced["html"].read_text(encoding="utf-8")
        pytest.fail("an image outside the report's figures was not refused")


def test_chart_labels_are_drawn_as_written():
    """Zone names in charts: two ``$`` would start matplotlib's mathtext (and a bad formula stop the
    report); a leading ``_`` would drop the zone from the legend."""
    import pandas as pd

    from abs_report.figures.charts import _svg, bar_figure

    zones = ["Zone $\\nope{$ $x^2$", "_cachée", "Isère"]
    frame = pd.DataFrame([{"item": item, "zone": zone, "value": 10.0, "status": "published", "unit": "count"}
                          for item in ("Foyers", "Personnes") for zone in zones])
    fig = bar_figure(frame, zones)
    assert [text.get_text().replace("\\$", "$") for text in fig.legends[0].get_texts()] == zones
    assert _svg(fig).rstrip().endswith("</svg>")  # drawn: no mathtext error


def test_catalogue_links_stay_relative_whatever_the_folder_name():
    entry = catalog_page.Entry("x", "commune", "Nom", 2024, "javascript:alert(1)/2024", ("report.pdf",))
    soup = BeautifulSoup(catalog_page.render([entry]), "html.parser")
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs and all(":" not in href for href in hrefs), hrefs
