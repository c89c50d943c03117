"""The renderer's own failures: a tool that failed, a renderer that cannot run here."""

from __future__ import annotations

from pathlib import Path

from abs_report.errors import BuildFailed, InputError

__all__ = ["RenderError", "RendererUnavailable"]


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
