"""Interval of every hidden cell: min and max over all tables consistent with the model."""

from __future__ import annotations

import highspy
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .model import Key, Model

LEVEL = 5.0
BIG = 1e12


def discloses(lower: float, upper: float, unit: str) -> bool:
    """Exact (a single value), or for a count an upper bound under 5.

    An amount in euros is judged on exactness only, within 1 % (printed
    amounts carry rounding): "under 5 euros" says nothing about a count.
    """
    if np.isnan(upper) or np.isnan(lower):
        return True  # inconsistent model: cannot prove the cell safe
    if upper <= 1e-6:
        return False  # known to be zero: zeros are published anyway
    if unit == "euro":
        return upper - lower < max(1.0, 0.01 * upper)
    return upper < LEVEL - 1e-6 or upper - lower < 1.0 - 1e-6


class _Problem:
    """One connected group of unknown cells with its constraints."""

    def __init__(self, keys: list[Key], rows, model: Model):
        self.keys = keys
        pos = {k: i for i, k in enumerate(keys)}
        eq_r, eq_c, eq_v, b_eq, ub_r, ub_c, ub_v, b_ub = [], [], [], [], [], [], [], []
        for row in rows:
            const, slack, terms = 0.0, 0.0, {}
            for k, a in row.terms.items():
                if k in model.known:
                    value, rounding = model.known[k]
                    const += a * value
                    slack += abs(a) * rounding
                else:
                    terms[pos[k]] = terms.get(pos[k], 0.0) + a
            if row.equal and slack == 0:
                eq_r += [len(b_eq)] * len(terms); eq_c += list(terms); eq_v += list(terms.values())
                b_eq.append(-const)
            else:
                ub_r += [len(b_ub)] * len(terms); ub_c += list(terms); ub_v += list(terms.values())
                b_ub.append(-const + slack)
                if row.equal:
                    ub_r += [len(b_ub)] * len(terms); ub_c += list(terms)
                    ub_v += [-a for a in terms.values()]
                    b_ub.append(const + slack)
        n = len(keys)
        self.a_eq = sparse.csr_matrix((eq_v, (eq_r, eq_c)), shape=(len(b_eq), n))
        self.b_eq = np.array(b_eq, float)
        self.a_ub = sparse.csr_matrix((ub_v, (ub_r, ub_c)), shape=(len(b_ub), n))
        self.b_ub = np.array(b_ub, float)
        self.units = [model.units.get(k, "count") for k in keys]
        self.integer = np.array([u == "count" for u in self.units])
        self._warm: _WarmLP | None = None

    def solve(self, c: np.ndarray):
        """Minimiser of ``c @ x`` (None when infeasible or unbounded; see ``self.unbounded``).

        One HiGHS model per component whose objective alone changes: each solve starts
        from the last optimal basis (a component of thousands of cells, as QPV pieces
        make, would otherwise be solved from scratch for every bound).
        """
        if self._warm is None and (self.a_eq.shape[0] or self.a_ub.shape[0]):
            self._warm = _WarmLP(self)
        if self._warm is not None:
            x, status = self._warm.solve(c)
            if status is not None:
                self.unbounded = status == "unbounded"
                return x
        return self._solve_cold(c)

    def _solve_cold(self, c: np.ndarray):
        res = linprog(c, A_ub=self.a_ub if self.a_ub.shape[0] else None,
                      b_ub=self.b_ub if self.a_ub.shape[0] else None,
                      A_eq=self.a_eq if self.a_eq.shape[0] else None,
                      b_eq=self.b_eq if self.a_eq.shape[0] else None,
                      bounds=(0, None), method="highs")
        self.unbounded = res.status == 3
        return res.x if res.status == 0 else None

    def push(self, targets: list[int], goal: float):
        """A point lifting as many target cells as possible up to ``goal`` at once."""
        n, t = len(self.keys), len(targets)
        # Extra variables y_j <= x_j, y_j <= goal; maximise their sum.
        link = sparse.hstack([-sparse.csr_matrix((np.ones(t), (np.arange(t), targets)), shape=(t, n)),
                              sparse.identity(t, format="csr")])
        a_ub = sparse.vstack([sparse.hstack([self.a_ub, sparse.csr_matrix((self.a_ub.shape[0], t))]), link])
        b_ub = np.concatenate([self.b_ub, np.zeros(t)])
        a_eq = sparse.hstack([self.a_eq, sparse.csr_matrix((self.a_eq.shape[0], t))])
        bounds = [(0, None)] * n + [(0, goal)] * t
        res = linprog(np.concatenate([np.zeros(n), -np.ones(t)]), A_ub=a_ub.tocsr(), b_ub=b_ub,
                      A_eq=a_eq.tocsr() if self.a_eq.shape[0] else None,
                      b_eq=self.b_eq if self.a_eq.shape[0] else None, bounds=bounds, method="highs")
        return res.x[:n] if res.status == 0 else None

    def solve_integer(self, c: np.ndarray):
        cons = []
        if self.a_eq.shape[0]:
            cons.append(LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
        if self.a_ub.shape[0]:
            cons.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        res = milp(c, constraints=cons, integrality=self.integer.astype(int), bounds=Bounds(0, np.inf))
        self.unbounded = res.status == 3
        return res.x if res.status == 0 else None

    def extreme(self, j: int, sense: float, integer: bool) -> float:
        c = np.zeros(len(self.keys))
        c[j] = -sense
        x = (self.solve_integer if integer else self.solve)(c)
        self.last_integral = x is not None and self.is_integral(x)
        self.last_x = x
        if x is None:
            return sense * np.inf if self.unbounded else float("nan")
        return float(x[j])

    def is_integral(self, x: np.ndarray) -> bool:
        """Every count of ``x`` whole: an LP optimum that is also the integer optimum."""
        counts = x[self.integer]
        return bool(np.all(np.abs(counts - np.round(counts)) <= 1e-7))


class _WarmLP:
    """A component's LP held by one HiGHS instance (``x >= 0``, equalities and ``<=`` rows)."""

    def __init__(self, problem: _Problem):
        n = len(problem.keys)
        matrix = sparse.vstack([problem.a_eq, problem.a_ub]).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, matrix.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.full(n, highspy.kHighsInf)
        lp.row_lower_ = np.concatenate([problem.b_eq, np.full(problem.a_ub.shape[0], -highspy.kHighsInf)])
        lp.row_upper_ = np.concatenate([problem.b_eq, problem.b_ub])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = \
            matrix.indptr, matrix.indices, matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.n = n

    def solve(self, c: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        """(minimiser, "optimal") / (None, "infeasible" | "unbounded"); (None, None) if unsure."""
        self.highs.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.asarray(c, float))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return np.asarray(self.highs.getSolution().col_value), "optimal"
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, "infeasible"
        if status == highspy.HighsModelStatus.kUnbounded:
            return None, "unbounded"
        return None, None  # undecided (e.g. unbounded or infeasible): solved again from scratch


def _groups(model: Model) -> list[tuple[list[Key], list]]:
    """Connected components of unknown cells through the rows (union-find)."""
    parent: dict[Key, Key] = {}

    def find(k):
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for row in model.rows:
        free = [k for k in row.terms if k not in model.known]
        for k in free[1:]:
            parent[find(k)] = find(free[0])
        if free:
            find(free[0])
    for k in model.hidden:
        find(k)
    members, rows = {}, {}
    for k in parent:
        members.setdefault(find(k), []).append(k)
    for row in model.rows:
        free = [k for k in row.terms if k not in model.known]
        if free:
            rows.setdefault(find(free[0]), []).append(row)
    return [(sorted(members[r]), rows.get(r, [])) for r in members]


def intervals(model: Model, seed: int = 0) -> dict[Key, tuple[float, float]]:
    """``(lower, upper)`` of every hidden cell (upper = inf when unbounded)."""
    rng = np.random.default_rng(seed)
    hidden = set(model.hidden)
    out: dict[Key, tuple[float, float]] = {}
    for keys, rows in _groups(model):
        targets = [i for i, k in enumerate(keys) if k in hidden]
        if not targets:
            continue
        if not rows:
            out.update({keys[i]: (0.0, np.inf) for i in targets})
            continue
        problem = _Problem(keys, rows, model)
        if problem.solve(np.zeros(len(keys))) is None and any(r.assumed for r in rows):
            # The IRIS shown do not cover their commune: keep only "IRIS <= commune".
            rows = [type(r)(r.terms, r.equal and not r.assumed, r.assumed) for r in rows]
            problem = _Problem(keys, rows, model)
        out.update(_component_intervals(problem, targets, rng))
    return out


class _Witnesses:
    """Tables consistent with the model seen so far, summarised per cell.

    Any LP point gives a sub-interval of a cell's range; points whose counts
    are all whole are real tables, so their sub-interval holds for the integer
    problem too.
    """

    def __init__(self, problem: _Problem):
        self.problem = problem
        n = len(problem.keys)
        self.lo, self.hi = np.full(n, np.inf), np.full(n, -np.inf)
        self.ilo, self.ihi = np.full(n, np.inf), np.full(n, -np.inf)

    def add(self, x) -> None:
        if x is None:
            return
        self.lo, self.hi = np.minimum(self.lo, x), np.maximum(self.hi, x)
        if self.problem.is_integral(x):
            self.ilo, self.ihi = np.minimum(self.ilo, x), np.maximum(self.ihi, x)

    def settled(self, j: int) -> tuple[float, float] | None:
        """A safe sub-interval of cell ``j`` if the witnesses prove one."""
        if self.problem.integer[j]:
            # Two whole tables, one at the level or above: proven. From LP points
            # only, counts keep a margin of one so that integrality cannot turn it.
            if self.ihi[j] >= LEVEL - 1e-6 and self.ihi[j] - self.ilo[j] >= 1 - 1e-6:
                return float(self.ilo[j]), float(self.ihi[j])
            if self.hi[j] >= LEVEL + 1 and self.hi[j] - self.lo[j] >= 2:
                return float(self.lo[j]), float(self.hi[j])
            return None
        if np.isfinite(self.hi[j]) and not discloses(self.lo[j], self.hi[j], self.problem.units[j]):
            return float(self.lo[j]), float(self.hi[j])
        return None


def _component_intervals(problem: _Problem, targets: list[int], rng) -> dict:
    """Witness points settle most cells; the rest get exact (integer if needed) extremes."""
    n = len(problem.keys)
    seen = _Witnesses(problem)
    for c in (rng.normal(size=n), None, -np.ones(n), np.ones(n)):
        c = -rng.normal(size=n) if c is None else c
        seen.add(problem.solve(c))
    # Lift the cells still near the level, all together: past it with a margin,
    # then to it exactly (a vertex there is often a whole table); and lower them.
    for goal in (LEVEL + 1, LEVEL + 1, LEVEL):
        low = [j for j in targets if seen.settled(j) is None]
        if not low:
            break
        seen.add(problem.push(low, goal))
    low = [j for j in targets if seen.settled(j) is None]
    if low:
        c = np.zeros(n)
        c[low] = 1.0
        seen.add(problem.solve(c))
    out = {}
    for j in targets:
        proof = seen.settled(j)
        if proof is not None:
            out[problem.keys[j]] = proof  # a sub-interval
            continue
        integer = bool(problem.integer[j])
        hi = problem.extreme(j, +1.0, False)
        hi_whole = problem.last_integral
        # Every optimum is a table consistent with the model: a witness for all cells.
        seen.add(problem.last_x)
        proof = seen.settled(j)
        if proof is not None:
            out[problem.keys[j]] = proof
            continue
        lo = problem.extreme(j, -1.0, False)
        lo_whole = problem.last_integral
        seen.add(problem.last_x)
        # Integrality only narrows the interval: one the LP already pins to a non-zero value
        # stays pinned (QPV ∩ IRIS pieces equal to a published difference are many).
        pinned = hi - lo < 1.0 - 1e-6 and lo > 1e-6
        if integer and not pinned and (hi < LEVEL + 1 or hi - lo < 2):
            # An LP optimum with whole counts is already the integer optimum.
            hi_i = hi if hi_whole else problem.extreme(j, +1.0, True)
            lo_i = lo if lo_whole else problem.extreme(j, -1.0, True)
            if not np.isnan(hi_i):
                hi, lo = hi_i, lo_i
        if np.isnan(hi) or np.isnan(lo):
            # No consistent table at all: the publication contradicts a public fact.
            hi, lo = np.nan, np.nan
        out[problem.keys[j]] = (lo, hi)
    return out
