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

Each concern has its module: :mod:`.options` (``_quarto.yml``), :mod:`.markdown`
(notebook to Markdown), :mod:`.metadata`, :mod:`.pandoc` (the ``pandoc lua``
process), :mod:`.typst_pdf` (Typst to PDF), :mod:`.html` (the HTML edition and its
CSP), :mod:`.quarto` (the quarto renderer); this one holds the entry point.
"""

from __future__ import annotations

from pathlib import Path

from abs_report.errors import InputError, Problem

from .errors import RenderError, RendererUnavailable
from .markdown import notebook_to_markdown, presentable_notebook
from .metadata import document_metadata
from .options import FormatOptions, read_format_options
from .pandoc import PANDOC, PandocProcess, pandoc_editions
from .quarto import render_with_quarto
from .typst_pdf import typst_to_pdf

__all__ = ["PANDOC", "FormatOptions", "PandocProcess", "RenderError", "RendererUnavailable",
           "document_metadata", "notebook_to_markdown", "presentable_notebook", "read_format_options",
           "render", "render_with_quarto"]


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
