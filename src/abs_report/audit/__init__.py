"""Independent attacker: what can be inferred from published figures alone.

Shares no code with :mod:`abs_report.secrecy`. It reads ``published.csv``
contents, rebuilds every linear fact a reader knows (catalogue relations,
the COG, printed ratios) and, for each hidden cell, finds the smallest and
largest value consistent with them (HiGHS, integer where it decides the
verdict). A cell fails when that interval holds a single non-zero value or
tops out under 5. Reported intervals of cells that pass may be sub-intervals
found by witness solutions: enough to prove the cell safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..geography import Geography
from .model import build_model
from .pieces import piece_fails
from .published import check_frame, combine, read_published
from .solve import discloses, intervals


@dataclass(frozen=True)
class Failure:
    zone_level: str
    zone_code: str
    year: str
    measure: str
    lower: float
    upper: float
    true_value: float | None = None

    def __str__(self) -> str:
        truth = "" if self.true_value is None else f", valeur vraie {self.true_value:g}"
        return (f"{self.zone_level} {self.zone_code} {self.year} {self.measure} : "
                f"intervalle [{self.lower:g} ; {self.upper:g}]{truth}")


@dataclass(frozen=True)
class AuditResult:
    failures: list[Failure] = field(default_factory=list)
    n_hidden: int = 0
    n_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def _truth_lookup(truth: pd.DataFrame | None) -> dict:
    if truth is None:
        return {}
    t = truth.astype({"zone_code": str, "year": str})
    # Columns as lists: iterating Arrow-backed rows one by one costs seconds per million.
    columns = [t[c].tolist() for c in ("zone_level", "zone_code", "year", "measure")]
    return dict(zip(zip(*columns), map(float, t["value"].tolist())))


def audit_published(frames: list[pd.DataFrame], geography: Geography,
                    truth: pd.DataFrame | None = None, pieces=None) -> AuditResult:
    """Attack everything in ``frames`` at once (all reports of a batch together).

    Parameters
    ----------
    frames
        ``published.csv`` contents (contract columns, values as strings or numbers).
    geography
        The COG (public).
    truth
        Optional canonical observations: failures then show true values, and a
        cell whose true value is 0 is not a failure.
    pieces
        Codes of the QPV ∩ IRIS pieces a reader knows exist (default: the
        packaged geometry's). A piece's cell fails when pinned to 1..4 (or
        bounded under 5), or pinned while the piece has fewer than 100
        foyers allocataires.
    """
    frames = [f.astype(str).replace({"nan": "", "None": ""}) for f in frames]
    for f in frames:
        check_frame(f)
    model = build_model(combine(frames), geography, pieces)
    # IRIS <commune>0000 is the whole commune (not split): not infra-communal.
    checked = [k for k in model.hidden if not (k[0] == "iris" and k[1].endswith("0000"))]
    bounds = intervals(model)
    known_truth = _truth_lookup(truth)
    failures = []
    for key in checked:
        lower, upper = bounds.get(key, (0.0, np.inf))
        unit = model.units.get(key, "count")
        if key in model.pieces:
            if piece_fails(key, lower, upper, unit, bounds, known_truth):
                failures.append(Failure(*key, lower, upper, known_truth.get(key)))
            continue
        if not discloses(lower, upper, unit):
            continue
        true = known_truth.get(key)
        if true is not None and true <= 0:
            continue
        failures.append(Failure(*key, lower, upper, true))
    return AuditResult(failures, len(model.hidden), len(checked))


__all__ = ["AuditResult", "Failure", "audit_published", "read_published"]
