"""The suppression's own attacker: which hidden cells an LP can still pin down.

Only hidden cells are variables; published cells are constants, so the
problem splits into connected components of hidden cells joined by a relation.
A hidden cell is *safe* when some feasible point puts it at or above the
protection level (for a true value under it) or at least ``delta`` away from
its true value (for a larger one): the true table is itself feasible, so two
distinct values, one of them high enough, are then consistent with what is
published. Most cells are certified by a few joint LPs whose solutions serve
as witnesses; only the rest get their own min/max LPs, and each of their optima
is a witness for the others too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import highspy
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .relations import LinearSystem


PRESOLVE_AGGREGATOR = 1 << 12
"""HiGHS ``presolve_rule_off`` bit of the aggregator rule (``highs --help``: rule 12)."""
PRESOLVE_DEPENDENT_EQUATIONS = 1 << 10
"""HiGHS ``presolve_rule_off`` bit of the dependent-equations rule (rule 10)."""
SIMPLEX_DUAL, SIMPLEX_PRIMAL = 1, 4
"""HiGHS ``simplex_strategy`` values."""


@dataclass(frozen=True)
class Exposure:
    """A hidden cell the attacker can still derive exactly or bound under the level."""

    cell: int
    lower: float
    upper: float
    exact: bool
    binding: tuple[tuple[int, float], ...] = ()
    """``(relation, weight)``: d bound / d published value = sum of weight x coefficient
    over these relations (eq rows, then ineq rows numbered after them)."""


def _widened(matrix: sparse.csr_matrix, n_cols: int) -> sparse.csr_matrix:
    """``matrix`` with zero columns appended up to ``n_cols`` (no copy of its entries)."""
    matrix = sparse.csr_matrix(matrix)
    return sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_cols))


def _grouped(labels: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by label (ascending within a label) and where each label starts."""
    by = np.argsort(labels, kind="stable")
    return by, np.searchsorted(labels[by], np.arange(n_groups + 1))


@dataclass
class _Component:
    cells: np.ndarray
    a_eq: sparse.csr_matrix
    b_eq: np.ndarray
    a_ub: sparse.csr_matrix
    b_ub: np.ndarray
    rows: np.ndarray
    """Global ids of the component's eq rows then ineq rows (ineq offset by n_eq)."""


class Attacker:
    """Bounds of hidden cells given the true values and the relations."""

    def __init__(self, values: np.ndarray, system: LinearSystem, level: float,
                 delta: float | np.ndarray = 1.0, seed: int = 0):
        self.truth = np.nan_to_num(np.asarray(values, float), nan=0.0)
        self.known = ~np.isnan(np.asarray(values, float))
        self.eq, self.ineq = system.eq.tocsr(), system.ineq.tocsr()
        self.level = float(level)
        # How far from its true value a witness must move a cell (per cell: amounts use 1 %).
        self.delta = np.broadcast_to(np.asarray(delta, float), self.truth.shape).copy()
        # A finite cap keeps every LP bounded; reaching it means "unbounded".
        self.cap = 2.0 * float(self.truth.max(initial=0.0)) + 1000.0
        self.rng = np.random.default_rng(seed)
        self.n_lp = 0

    # --- components -----------------------------------------------------
    def components(self, hidden: np.ndarray, wanted: np.ndarray | None = None) -> list[_Component]:
        """Connected components of hidden cells, with their LP data.

        ``wanted`` (a mask over all cells): only the components holding one of
        those cells are built. Slicing out a component's rows costs far more than
        finding it, and most components of a repair round hold no cell to check.
        """
        cols = np.flatnonzero(hidden)
        published = np.where(hidden, 0.0, self.truth)
        eq_h, ineq_h = self.eq[:, cols], self.ineq[:, cols]
        eq_rows = np.flatnonzero(eq_h.getnnz(axis=1))
        ineq_rows = np.flatnonzero(ineq_h.getnnz(axis=1))
        incidence = sparse.vstack([eq_h[eq_rows], ineq_h[ineq_rows]]).tocsr()
        n_var, n_row = len(cols), incidence.shape[0]
        graph = sparse.bmat([[None, incidence.T], [incidence, None]], format="csr") if n_row else \
            sparse.csr_matrix((n_var, n_var))
        n_comp, labels = connected_components(graph, directed=False)
        var_label, row_label = labels[:n_var], labels[n_var:]
        eq_const = self.eq[eq_rows] @ published
        ineq_const = self.ineq[ineq_rows] @ published
        order = np.argsort(var_label, kind="stable")
        bounds = np.searchsorted(var_label[order], np.arange(n_comp + 1))
        eq_label, ineq_label = row_label[:len(eq_rows)], row_label[len(eq_rows):]
        # Rows and columns grouped by component once: each component then takes contiguous
        # slices. Selecting them by a mask over every row and column, component after
        # component, cost (components x rows): minutes for Paris's thousands of components.
        eq_by, eq_at = _grouped(eq_label, n_comp)
        ineq_by, ineq_at = _grouped(ineq_label, n_comp)
        eq_sorted = eq_h[eq_rows[eq_by]][:, order].tocsr()
        ineq_sorted = ineq_h[ineq_rows[ineq_by]][:, order].tocsr()
        keep = np.ones(n_comp, bool) if wanted is None else np.isin(
            np.arange(n_comp), var_label[np.asarray(wanted, bool)[cols]])
        comps = []
        for k in np.flatnonzero(keep).tolist():
            lo, hi = bounds[k], bounds[k + 1]
            if lo == hi:
                continue
            e, i = slice(eq_at[k], eq_at[k + 1]), slice(ineq_at[k], ineq_at[k + 1])
            comps.append(_Component(
                cells=cols[order[lo:hi]],
                a_eq=eq_sorted[e, lo:hi], b_eq=-eq_const[eq_by[e]],
                a_ub=-ineq_sorted[i, lo:hi], b_ub=ineq_const[ineq_by[i]],
                rows=np.concatenate([eq_rows[eq_by[e]], self.eq.shape[0] + ineq_rows[ineq_by[i]]])))
        return comps

    # --- LP helpers -----------------------------------------------------
    def _push_small(self, comp: _Component, targets: np.ndarray):
        """One point pushing every targeted cell towards the level at once."""
        n, s = len(comp.cells), len(targets)
        # z_j <= x_j for each targeted j; z_j in [0, level]: maximise how many reach it.
        link = sparse.csr_matrix((np.tile([-1.0, 1.0], s), np.column_stack([targets, n + np.arange(s)]).ravel(),
                                  np.arange(0, 2 * s + 1, 2)), shape=(s, n + s))
        pushed = _Component(
            cells=np.concatenate([comp.cells, np.full(s, -1)]), a_eq=_widened(comp.a_eq, n + s), b_eq=comp.b_eq,
            a_ub=sparse.vstack([_widened(comp.a_ub, n + s), link], format="csr"),
            b_ub=np.concatenate([comp.b_ub, np.zeros(s)]), rows=comp.rows)
        upper = np.concatenate([np.full(n, self.cap), np.full(s, self.level)])
        self.n_lp += 1
        model = _Model(pushed, upper)
        # HiGHS's presolve "aggregator" rule takes time growing steeply with the number of
        # targets summed in one equality (a commune's hidden IRIS: 0.05 s for 50, 7 s for 170,
        # minutes for Paris's 563): this LP is solved without that one rule.
        model.highs.setOptionValue("presolve_rule_off", PRESOLVE_AGGREGATOR)
        x = model.optimum(np.concatenate([np.zeros(n), -np.ones(s)]))
        return None if x is None else x[:n]

    # --- bounds of unknowns -------------------------------------------
    def bounds(self, hidden: np.ndarray, cells: np.ndarray,
               floor: np.ndarray | None = None) -> dict[int, tuple[float, float]]:
        """Smallest and largest value of each of ``cells`` (hidden) given what is published.

        For cells whose true value the table does not hold (QPV ∩ IRIS pieces of
        real data): the interval is what a reader can derive. ``cap`` as an upper
        bound means unbounded. With ``floor`` (per cell), a cell two feasible
        tables show reaching its floor and spread at least ``delta`` apart is left
        out: its interval is that wide anyway. Two joint LPs (every cell pushed up,
        then down) and each optimum met on the way serve as such tables.
        """
        want = np.zeros(len(hidden), bool)
        want[np.asarray(cells, int)] = True
        out: dict[int, tuple[float, float]] = {}
        for comp in self.components(hidden, want):
            local = np.flatnonzero(want[comp.cells])
            if not len(local):
                continue
            model = _Model(comp, np.full(len(comp.cells), self.cap))
            low = np.full(len(comp.cells), np.inf)
            high = np.full(len(comp.cells), -np.inf)

            def seen(x):
                if x is not None:
                    np.minimum(low, x, out=low)
                    np.maximum(high, x, out=high)

            pending = local
            if floor is not None and len(local) > 1:
                push = np.zeros(len(comp.cells))
                for sign in (-1.0, 1.0):
                    push[local] = sign
                    self.n_lp += 1
                    seen(model.optimum(push))
                delta, tol = self.delta[comp.cells], 1e-6
                wide = (high >= floor[comp.cells] - tol) & (high - low >= delta - tol)
                pending = local[~wide[local]]
            for j in pending.tolist():
                if floor is not None and high[j] >= floor[comp.cells[j]] - 1e-6 and \
                        high[j] - low[j] >= self.delta[comp.cells[j]] - 1e-6:
                    continue  # shown wide enough by the optimum of another cell
                upper = self._bound(model, j, +1.0, seen)
                lower = self._bound(model, j, -1.0, seen)
                out[int(comp.cells[j])] = (lower, upper)
        return out

    # --- a witness table: which published cells must move ----------------
    def release(self, hidden: np.ndarray, candidate: np.ndarray, exposure: Exposure) -> np.ndarray | None:
        """Candidate cells whose hiding lets the exposed cell reach a safe value, or None.

        Solves for a table consistent with every fact, in which the exposed cell
        is safe (at least the level, or ``delta`` away from its true value) and
        published cells differ from their true values as little as possible
        (candidates may move, other published cells may not). Once the cells
        that moved are hidden, that table is feasible for the attacker: the
        exposed cell is safe, whatever the LP duals say.
        """
        cell = exposure.cell
        t = self.truth[cell]
        # The ranges the attacker's check (:meth:`_single`) accepts as safe for this cell.
        ranges = [(self.level, self.cap)] if t < self.level else \
            [(t + self.delta[cell], self.cap), (0.0, t - self.delta[cell])]
        # Published cells next to the cell's hidden component first (a smaller LP: seconds
        # saved in a large département), then every candidate.
        for movable in (self._next_to(hidden, cell) & candidate, candidate):
            comp = self._component_of(hidden | movable, cell)
            j = int(np.flatnonzero(comp.cells == cell)[0])
            for low, high in ranges:
                if low > high:
                    continue
                moved = self._least_move(comp, j, low, high, movable[comp.cells] & ~hidden[comp.cells])
                if moved is not None:
                    return comp.cells[moved]
        return None

    def _component_of(self, hidden: np.ndarray, cell: int) -> _Component:
        only = np.zeros(len(hidden), bool)
        only[cell] = True
        return self.components(hidden, only)[0]

    def _next_to(self, hidden: np.ndarray, cell: int) -> np.ndarray:
        """Cells in a relation with a hidden cell of ``cell``'s component."""
        comp = self._component_of(hidden, cell)
        n_eq = self.eq.shape[0]
        near = np.zeros(len(hidden), bool)
        near[self.eq[comp.rows[comp.rows < n_eq]].indices] = True
        near[self.ineq[comp.rows[comp.rows >= n_eq] - n_eq].indices] = True
        return near

    def _least_move(self, comp: _Component, j: int, low: float, high: float,
                    movable: np.ndarray) -> np.ndarray | None:
        """Local positions of the movable cells that a witness with cell ``j`` in [low, high] moves."""
        n, at = len(comp.cells), np.flatnonzero(movable)
        m = len(at)
        # x_k - up_k + down_k = truth_k for each movable cell k; minimise sum(up + down).
        pick = sparse.csr_matrix((np.ones(m), (np.arange(m), at)), shape=(m, n))
        eye = sparse.identity(m, format="csr")
        extended = _Component(
            cells=np.concatenate([comp.cells, np.full(2 * m, -1)]),
            a_eq=sparse.vstack([sparse.hstack([comp.a_eq, sparse.csr_matrix((comp.a_eq.shape[0], 2 * m))]),
                                sparse.hstack([pick, -eye, eye])]).tocsr(),
            b_eq=np.concatenate([comp.b_eq, self.truth[comp.cells[at]]]),
            a_ub=sparse.hstack([comp.a_ub, sparse.csr_matrix((comp.a_ub.shape[0], 2 * m))]).tocsr(),
            b_ub=comp.b_ub, rows=comp.rows)
        self.n_lp += 1
        model = _Model(extended, np.full(n + 2 * m, self.cap))
        model.highs.changeColBounds(j, float(low), float(high))
        # Looking for dependent equations among the component's relations and the ``2 m`` move
        # rows took 90 % of this LP in Isère (5 s of 5.5 for 16,600 movable cells); the LP
        # itself needs no such reduction.
        model.highs.setOptionValue("presolve_rule_off", PRESOLVE_DEPENDENT_EQUATIONS)
        x = model.optimum(np.concatenate([np.zeros(n), np.ones(2 * m)]))
        if x is None:
            return None
        move = x[n:n + m] + x[n + m:]
        return at[move > 1e-6 * np.maximum(1.0, np.abs(self.truth[comp.cells[at]]))]

    # --- the check ------------------------------------------------------
    def exposed(self, hidden: np.ndarray, check: np.ndarray) -> list[Exposure]:
        """Cells of ``check`` (all hidden) that are not safe."""
        out = []
        for comp in self.components(hidden, check & self.known):
            local = np.flatnonzero(check[comp.cells] & self.known[comp.cells])
            if len(local):
                out += self._component_exposed(comp, local)
        return out

    def _component_exposed(self, comp: _Component, local: np.ndarray) -> list[Exposure]:
        truth = self.truth[comp.cells]
        delta = self.delta[comp.cells]
        tol = 1e-6 * np.maximum(1.0, np.abs(truth))
        small = truth < self.level
        pending = set(local.tolist())

        def certify(x):
            # Every optimum is a table consistent with everything published: a
            # witness that each cell it moves far enough can take two values.
            if x is None:
                return
            ok = np.where(small, x >= self.level - tol, np.abs(x - truth) >= delta - tol)
            pending.difference_update(np.flatnonzero(ok).tolist())

        for _ in range(3):
            todo = np.array(sorted(j for j in pending if small[j]), int)
            if not len(todo):
                break
            before = len(pending)
            certify(self._push_small(comp, todo))
            if len(pending) == before:
                break
        model = _Model(comp, np.full(len(comp.cells), self.cap))
        if any(not small[j] for j in pending):
            c = self.rng.normal(size=len(comp.cells))
            for cost in (c, -c):
                self.n_lp += 1
                certify(model.optimum(cost))
        out = []
        for j in sorted(pending):
            if j in pending:  # else certified meanwhile by another cell's optimum
                verdict = self._single(model, comp, j, truth[j], tol[j], certify)
                if verdict:
                    out.append(verdict)
        return out

    def _bound(self, model: "_Model", j: int, sense: float, certify) -> float:
        self.n_lp += 1
        x = model.extreme(j, sense)
        certify(x)
        return float("nan") if x is None else float(x[j])

    def _single(self, model: "_Model", comp: _Component, j: int, t: float, tol: float,
                certify) -> Exposure | None:
        delta = self.delta[comp.cells[j]]
        upper = self._bound(model, j, +1.0, certify)
        if np.isnan(upper):
            return None  # infeasible component: the data contradicts a fact; nothing to derive
        binding = model.binding(comp)
        if t < self.level:
            if upper >= self.level - tol or (upper <= tol and t <= tol):
                return None
            lower = self._bound(model, j, -1.0, certify)
            return Exposure(int(comp.cells[j]), lower, upper, bool(upper - lower < delta),
                            tuple(sorted(binding.items())))
        if upper >= t + delta - tol:
            return None
        lower = self._bound(model, j, -1.0, certify)
        if lower <= t - delta + tol:
            return None
        # Either direction frees the cell: keep both sensitivities (first seen wins).
        binding = {**model.binding(comp), **binding}
        return Exposure(int(comp.cells[j]), lower, upper, True, tuple(sorted(binding.items())))


class _Model:
    """A component's LP held by one HiGHS instance: only the objective changes.

    Bounding cell after cell re-solves from the previous optimal basis (warm
    start) instead of from scratch, which is what makes a component of
    thousands of hidden cells affordable.
    """

    def __init__(self, comp: _Component, upper: np.ndarray):
        n, n_eq = len(comp.cells), comp.a_eq.shape[0]
        matrix = sparse.vstack([comp.a_eq, comp.a_ub]).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, matrix.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.asarray(upper, float)
        lp.row_lower_ = np.concatenate([comp.b_eq, np.full(comp.a_ub.shape[0], -highspy.kHighsInf)])
        lp.row_upper_ = np.concatenate([comp.b_eq, comp.b_ub])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = \
            matrix.indptr, matrix.indices, matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.n, self.n_eq, self.costed = n, n_eq, np.zeros(0, int)
        self.row_dual: np.ndarray | None = None
        self.warm = False

    def optimum(self, cost: np.ndarray) -> np.ndarray | None:
        """Minimiser of ``cost @ x`` (None when infeasible)."""
        self.costed = np.flatnonzero(cost)
        self.highs.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.asarray(cost, float))
        return self._run()

    def extreme(self, j: int, sense: float) -> np.ndarray | None:
        """A table maximising (``sense`` = +1) or minimising (-1) cell ``j``."""
        for k in self.costed.tolist():
            self.highs.changeColCost(k, 0.0)
        self.highs.changeColCost(j, -sense)
        self.costed = np.array([j])
        return self._run()

    def _run(self) -> np.ndarray | None:
        # Only the objective changed since the last optimum: its basis stays primal feasible,
        # and the primal simplex goes on from it where the dual one restarts far off (Isère
        # 2024: the cell-by-cell bounds took 1,700 dual iterations each). A first solve keeps
        # HiGHS's default, the dual simplex, much faster from scratch.
        self.highs.setOptionValue("simplex_strategy", SIMPLEX_PRIMAL if self.warm else SIMPLEX_DUAL)
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.row_dual = None
            self.warm = False
            return None
        self.warm = True
        solution = self.highs.getSolution()
        self.row_dual = np.asarray(solution.row_dual)
        return np.asarray(solution.col_value)

    def binding(self, comp: _Component) -> dict[int, float]:
        """Sensitivity of the last optimum to each relation's published constant.

        ``b_eq = -eq @ published`` and ``b_ub = ineq @ published`` (the
        inequality rows are stored negated), so a published cell ``p`` moves
        the optimum by ``sum(weight_r * coef_rp)`` with ``weight = -dual`` on
        equalities and ``+dual`` on inequalities.
        """
        if self.row_dual is None:
            return {}
        weights = np.concatenate([-self.row_dual[:self.n_eq], self.row_dual[self.n_eq:]])
        active = np.abs(weights) > 1e-9
        return dict(zip(comp.rows[active].tolist(), weights[active].tolist()))
