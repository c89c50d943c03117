"""Where things live: project root, templates, notebooks, caches, outputs."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]
"""The checkout (``src/abs_report`` lives two levels below it)."""


def project_file(*parts: str) -> Path:
    """A file of the checkout: ``notebooks/report.ipynb``, ``templates/...``, ``_quarto.yml``."""
    return PROJECT_ROOT.joinpath(*parts)


def cache_dir() -> Path:
    """Generated, reusable data (demo dataset, secrecy masks); ``ABS_REPORT_CACHE`` overrides."""
    return Path(os.environ.get("ABS_REPORT_CACHE", PROJECT_ROOT / "data" / "cache"))


def outputs_dir() -> Path:
    """Default root of report folders; ``ABS_REPORT_OUTPUTS`` overrides."""
    return Path(os.environ.get("ABS_REPORT_OUTPUTS", PROJECT_ROOT / "outputs"))


def checked_outputs_root(root: Path | None, option: str = "--outputs") -> Path:
    """The root of report folders, refused before any work when it cannot hold them.

    A file, a device (``/dev/null``), a path below a file or a folder without
    write permission is bad input (:class:`~abs_report.errors.InputError`,
    exit 2). A root that does not exist yet is fine when its nearest existing
    parent is a writable folder (nothing is created here).
    """
    from .errors import InputError, Problem

    path = Path(root) if root is not None else outputs_dir()
    existing = next((p for p in (path, *path.parents) if os.path.lexists(p)), None)
    if existing is not None and not existing.is_dir():
        what = "n'est pas un dossier" if existing == path else f"est sous {existing}, qui n'est pas un dossier"
        raise InputError(Problem(str(path), f"dossier des rapports invalide : {what}", field=option))
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(Problem(str(path), f"dossier des rapports non modifiable (lecture seule ou "
                                 f"permissions) : {existing}", field=option))
    return path


def checked_input_file(path: Path, what: str = "fichier de paramètres") -> Path:
    """``path`` itself when it is a regular file (or absent: the reader says so); else bad input.

    A folder, a device (``/dev/zero`` never ends) or a pipe is refused before it is read.
    """
    from .errors import InputError, Problem

    if os.path.lexists(path) and not Path(path).is_file():
        kind = "un dossier" if Path(path).is_dir() else "un périphérique ou un tube, pas un fichier ordinaire"
        raise InputError(Problem(str(path), f"{what} invalide : c'est {kind}"))
    return Path(path)
