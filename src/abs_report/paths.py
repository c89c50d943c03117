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
