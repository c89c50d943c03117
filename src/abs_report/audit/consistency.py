"""One status and one value per cell across every published.csv read together.

A cell (zone_level, zone_code, year, measure) printed by two reports must be
printed the same way: a cell hidden in one report and printed in another is
not hidden at all, and the protection it gave the cells around it is void.
Shares no code with :mod:`abs_report.secrecy`: it reads published files only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

KEY = ["zone_level", "zone_code", "year", "measure"]


@dataclass(frozen=True)
class Disagreement:
    """One cell shown two ways, with the first two files that disagree on it."""

    zone_level: str
    zone_code: str
    year: str
    measure: str
    first: tuple[str, str, str]
    """(file, value as written, status) of the first file."""
    second: tuple[str, str, str]

    def __str__(self) -> str:
        def side(s):
            return f"« {s[1]} » ({s[2]}) dans {s[0]}"
        return (f"{self.zone_level} {self.zone_code} {self.year} {self.measure} : incohérent, "
                f"{side(self.first)}, {side(self.second)}")


def _as_number(text: str) -> float | str:
    """The value compared: ``12.5`` and ``12.50`` are one number; empty stays empty."""
    try:
        return float(text) if text != "" else ""
    except ValueError:
        return text


def disagreements(files: list[tuple[str, pd.DataFrame]]) -> list[Disagreement]:
    """Cells whose value or status differs between two files (or within one).

    Parameters
    ----------
    files
        ``(name, published.csv contents as strings)``, in the order to report them.
    """
    frames = []
    for name, frame in files:
        part = frame.loc[:, KEY + ["value", "status"]].astype(str)
        frames.append(part.assign(file=name, shown=part["value"].map(_as_number).astype(str)))
    if not frames:
        return []
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(KEY + ["shown", "status", "file"])
    variants = rows.drop_duplicates(KEY + ["shown", "status"])
    counts = variants.groupby(KEY, sort=False)["status"].transform("size")
    out = []
    for _, group in variants[counts > 1].groupby(KEY, sort=True):
        a, b = group.iloc[0], group.iloc[1]
        out.append(Disagreement(a["zone_level"], a["zone_code"], a["year"], a["measure"],
                                (a["file"], a["value"], a["status"]), (b["file"], b["value"], b["status"])))
    return out
