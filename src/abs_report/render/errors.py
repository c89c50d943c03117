"""The renderer's own failures: a tool that failed, a renderer that cannot run here."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from abs_report.errors import BuildFailed, InputError

__all__ = ["RenderError", "RendererUnavailable"]


class RenderError(BuildFailed):
    """pandoc or Typst failed on an intermediate file (Markdown or Typst source).

    The message names the intermediate file only once a copy of it is kept
    (:meth:`keep`): the file itself sits in a scratch folder that a failed
    build removes.

    Parameters
    ----------
    message : str
        What failed, with the tool's own message.
    intermediate : Path
        The file the failing tool was given.
    """

    def __init__(self, message: str, intermediate: Path):
        self.intermediate = intermediate
        self.kept: Path | None = None
        super().__init__(message)

    def keep(self) -> Path | None:
        """Copy the intermediate file out of the scratch folder, for diagnosis; returns the copy."""
        if self.kept is None and Path(self.intermediate).is_file():
            folder = Path(tempfile.mkdtemp(prefix="abs-report-echec-"))
            self.kept = Path(shutil.copy2(self.intermediate, folder / Path(self.intermediate).name))
        return self.kept

    def __str__(self) -> str:
        text = super().__str__()
        where = self.kept if self.kept is not None else self.intermediate
        if Path(where).is_file():
            text += f"\nFichier intermédiaire conservé : {where}"
        return text


class RendererUnavailable(InputError):
    """The requested renderer cannot run on this machine (no ``quarto`` on PATH)."""
