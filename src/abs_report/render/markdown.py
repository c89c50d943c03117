"""Executed notebook to pandoc Markdown: code hidden, charts extracted as SVG files.

The text is the one nbconvert's Markdown exporter writes (:func:`_nbconvert_markdown`
is the reference), each chart a pandoc figure with its caption and text alternative.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import nbformat
import yaml

from abs_report.untrusted import markdown_text, plain_text

from .errors import RenderError

__all__ = ["FIGURES_DIR", "front_matter", "notebook_to_markdown", "presentable_notebook"]

FIGURES_DIR = "figures"


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

