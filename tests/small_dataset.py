"""A small imported dataset and parameter files for tests that render (not collected).

Every commune of CC du Massif du Vercors (6 communes, Villard-de-Lans 38548),
2023 and 2024, as a tidy CSV imported with ``data import``: the secrecy mask of
Isère over so few communes takes a second, so a test renders a real report
without the demonstration data.
"""

from __future__ import annotations

from pathlib import Path

import fixture_dataset
from fixture_dataset import RATES, VERCORS, VILLARD

__all__ = ["RATES", "VERCORS", "VILLARD", "make_dataset", "tidy_lines", "write_params"]


def tidy_lines(geography, skip_commune: str | None = None) -> list[str]:
    """The tidy CSV of the Vercors communes; ``skip_commune`` leaves one out."""
    return fixture_dataset.fixture_rows(geography, epcis=(VERCORS,), skip_commune=skip_commune)


def make_dataset(root: Path, geography, name: str = "data", skip_commune: str | None = None) -> Path:
    """Import the Vercors tidy CSV into ``root/name``; returns the dataset folder."""
    return fixture_dataset.make_dataset(root, geography, name, epcis=(VERCORS,), skip_commune=skip_commune)


def write_params(path: Path, code: str = VILLARD, level: str = "commune", data: str = "../data",
                 formats=("html",), comparison_zones=None) -> Path:
    """A parameter file for the small dataset."""
    return fixture_dataset.write_params_file(path, (level, code), "CCAS de test", data, formats,
                                             comparison_zones)
