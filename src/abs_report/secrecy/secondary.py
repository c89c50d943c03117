"""Secondary suppression: hide partners until no secret cell can be recovered.

Two stages. A fast relation-by-relation heuristic first (over the relations and
the equalities their nesting implies, so that combining two relations does not
undo what each one protects): in every relation an
equality holding a hidden cell must hold at least two (a lone hidden cell is
its total minus the published parts), and when a relation's totals are
published, the hidden parts together must weigh at least the protection level
(otherwise each is bounded under it). Partners are the smallest non-zero
published cells that do the job; a zero partner protects nothing. Then the
LP attacker of :mod:`.lp` verifies every secret cell; where it still finds an
exact value or an upper bound under the level (the sdcTable simple-heuristic
case), one more partner is hidden next to it and the check repeats. Hiding a
cell never narrows another's interval, so only the cells that failed are
checked again. Finally, partners the attacker can compute exactly protect
nothing and are published again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .lp import Attacker, Exposure
from .relations import LinearSystem


DUAL_TRIES = 2
"""Partners chosen from the LP duals for one exposed cell before a witness table chooses them."""


@dataclass(frozen=True)
class Suppression:
    """Outcome of secondary suppression on positions of the table."""

    hidden: np.ndarray
    secondary: np.ndarray
    passes: dict[str, int] = field(default_factory=dict)
    unresolved: tuple[int, ...] = ()
    lp_solved: int = 0


class _Rows:
    """Relations as Python lists for the row-by-row heuristic."""

    def __init__(self, system: LinearSystem):
        self.cells, self.coefs, self.is_eq = [], [], []
        matrices = [(system.eq.tocsr(), True), (system.ineq.tocsr(), False)]
        if system.implied is not None:
            matrices.append((system.implied.tocsr(), True))
        for matrix, is_eq in matrices:
            ptr = matrix.indptr.tolist()
            self.cells += [matrix.indices[lo:hi] for lo, hi in zip(ptr[:-1], ptr[1:])]
            self.coefs += [matrix.data[lo:hi] for lo, hi in zip(ptr[:-1], ptr[1:])]
            self.is_eq += [is_eq] * matrix.shape[0]
        self.of_cell: dict[int, list[int]] = {}
        sizes = [len(c) for c in self.cells]
        if sizes:
            # Rows of each cell, in row order (a stable sort of the row numbers by cell).
            flat_cells = np.concatenate(self.cells)
            flat_rows = np.repeat(np.arange(len(sizes)), sizes)
            order = np.argsort(flat_cells, kind="stable")
            keys, starts = np.unique(flat_cells[order], return_index=True)
            rows, bounds = flat_rows[order].tolist(), [*starts.tolist(), len(order)]
            for k, c in enumerate(keys.tolist()):
                self.of_cell[c] = rows[bounds[k]:bounds[k + 1]]


def _pick(values: np.ndarray, options: np.ndarray, deficit: float) -> int | None:
    """Smallest option at least ``deficit`` (else the largest one), or None."""
    if not len(options):
        return None
    vals = values[options]
    enough = options[vals >= deficit]
    if len(enough):
        return int(enough[np.argmin(values[enough])])
    return int(options[np.argmax(vals)])


class _Suppressor:
    def __init__(self, values, system, hidden, checked, candidate, level):
        self.values = np.asarray(values, float)
        self.truth = np.nan_to_num(self.values, nan=0.0)
        self.rows = _Rows(system)
        self.hidden = hidden.copy()
        self.checked = checked & hidden & ~np.isnan(self.values)
        self.free = np.isnan(self.values)
        self.candidate = candidate & ~hidden & (self.truth > 0)
        self.level = float(level)
        self.secondary = np.zeros(len(values), bool)
        self.republished = 0

    def hide(self, cell: int) -> None:
        self.hidden[cell] = True
        self.secondary[cell] = True
        self.candidate[cell] = False

    # --- heuristic ------------------------------------------------------
    def _row_partner(self, r: int) -> int | None:
        """A cell to hide so that relation ``r`` discloses nothing, or None if safe."""
        cells, coefs = self.rows.cells[r], self.rows.coefs[r]
        hidden = self.hidden[cells]
        open_ = cells[self.candidate[cells]]
        lone = hidden.sum() == 1 and self.rows.is_eq[r]
        if lone:
            c = cells[hidden][0]
            if not self.free[c] and self.truth[c] > 0 and (self.checked[c] or self.secondary[c]):
                return _pick(self.truth, open_, 0.0)
        tops = coefs > 0
        if hidden[tops].any() or not (hidden & ~tops).any():
            return None  # a hidden total bounds nothing here
        small = self.checked[cells] & ~tops & (self.truth[cells] < self.level) & hidden
        if not small.any() or not self.truth[cells][hidden & ~tops].any():
            return None  # hidden parts all zero: each is known to be 0, which is no disclosure
        # With every total published, each hidden part is at most this.
        slack = float(self.truth[cells][tops].sum() - self.truth[cells][~tops & ~hidden].sum())
        if slack >= self.level:
            return None
        parts = cells[~tops & self.candidate[cells]]
        choice = _pick(self.truth, parts, self.level - slack)
        return choice if choice is not None else _pick(self.truth, cells[tops & self.candidate[cells]], 0.0)

    def heuristic(self, seeds: np.ndarray) -> int:
        """Row-by-row pass from the relations touching ``seeds``; cells hidden."""
        queue = deque(sorted({r for c in seeds.tolist() for r in self.rows.of_cell.get(c, [])}))
        queued = set(queue)
        added = 0
        while queue:
            r = queue.popleft()
            queued.discard(r)
            partner = self._row_partner(r)
            if partner is None:
                continue
            self.hide(partner)
            added += 1
            for r2 in self.rows.of_cell.get(partner, []) + [r]:
                if r2 not in queued:
                    queue.append(r2)
                    queued.add(r2)
        return added

    # --- LP repair ------------------------------------------------------
    def partner_for(self, exposure: Exposure) -> int | None:
        """Smallest published cell whose hiding moves the exposed cell's bound.

        Hiding a published cell turns a constant into a variable; the LP duals
        say how the bound responds to it. A cell whose effects cancel out (it
        sits in two binding relations that pin it) would protect nothing.
        Useful cells are looked for in the cell's own relations first, then
        theirs, then anywhere; without a useful dual, any candidate of the
        cell's own relations, then theirs.
        """
        deficit = 0.0 if exposure.exact else self.level - exposure.upper
        gain: dict[int, float] = {}
        for r, w in exposure.binding:
            for c, a in zip(self.rows.cells[r].tolist(), self.rows.coefs[r].tolist()):
                if self.candidate[c]:
                    gain[c] = gain.get(c, 0.0) + w * a
        useful = np.array(sorted(c for c, g in gain.items() if abs(g) > 1e-9), int)
        # Nearest useful cells first: in a large component the duals of a degenerate
        # optimum can point at far-away cells whose hiding widens the bound by little.
        # Neighbourhoods are widened only as far as needed; past this loop all are known.
        seen: list[np.ndarray] = []
        for rows in self._widening_rows(exposure):
            seen.append(np.unique(np.concatenate([self.rows.cells[r] for r in rows])) if rows else
                        np.array([], int))
            choice = _pick(self.truth, np.intersect1d(useful, seen[-1]), deficit)
            if choice is not None:
                return choice
        choice = _pick(self.truth, useful, deficit)
        if choice is not None:
            return choice
        for near in seen:
            choice = _pick(self.truth, near[self.candidate[near]], deficit)
            if choice is not None:
                return choice
        return None

    def _widening_rows(self, exposure: Exposure):
        rows = list(self.rows.of_cell.get(exposure.cell, []))
        yield rows
        seen = set(rows)
        for _ in range(3):
            cells = {c for r in rows for c in self.rows.cells[r].tolist()}
            rows = [r2 for c in cells for r2 in self.rows.of_cell.get(c, []) if r2 not in seen]
            seen.update(rows)
            yield rows


def suppress(values: np.ndarray, system: LinearSystem, hidden: np.ndarray, checked: np.ndarray,
             candidate: np.ndarray, level: float = 5, max_rounds: int = 60,
             delta: float | np.ndarray = 1.0) -> Suppression:
    """Choose secondary cells so that every checked cell is safe.

    Parameters
    ----------
    values
        True values of the cells (NaN = missing: an unknown, never checked).
    system
        Relations between cells.
    hidden
        Cells hidden before this stage (primary, threshold, missing).
    checked
        Cells that must end up safe (primary and threshold).
    candidate
        Cells that may be hidden as partners (published, secret measures).
    level
        Protection level: a secret cell's feasible upper bound must reach it.
    delta
        Smallest width, per cell, of an interval that is not "a single value".
    """
    if not (checked & hidden & ~np.isnan(np.asarray(values, float))).any():
        # Nothing to protect (a part whose cells are all fixed by others, as a straddling
        # EPCI's): what the stages below would find, without building their rows.
        return Suppression(hidden.copy(), np.zeros(len(values), bool),
                           {"secondary_heuristic": 0, "republished": 0}, (), 0)
    s = _Suppressor(values, system, hidden, checked, candidate, level)
    passes = {"secondary_heuristic": s.heuristic(np.flatnonzero(s.checked))}
    attacker = Attacker(values, system, level, delta)
    to_check, unresolved = s.checked.copy(), set()
    tries: dict[int, int] = {}
    for round_ in range(1, max_rounds + 2):
        exposures = [e for e in attacker.exposed(s.hidden, to_check) if e.cell not in unresolved]
        if not exposures:
            exposures = _republish_or_flag(s, attacker)
            if not exposures:
                break
        if round_ > max_rounds:
            unresolved.update(e.cell for e in exposures)  # never publish what is still exposed
            break
        to_check = np.zeros(len(values), bool)
        partners = []
        for e in exposures:
            to_check[e.cell] = True
            tries[e.cell] = tries.get(e.cell, 0) + 1
            chosen = s.partner_for(e) if tries[e.cell] <= DUAL_TRIES else None
            # The duals of a degenerate optimum can name cells whose hiding moves nothing, round
            # after round (Savoie 2020: 60 far-away communes for 73233): then a witness decides.
            if chosen is None and partners and _safe_now(attacker, s.hidden, e.cell):
                continue  # freed by this round's partners (a witness costs seconds; this check, little)
            # None: no table puts it anywhere safe. Empty: safe already, thanks to the partners
            # of this round (checked again in the next one).
            found = [chosen] if chosen is not None else attacker.release(s.hidden, s.candidate, e)
            if found is None:
                unresolved.add(e.cell)
                continue
            for partner in map(int, found):
                s.hide(partner)
                partners.append(partner)
        # A new partner alone in another relation would be computable: pad it now, cheaply.
        added = len(partners) + s.heuristic(np.array(partners, int))
        passes[f"secondary_lp_{round_}"] = added
    passes["republished"] = s.republished
    return Suppression(s.hidden, s.secondary & s.hidden, passes, tuple(sorted(unresolved)), attacker.n_lp)


def _safe_now(attacker: Attacker, hidden: np.ndarray, cell: int) -> bool:
    only = np.zeros(len(hidden), bool)
    only[cell] = True
    return not attacker.exposed(hidden, only)


def _republish_or_flag(s: _Suppressor, attacker: Attacker) -> list[Exposure]:
    """Publish partners that are exactly computable; return partners still exposed otherwise."""
    exposures = attacker.exposed(s.hidden, s.secondary & s.hidden)
    flagged = []
    for e in exposures:
        if e.upper - e.lower <= 1e-6 * max(1.0, abs(e.upper)):
            # Its value is known anyway: publishing it tells the attacker nothing new.
            s.hidden[e.cell] = False
            s.secondary[e.cell] = False
            s.republished += 1
        else:
            s.checked[e.cell] = True
            flagged.append(e)
    return flagged
