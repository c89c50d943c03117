"""Executed notebook to PDF and self-contained HTML.

The builtin renderer drives the engines Quarto itself uses, all installed from PyPI:
the executed notebook becomes Markdown (code hidden, charts extracted as SVG files,
the text nbconvert's Markdown exporter writes), pandoc (``pypandoc-binary``) turns
that Markdown into Typst source and into standalone HTML (one ``pandoc lua`` process,
:class:`PandocProcess`, kept for report after report), and the ``typst`` wheel
compiles the PDF with its own fonts only. Format options come from ``_quarto.yml`` so
that ``quarto render`` and the builtin renderer read the same file.

Everything is written inside ``workdir``: territories render side by side, and a
shared ``<input>_files`` folder would let them overwrite each other's charts.
"""

from __future__ import annotations

import atexit
import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

from abs_report.errors import BuildFailed, InputError, Problem
from abs_report.paths import project_file
from abs_report.untrusted import markdown_text, plain_text

__all__ = ["FormatOptions", "RenderError", "RendererUnavailable", "read_format_options", "render"]

FIGURES_DIR = "figures"
FILTER = project_file("templates", "report.lua")
TYPST_TEMPLATE = project_file("templates", "report.typ")
HTML_TEMPLATE = project_file("templates", "report.html")
PANDOC_PROGRAM = project_file("templates", "render.lua")
DEMO_LABEL = "Données fictives de démonstration"
PDF_STANDARDS = ("ua-1", "a-2a")
"""Default of ``format.typst.pdf-standard``: PDF/UA-1 (accessible) and PDF/A-2a (archival,
level "a": tagged, Unicode text); docs/ACCESSIBILITY.md.

The typst 0.15.2 wheel accepts ``ua-1`` with ``a-2a``, ``a-2b``, ``a-2u`` or ``a-3a``
(not with ``a-4``: PDF/A-4 is PDF 2.0, PDF/UA-1 at most 1.7). Typst then refuses to
write a file that breaks a rule it can check (an outline entry holding a link, an
image without ``alt``), writes ``/Lang``, ``DisplayDocTitle`` and the XMP
identification, and marks page header, footer and background as artefacts.
"""
TYPST_PDF_STANDARDS = ("1.4", "1.5", "1.6", "1.7", "2.0", "a-1a", "a-1b", "a-2a", "a-2b", "a-2u",
                       "a-3a", "a-3b", "a-3u", "a-4", "a-4e", "a-4f", "ua-1")
"""What ``typst.compile(pdf_standards=...)`` knows (the wheel's ``PDFStandard``)."""
CONTENT_KEYS = (
    "title",
    "subtitle",
    "territory",
    "territory_level",
    "comparison_zones",
    "reference_date",
    "recipient",
    "purpose",
    "source",
    "edition_date",
)
"""Metadata printed in the document: literal text, that pandoc escapes for Typst and HTML."""
STYLE_ATTRIBUTES = ("text-align: left;", "text-align: right;", "text-align: center;")
"""The only style attributes of a report: pandoc's HTML writer aligns table columns with them."""


class RenderError(BuildFailed):
    """pandoc or Typst failed; the intermediate file is kept in the workdir.

    Parameters
    ----------
    message : str
        What failed, with the tool's own message.
    intermediate : Path
        The file the failing tool was given (Markdown or Typst source), kept for
        debugging.
    """

    def __init__(self, message: str, intermediate: Path):
        self.intermediate = intermediate
        super().__init__(f"{message}\nFichier intermédiaire conservé : {intermediate}")


class RendererUnavailable(InputError):
    """The requested renderer cannot run on this machine (no ``quarto`` on PATH)."""


@dataclass(frozen=True)
class FormatOptions:
    """Format options read from ``_quarto.yml`` (``format: typst`` and ``format: html``)."""

    papersize: str = "a4"
    lang: str = "fr"
    toc: bool = True
    toc_depth: int = 2
    toc_title: str = "Sommaire"
    number_sections: bool = True
    mainfont: str = "Libertinus Serif"
    codefont: str = "DejaVu Sans Mono"
    fontsize: str = "10.5pt"
    html_toc: bool = True
    html_toc_depth: int = 2
    html_number_sections: bool = True
    html_css: str = "templates/report.css"
    pdf_standards: tuple[str, ...] = PDF_STANDARDS


# --------------------------------------------------------------------------- options


def read_format_options(quarto_yml: Path | None = None) -> FormatOptions:
    """Read the format options of the builtin renderer from a Quarto project file.

    Parameters
    ----------
    quarto_yml : Path, optional
        Defaults to the checkout's ``_quarto.yml``.

    Returns
    -------
    FormatOptions
        Defaults for every key the file does not set.
    """
    path = quarto_yml or project_file("_quarto.yml")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    formats = config.get("format") or {}
    typst = formats.get("typst") or {}
    html = formats.get("html") or {}
    defaults = FormatOptions()
    fontsize = str(typst.get("fontsize", defaults.fontsize))
    if not re.fullmatch(r"\d+(\.\d+)?pt", fontsize):
        # The value is pasted into Typst code: accept only a plain length.
        raise InputError(Problem(str(path), "taille attendue en points, par ex. 10.5pt",
                                 field="format.typst.fontsize", value=fontsize))
    standards = typst.get("pdf-standard", list(defaults.pdf_standards))
    standards = [standards] if isinstance(standards, str) else standards
    if not isinstance(standards, list) or any(str(s) not in TYPST_PDF_STANDARDS for s in standards):
        raise InputError(Problem(str(path), "normes possibles : " + ", ".join(TYPST_PDF_STANDARDS),
                                 field="format.typst.pdf-standard", value=standards))
    return FormatOptions(
        pdf_standards=tuple(str(s) for s in standards),
        papersize=str(typst.get("papersize", defaults.papersize)),
        lang=str(typst.get("lang", config.get("lang", defaults.lang))),
        toc=bool(typst.get("toc", defaults.toc)),
        toc_depth=int(typst.get("toc-depth", defaults.toc_depth)),
        toc_title=str(typst.get("toc-title", defaults.toc_title)),
        number_sections=bool(typst.get("number-sections", defaults.number_sections)),
        mainfont=str(typst.get("mainfont", defaults.mainfont)),
        codefont=str(typst.get("codefont", defaults.codefont)),
        fontsize=fontsize,
        html_toc=bool(html.get("toc", defaults.html_toc)),
        html_toc_depth=int(html.get("toc-depth", defaults.html_toc_depth)),
        html_number_sections=bool(html.get("number-sections", defaults.html_number_sections)),
        html_css=str(html.get("css", defaults.html_css)),
    )


# --------------------------------------------------------------------------- notebook


def front_matter(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The YAML front matter of the notebook's first raw cell, or ``{}``."""
    if not nb.cells or nb.cells[0].cell_type != "raw":
        return {}
    match = re.match(r"\s*---\s*\n(.*?)\n---\s*$", nb.cells[0].source, re.S)
    if not match:
        return {}
    loaded = yaml.safe_load(match.group(1))
    return loaded if isinstance(loaded, dict) else {}


def _svg_for_print(svg: str) -> str:
    """Drop the XML prolog, DOCTYPE and RDF metadata block of a matplotlib SVG.

    The metadata carries a creation date (breaks byte-identical re-renders) and
    links to external vocabularies that a self-contained report does not need.
    """
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    return svg.strip() + "\n"


def _figure_markdown(caption: str, alt: str, filename: str, number: int) -> str:
    """A pandoc implicit figure: caption as title, ``alt`` as the image's text alternative.

    The alt text holds zone names: one line of plain text, its backslashes, quotes and
    ampersands escaped inside the quoted attribute value.
    """
    alt_attr = plain_text(alt).replace("\\", "\\\\").replace('"', '\\"').replace("&", "\\&")
    attributes = f'{{#fig-{number:02d} alt="{alt_attr}"}}'
    return f"![{markdown_text(caption)}]({FIGURES_DIR}/{filename}){attributes}\n"


def _markdown_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/markdown": text})


def _presentable_outputs(outputs: list, figures_dir: Path, counter: list[int]) -> list:
    """Keep what a reader should see: Markdown and captioned SVG charts.

    Streams and plain-text reprs never reach the document;
    each SVG is written to a stable file name (``figure-01.svg``...) and replaced by
    Markdown that pandoc turns into a figure with its caption and alt text.
    """
    kept = []
    for output in outputs:
        if output.output_type not in ("display_data", "execute_result"):
            continue
        data = output.get("data", {})
        if "image/svg+xml" in data:
            counter[0] += 1
            info = output.get("metadata", {}).get("image/svg+xml", {}).get("abs_report", {})
            filename = f"figure-{counter[0]:02d}.svg"
            svg = data["image/svg+xml"]
            svg = "".join(svg) if isinstance(svg, list) else svg
            (figures_dir / filename).write_text(_svg_for_print(svg), encoding="utf-8")
            caption = info.get("caption", "")
            figure = _figure_markdown(caption, info.get("alt", caption), filename, counter[0])
            kept.append(_markdown_output(figure))
        elif "text/markdown" in data:
            kept.append(_markdown_output(data["text/markdown"]))
    return kept


def _check_no_errors(nb: nbformat.NotebookNode, path: Path) -> None:
    """Refuse to publish a notebook whose execution failed somewhere."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                raise RenderError(
                    f"Le notebook exécuté contient une erreur (cellule {index}) : "
                    f"{output.get('ename')}: {output.get('evalue')}",
                    path,
                )


def presentable_notebook(nb: nbformat.NotebookNode, figures_dir: Path) -> nbformat.NotebookNode:
    """A copy of ``nb`` holding only what the report shows, charts extracted to files.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    figures_dir : Path
        Where the SVG charts are written (inside the workdir).

    Returns
    -------
    NotebookNode
        Raw cells (front matter) removed, code cells with presentable outputs only.
    """
    figures_dir.mkdir(parents=True, exist_ok=True)
    clean = copy.deepcopy(nb)
    counter = [0]
    cells = []
    for cell in clean.cells:
        if cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            cell.outputs = _presentable_outputs(cell.outputs, figures_dir, counter)
        cells.append(cell)
    clean.cells = cells
    return clean


def _cells_markdown(nb: nbformat.NotebookNode) -> str:
    """The Markdown nbconvert's ``MarkdownExporter`` writes for a presentable notebook, inputs hidden.

    A presentable notebook holds only Markdown cells and ``text/markdown`` outputs
    (charts are already Markdown figures), so the exporter's template reduces to
    their texts one after another; joining them directly gives the same document
    once blank-line runs are collapsed, without nbconvert's Jinja and preprocessors
    (0.1 s a report). Checked byte for byte against :func:`_nbconvert_markdown` on
    50 executed reports; ``make bench`` checks it again on the report it profiles.
    """
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code":
            parts += [output["data"]["text/markdown"] for output in cell.get("outputs", [])]
    return "\n\n".join(parts)


def notebook_to_markdown(executed: Path, workdir: Path) -> tuple[str, dict[str, Any]]:
    """Convert the executed notebook to pandoc Markdown, inputs hidden.

    Returns
    -------
    tuple of (str, dict)
        The Markdown body and the notebook's front matter.
    """
    nb = nbformat.read(executed, as_version=4)
    _check_no_errors(nb, executed)
    clean = presentable_notebook(nb, workdir / FIGURES_DIR)
    body = _cells_markdown(clean)
    # Cells join with runs of blank lines; collapse them so the file diffs cleanly.
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return body, front_matter(nb)


def _nbconvert_markdown(clean: nbformat.NotebookNode) -> str:
    """nbconvert's Markdown of a presentable notebook (the reference :func:`_cells_markdown` matches)."""
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter(
        exclude_input=True, exclude_raw=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(clean)
    return re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


# --------------------------------------------------------------------------- metadata


def document_metadata(front: dict[str, Any], metadata: dict[str, Any], escape=plain_text) -> dict[str, Any]:
    """Merge front matter and report metadata (metadata wins), each value one line of text.

    The builtin renderer hands these values to pandoc as literal text (never read
    as Markdown), so "Caf de l'Isère", "3 * 2" or "<b>" print exactly as given and
    each writer escapes them for its format; ``escape=markdown_text`` suits a
    renderer that reads metadata as Markdown (Quarto).
    """
    merged = {key: front[key] for key in CONTENT_KEYS if key in front}
    merged.update({key: metadata[key] for key in CONTENT_KEYS if metadata.get(key) is not None})
    doc: dict[str, Any] = {}
    for key, value in merged.items():
        if isinstance(value, (list, tuple)):
            doc[key] = [escape(item) for item in value]
        else:
            doc[key] = escape(value)
    doc["demo"] = bool(metadata.get("demo", front.get("demo", False)))
    return doc


# --------------------------------------------------------------------------- pandoc


class PandocProcess:
    """A ``pandoc lua templates/render.lua`` process that renders report after report.

    Starting pandoc, growing its heap and reading a format once costs more than
    converting one report: in a batch, three pandoc runs took 0.49 CPU-s a report,
    one request to a process that lives on takes 0.30 s. A batch worker keeps one for all its
    reports; a single render starts one and stops it at exit. A process is only
    used by the process that started it (a forked child starts its own).
    """

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._owner = 0
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        import pypandoc

        self._process = subprocess.Popen(
            [pypandoc.get_pandoc_path(), "lua", str(PANDOC_PROGRAM)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8",
            # Its own session: Ctrl-C in the terminal is for the batch to handle (the report
            # in progress is finished), not for pandoc. It ends when its owner's pipe closes.
            start_new_session=True,
        )
        self._owner = os.getpid()
        return self._process

    def request(self, request: dict[str, Any], intermediate: Path) -> None:
        """Send one request; RenderError naming ``intermediate`` when pandoc refuses it or stops."""
        with self._lock:
            process = self._process
            if process is None or self._owner != os.getpid() or process.poll() is not None:
                process = self._start()
            try:
                process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError:
                line = ""
            if not line:
                self._process = None
                try:
                    code = process.wait(timeout=5)
                except subprocess.TimeoutExpired:  # alive but mute: no use to anyone
                    process.kill()
                    code = process.wait()
                raise RenderError(f"pandoc s'est arrêté (code {code})", intermediate)
        reply = json.loads(line)
        if "error" in reply:
            raise RenderError(f"pandoc a échoué : {reply['error']}", intermediate)

    def close(self) -> None:
        """Stop the process (it also stops by itself when its owner's pipe closes)."""
        with self._lock:
            process, self._process = self._process, None
            if process is not None and self._owner == os.getpid():
                process.stdin.close()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                process.stdout.close()


PANDOC = PandocProcess()
atexit.register(PANDOC.close)


def typst_edition(options: FormatOptions, workdir: Path) -> dict[str, Any]:
    """The Typst source of the report, from ``templates/report.typ``."""
    variables = {
        "papersize": options.papersize,
        "lang": options.lang,
        "mainfont": options.mainfont,
        "codefont": options.codefont,
        "fontsize": options.fontsize,
        "toc-depth": str(options.toc_depth),
        "toc-title": options.toc_title,
    }
    if options.toc:
        variables["toc"] = "true"
    if options.number_sections:
        variables["section-numbering"] = "1.1"
    return {"format": "typst", "template": str(TYPST_TEMPLATE), "variables": variables,
            "output": str(workdir / "report.typ")}


def _csp_source(text: str) -> str:
    """A CSP hash source (``'sha256-...'``) of an inline style or script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(stylesheets: list[Path]) -> str:
    """The report's policy: no script, no request, images only as data URIs, its own styles only.

    A second line of defence behind the escaping of every user string: were markup
    to get through, the browser would still run nothing and fetch nothing. The
    stylesheet is allowed by the hash of the ``<style>`` element the template writes
    (``<style>`` then a line break then the file), pandoc's column alignments by
    the hashes of their ``style`` attributes; any other style is refused.
    """
    styles = []
    for path in stylesheets:
        try:
            styles.append(_csp_source("\n" + path.read_text(encoding="utf-8")))
        except OSError:
            continue  # pandoc reads the stylesheets too, and names the one missing
    attributes = [_csp_source(value) for value in STYLE_ATTRIBUTES]
    return ("default-src 'none'; img-src data:; style-src " + " ".join(styles + ["'unsafe-hashes'", *attributes])
            + "; base-uri 'none'; form-action 'none'")


def html_edition(options: FormatOptions, workdir: Path) -> dict[str, Any]:
    """Standalone HTML, charts and stylesheet embedded (no ``--mathjax``: no CDN), with its CSP.

    The filter moves every heading one level down (the cover title is the page's one
    ``h1``), so the table of contents goes one level deeper to list the same sections.
    """
    stylesheet = project_file(options.html_css)
    return {
        "format": "html5",
        "template": str(HTML_TEMPLATE),
        "variables": {"lang": options.lang, "toc-title": options.toc_title,
                      "csp": content_security_policy([stylesheet])},
        "options": {
            "table_of_contents": options.html_toc,
            "toc_depth": options.html_toc_depth + 1,
            "number_sections": options.html_number_sections,
            "section_divs": True,
            "reference_location": "end-of-section",
        },
        "embed": True,
        "stylesheets": [str(stylesheet)],
        "output": str(workdir / "report.html"),
    }


def pandoc_editions(markdown: Path, metadata: dict[str, Any], options: FormatOptions,
                    formats: tuple[str, ...]) -> dict[str, Path]:
    """Typst source (``report.typ``) and/or ``report.html`` beside ``markdown``, one pandoc read.

    The Lua filter ``templates/report.lua`` applies to each edition; ``metadata``
    (from :func:`document_metadata`) is given to pandoc as literal text.
    """
    workdir = markdown.parent
    editions = {}
    if "pdf" in formats:
        editions["typst"] = typst_edition(options, workdir)
    if "html" in formats:
        editions["html"] = html_edition(options, workdir)
    request = {"markdown": str(markdown), "metadata": metadata, "filter": str(FILTER),
               "editions": list(editions.values())}
    PANDOC.request(request, markdown)
    return {name: Path(edition["output"]) for name, edition in editions.items()}


def typst_to_pdf(source: Path, workdir: Path, timestamp: int | None,
                 standards: tuple[str, ...] = PDF_STANDARDS) -> Path:
    """Compile the PDF with the typst wheel's fonts only, dated ``timestamp``, to ``standards``."""
    import typst

    target = workdir / "report.pdf"
    try:
        typst.compile(
            str(source), output=str(target), root=str(workdir), format="pdf",
            ignore_system_fonts=True, timestamp=timestamp, pdf_standards=list(standards),
        )
    except typst.TypstError as error:
        detail = "\n".join([error.message, *getattr(error, "hints", [])])
        raise RenderError(f"Typst a échoué : {detail}", source) from error
    return target


# --------------------------------------------------------------------------- quarto


def _quarto_executable() -> str:
    executable = shutil.which("quarto")
    if executable is None:
        raise RendererUnavailable(
            Problem(
                "quarto",
                "aucun exécutable « quarto » dans le PATH ; utilisez le moteur intégré "
                "(--renderer builtin) / no `quarto` executable on PATH; use the builtin renderer",
                field="renderer",
                value="quarto",
            )
        )
    return executable


def render_with_quarto(
    executed: Path, workdir: Path, metadata: dict, formats: tuple[str, ...]
) -> dict[str, Path]:
    """Run ``quarto render`` on a copy of the notebook inside ``workdir``.

    The project file, stylesheet and a metadata file are copied beside the notebook
    so that Quarto's ``report_files`` folder stays in the private workdir.
    """
    executable = _quarto_executable()
    workdir.mkdir(parents=True, exist_ok=True)
    notebook = workdir / "report.ipynb"
    shutil.copyfile(executed, notebook)
    shutil.copyfile(project_file("_quarto.yml"), workdir / "_quarto.yml")
    (workdir / "templates").mkdir(exist_ok=True)
    shutil.copyfile(project_file("templates", "report.css"), workdir / "templates" / "report.css")
    # Quarto reads metadata as Markdown: every value escaped, so that it stays text.
    doc = document_metadata({}, metadata, escape=markdown_text)
    meta_file = workdir / "metadata.yml"
    meta_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=True), encoding="utf-8")
    env = None
    if metadata.get("timestamp") is not None:
        # Quarto passes SOURCE_DATE_EPOCH on to Typst: same PDF date as the builtin renderer.
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(metadata["timestamp"]))}
    produced = {}
    for fmt in formats:
        quarto_format = "typst" if fmt == "pdf" else fmt
        completed = subprocess.run(
            [executable, "render", notebook.name, "--to", quarto_format, "--no-execute",
             "--metadata-file", meta_file.name],
            cwd=workdir, capture_output=True, text=True, check=False, env=env,
        )
        target = workdir / f"report.{fmt}"
        if completed.returncode != 0 or not target.exists():
            detail = completed.stderr.strip()
            raise RenderError(f"quarto render a échoué (code {completed.returncode}) : {detail}", notebook)
        produced[fmt] = target
    return produced


# --------------------------------------------------------------------------- entry point


def render(
    executed: Path,
    workdir: Path,
    metadata: dict,
    formats: tuple[str, ...] = ("pdf", "html"),
    renderer: str = "builtin",
) -> dict[str, Path]:
    """Render an executed report notebook to PDF and/or self-contained HTML.

    Parameters
    ----------
    executed : Path
        The executed ``.ipynb``.
    workdir : Path
        Private scratch folder; every file is written there, nothing elsewhere.
    metadata : dict
        ``title``, ``subtitle``, ``territory``, ``territory_level``,
        ``comparison_zones`` (list of str), ``reference_date``, ``recipient``,
        ``purpose``, ``source``, ``demo`` (bool), ``edition_date``, ``timestamp``
        (int, seconds since epoch: the PDF creation date). Wins over the notebook's
        front matter.
    formats : tuple of str
        Any of ``"pdf"`` and ``"html"``.
    renderer : str
        ``"builtin"`` (pandoc + Typst from PyPI) or ``"quarto"`` (a ``quarto`` on PATH).

    Returns
    -------
    dict of str to Path
        ``{"pdf": ..., "html": ...}`` for the requested formats, inside ``workdir``.

    Raises
    ------
    RendererUnavailable
        ``renderer="quarto"`` and no ``quarto`` executable on PATH.
    RenderError
        pandoc, Typst or Quarto failed; the intermediate file is named.
    """
    executed, workdir = Path(executed), Path(workdir)
    unknown = [fmt for fmt in formats if fmt not in ("pdf", "html")]
    if unknown:
        raise InputError(
            Problem(str(executed), "formats possibles : pdf, html", field="formats", value=unknown)
        )
    if renderer == "quarto":
        return render_with_quarto(executed, workdir, metadata, formats)
    if renderer != "builtin":
        raise InputError(
            Problem(str(executed), "moteurs possibles : builtin, quarto", field="renderer", value=renderer)
        )
    workdir.mkdir(parents=True, exist_ok=True)
    options = read_format_options()
    body, front = notebook_to_markdown(executed, workdir)
    markdown = workdir / "report.md"
    markdown.write_text(body, encoding="utf-8")
    sources = pandoc_editions(markdown, document_metadata(front, metadata), options, formats)
    produced: dict[str, Path] = {}
    if "typst" in sources:
        produced["pdf"] = typst_to_pdf(sources["typst"], workdir, metadata.get("timestamp"),
                                       options.pdf_standards)
    if "html" in sources:
        produced["html"] = sources["html"]
    return produced
