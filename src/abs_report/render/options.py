"""Format options of the builtin renderer, read from ``_quarto.yml``.

``quarto render`` and the builtin renderer read the same file: page, fonts, table of
contents, section numbering, stylesheet and the PDF standards the Typst compile targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from abs_report.errors import InputError, Problem
from abs_report.paths import project_file

__all__ = ["FormatOptions", "PDF_STANDARDS", "TYPST_PDF_STANDARDS", "read_format_options"]

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
