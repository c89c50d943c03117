"""The quarto renderer: ``quarto render`` on a copy of the notebook, inside the workdir."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from abs_report.errors import Problem
from abs_report.paths import project_file
from abs_report.untrusted import markdown_text

from .errors import RenderError, RendererUnavailable
from .metadata import document_metadata

__all__ = ["render_with_quarto"]


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

