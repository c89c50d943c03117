"""Pieces the data does not give, judged on what the published cells imply (issue 15).

Real data (Cafdata's QPV exports) never gives the QPV ∩ IRIS pieces: they are
unknown non-negative cells of the linked table. A piece the published cells
pin down has a value anyone can compute, so the mask can compute it too and
apply the rules to it: a count pinned to 1..4 (or bounded under 5), or any
cell pinned in a piece known to hold fewer than ``infra_min_size`` foyers
allocataires, is a secret cell like any other, and the suppression protects it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import MEASURES
from ..geography import PIECE_LEVEL
from .lp import Attacker
from .relations import LinearSystem
from .rules import Rules


def judged_pieces(cells: pd.DataFrame, values: np.ndarray, hidden: np.ndarray, system: LinearSystem,
                  rules: Rules, delta: np.ndarray) -> dict[int, float]:
    """Unknown piece cells a reader can pin or bound under the level: ``{position: value}``.

    The value is the lower bound the reader derives: the one the rules judge,
    and the one a later check must move the cell away from.
    """
    unknown = (cells["zone_level"] == PIECE_LEVEL).to_numpy(bool) & np.isnan(values)
    if not unknown.any():
        return {}
    attacker = Attacker(values, system, rules.protection_level, delta)
    codes, measures = cells["zone_code"].to_numpy(), cells["measure"].to_numpy()
    # A piece cell the rules below cannot flag: at least the level (a count) and the size
    # threshold (the size measure), and not pinned. Cells shown so need no LP bound of their own.
    count = np.array([MEASURES[m].unit == "count" for m in measures.tolist()], bool)
    floor = np.where(count, float(rules.protection_level), 0.0)
    size = measures == rules.infra_size_measure
    floor[size] = np.maximum(floor[size], float(rules.infra_min_size))
    bounds = attacker.bounds(hidden, np.flatnonzero(unknown), floor)
    tol = 1e-6
    small_pieces = {codes[c] for c, (lo, hi) in bounds.items()
                    if measures[c] == rules.infra_size_measure and hi < rules.infra_min_size - tol}
    out = {}
    for c, (lo, hi) in sorted(bounds.items()):
        count = MEASURES[measures[c]].unit == "count"
        exact = hi - lo < delta[c] - tol
        if hi <= tol:
            continue  # known to be zero: zeros are no disclosure
        if (count and hi < rules.protection_level - tol) or (exact and codes[c] in small_pieces) \
                or (exact and count and lo < rules.protection_level - tol):
            out[c] = float(lo)
    return out
