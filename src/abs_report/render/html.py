"""The HTML edition: one self-contained page, its own figures and stylesheet embedded, with its CSP."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from abs_report.paths import project_file

from .options import FormatOptions

__all__ = ["HTML_TEMPLATE", "STYLE_ATTRIBUTES", "content_security_policy", "html_edition"]

HTML_TEMPLATE = project_file("templates", "report.html")
STYLE_ATTRIBUTES = ("text-align: left;", "text-align: right;", "text-align: center;")
"""The only style attributes of a report: pandoc's HTML writer aligns table columns with them."""


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

