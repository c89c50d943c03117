"""The Typst edition: pandoc's Typst source from ``templates/report.typ``, compiled to PDF.

The ``typst`` wheel compiles with its own fonts only (no system font changes a
report), dated by the caller, to the PDF standards of the format options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from abs_report.paths import project_file

from .errors import RenderError
from .options import PDF_STANDARDS, FormatOptions

__all__ = ["TYPST_TEMPLATE", "typst_edition", "typst_to_pdf"]

TYPST_TEMPLATE = project_file("templates", "report.typ")


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

