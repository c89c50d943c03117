"""Untrusted text: strings that come from files, made plain text for every output.

A title, a recipient, a purpose, a zone name or a dataset's producer comes from a
parameter file, a dataset or a manifest that someone else may have written. Each
is printed in the PDF, the HTML, the workbook and the catalogue, and must read
there exactly as written, never as markup. Two functions, used wherever such a
string is printed:

- :func:`plain_text` drops what no reader should receive: C0 and C1 control
  characters (NUL, ESC and terminal sequences...) and the bidirectional
  embedding, override, isolate and mark characters that make text display in an
  order other than the one it is stored in; line and paragraph breaks and tabs
  become spaces (each field is one line of text).
- :func:`markdown_text` is :func:`plain_text` escaped for pandoc's Markdown
  reader: a backslash before every ASCII punctuation character, so that no
  HTML, link, image, attribute, raw block, math, citation, footnote, heading
  or list can start inside it, whatever surrounds it.

Metadata (cover, running header, HTML title) never goes through Markdown: the
renderer passes :func:`plain_text` values to pandoc as literal text, which its
Typst and HTML writers escape for their own syntax (``templates/render.lua``).
"""

from __future__ import annotations

import re
import string

__all__ = ["markdown_text", "plain_text"]

_BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
"""Line, paragraph and field breaks: one space each run (a field is one line)."""

_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f"          # C0 and C1 controls (those left after _BREAKS)
    "\u061c\u200e\u200f"           # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a-\u202e"                # embeddings and overrides (LRE, RLE, PDF, LRO, RLO)
    "\u2066-\u2069"                # isolates (LRI, RLI, FSI, PDI)
    "\ud800-\udfff]"               # lone surrogates: not text, and no UTF-8 for them
)
"""Characters no output may hold; dropped."""

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def plain_text(value: object) -> str:
    """``value`` as one line of printable text: controls and bidirectional controls dropped.

    Parameters
    ----------
    value : object
        Usually a string from a parameter file, a dataset or a manifest.

    Returns
    -------
    str
        The same text for ordinary input; breaks and tabs become single spaces.
    """
    return _INVISIBLE.sub("", _BREAKS.sub(" ", str(value)))


def markdown_text(value: object) -> str:
    """``value`` for pandoc Markdown: read back as exactly :func:`plain_text` of it, words and spaces only.

    Every ASCII punctuation character is backslash-escaped (pandoc's
    ``all_symbols_escapable``): ``<``, ``[``, ``!``, `````, ``{``, ``$``, ``@``,
    ``#``, ``&``, ``*``, ``_``, ``|``, ``\\``... print as themselves in a paragraph,
    a heading or a table cell. The string holds no line break, and its leading
    and trailing spaces are dropped, so it cannot start a block of its own
    (heading, list, code block) even where it is pasted at the start of a line.
    """
    return _PUNCTUATION.sub(r"\\\1", plain_text(value).strip())
