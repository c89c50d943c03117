"""Report metadata handed to pandoc or Quarto: front matter and parameters, each value text."""

from __future__ import annotations

from typing import Any

from abs_report.untrusted import plain_text

__all__ = ["CONTENT_KEYS", "DEMO_LABEL", "document_metadata"]

DEMO_LABEL = "Données fictives de démonstration"
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
