"""The suppression's own attacker: which hidden cells an LP can still pin down.

Only hidden cells are variables; published cells are constants, so the
problem splits into connected components of hidden cells joined by a relation.
A hidden cell is *safe* when some feasible point puts it at or above the
protection level (for a true value under it) or at least ``delta`` away from
its true value (for a larger one): the true table is itself feasible, so two
distinct values, one of them high enough, are then consistent with what is
published. Most cells are certified by a few joint LPs whose solutions serve
as witnesses; only the rest get their own min/max LPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from .relations import LinearSystem


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
        self.eq_csc, self.ineq_csc = self.eq.tocsc(), self.ineq.tocsc()

    # --- components -----------------------------------------------------
    def components(self, hidden: np.ndarray) -> list[_Component]:
        """Connected components of hidden cells, with their LP data."""
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
        comps = []
        for k in range(n_comp):
            members = order[bounds[k]:bounds[k + 1]]
            if not len(members):
                continue
            e = np.flatnonzero(eq_label == k) if len(eq_rows) else np.array([], int)
            i = np.flatnonzero(ineq_label == k) if len(ineq_rows) else np.array([], int)
            comps.append(_Component(
                cells=cols[members],
                a_eq=eq_h[eq_rows[e]][:, members], b_eq=-eq_const[e],
                a_ub=-ineq_h[ineq_rows[i]][:, members], b_ub=ineq_const[i],
                rows=np.concatenate([eq_rows[e], self.eq.shape[0] + ineq_rows[i]])))
        return comps

    # --- LP helpers -----------------------------------------------------
    def _solve(self, comp: _Component, c: np.ndarray, extra_ub=None, extra_b=None, bounds=None):
        n = len(c)
        a_eq, a_ub, b_ub = comp.a_eq, comp.a_ub, comp.b_ub
        if n > len(comp.cells):
            pad = n - len(comp.cells)
            a_eq = sparse.hstack([a_eq, sparse.csr_matrix((a_eq.shape[0], pad))]).tocsr()
            a_ub = sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], pad))]).tocsr()
        if extra_ub is not None:
            a_ub = sparse.vstack([a_ub, extra_ub]).tocsr()
            b_ub = np.concatenate([b_ub, extra_b])
        if bounds is None:
            bounds = np.column_stack([np.zeros(n), np.full(n, self.cap)])
        self.n_lp += 1
        res = linprog(c, A_ub=a_ub if a_ub.shape[0] else None, b_ub=b_ub if a_ub.shape[0] else None,
                      A_eq=a_eq if a_eq.shape[0] else None, b_eq=comp.b_eq if a_eq.shape[0] else None,
                      bounds=bounds, method="highs")
        self.last = res
        self.last_x = res.x[:len(comp.cells)] if res.status == 0 else None
        return self.last_x

    def _binding(self, comp: _Component) -> dict[int, float]:
        """Sensitivity of the last optimum to each relation's published constant.

        ``b_eq = -eq @ published`` and ``b_ub = ineq @ published``, so a
        published cell ``p`` moves the optimum by ``sum(weight_r * coef_rp)``
        with ``weight = -dual`` on equalities and ``+dual`` on inequalities.
        """
        res = self.last
        if res.status != 0:
            return {}
        n_eq, n_ub = comp.a_eq.shape[0], comp.a_ub.shape[0]
        weights = np.concatenate([-res.eqlin.marginals if n_eq else np.zeros(0),
                                  res.ineqlin.marginals[:n_ub] if n_ub else np.zeros(0)])
        active = np.abs(weights) > 1e-9
        return dict(zip(comp.rows[active].tolist(), weights[active].tolist()))

    def _push_small(self, comp: _Component, targets: np.ndarray):
        """One point pushing every targeted cell towards the level at once."""
        n, s = len(comp.cells), len(targets)
        c = np.concatenate([np.zeros(n), -np.ones(s)])
        # z_j <= x_j for each targeted j; z_j in [0, level]: maximise how many reach it.
        link = sparse.hstack([-sparse.csr_matrix((np.ones(s), (np.arange(s), targets)), shape=(s, n)),
                              sparse.identity(s, format="csr")]).tocsr()
        bounds = np.vstack([np.column_stack([np.zeros(n), np.full(n, self.cap)]),
                            np.column_stack([np.zeros(s), np.full(s, self.level)])])
        return self._solve(comp, c, link, np.zeros(s), bounds)

    def _bound(self, comp: _Component, j: int, sense: float) -> float:
        c = np.zeros(len(comp.cells))
        c[j] = -sense
        x = self._solve(comp, c)
        return float("nan") if x is None else float(x[j])

    # --- the check ------------------------------------------------------
    def exposed(self, hidden: np.ndarray, check: np.ndarray) -> list[Exposure]:
        """Cells of ``check`` (all hidden) that are not safe."""
        out = []
        for comp in self.components(hidden):
            local = np.flatnonzero(check[comp.cells] & self.known[comp.cells])
            if len(local):
                out += self._component_exposed(comp, local, hidden)
        return out

    def _component_exposed(self, comp: _Component, local: np.ndarray, hidden: np.ndarray) -> list[Exposure]:
        truth = self.truth[comp.cells]
        delta = self.delta[comp.cells]
        tol = 1e-6 * np.maximum(1.0, np.abs(truth))
        small = truth < self.level
        pending = set(local.tolist())

        def certify(x):
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
        if any(not small[j] for j in pending):
            c = self.rng.normal(size=len(comp.cells))
            certify(self._solve(comp, c))
            certify(self._solve(comp, -c))
        out = []
        self.witness = None
        for j in sorted(pending):
            if j not in pending:
                continue  # certified meanwhile by another cell's witness
            self.witness = None
            verdict = self._single_local(int(comp.cells[j]), hidden, tol[j])
            if self.witness is not None:
                # Cells outside the neighbourhood at their true values, inside at the
                # optimum: a table consistent with everything published, a witness for
                # other cells too (unless a missing cell outside had no true value).
                point, inside = truth.copy(), np.searchsorted(comp.cells, self.witness[0])
                point[inside] = self.witness[1]
                outside = np.ones(len(comp.cells), bool)
                outside[inside] = False
                if self.known[comp.cells[outside]].all():
                    certify(point)
            if verdict is False:
                continue
            if verdict is None and len(comp.cells) <= self.local_size:
                verdict = self._single(comp, j, truth[j], tol[j])
            elif verdict is None:
                verdict = self._single(comp, j, truth[j], tol[j])
            if verdict:
                out.append(verdict)
        return out

    # --- neighbourhoods: cheap verdicts before the whole component ---------
    local_size = 400
    local_depths = (2,)

    def _neighbourhood(self, cell: int, hidden: np.ndarray, depth: int) -> np.ndarray:
        """Hidden cells within ``depth`` relations of ``cell``."""
        seen = {cell}
        frontier = [cell]
        for _ in range(depth):
            rows_eq = np.unique(self.eq_csc[:, frontier].indices)
            rows_in = np.unique(self.ineq_csc[:, frontier].indices)
            cols = np.unique(np.concatenate([self.eq[rows_eq].indices, self.ineq[rows_in].indices]))
            new = [c for c in cols[hidden[cols]].tolist() if c not in seen]
            seen.update(new)
            frontier = new
            if not new or len(seen) > self.local_size:
                break
        return np.array(sorted(seen), int)

    def _local(self, members: np.ndarray, hidden: np.ndarray, relaxed: bool) -> _Component:
        """LP data on ``members`` only.

        ``relaxed``: drop every relation reaching a hidden cell outside (a
        relaxation: its bounds contain the true ones, so an exposure found is
        real). Otherwise fix those outside cells at their true values (a
        restriction: a safe verdict is real).
        """
        inside = np.zeros(len(hidden), bool)
        inside[members] = True
        parts = []
        for matrix, csc in ((self.eq, self.eq_csc), (self.ineq, self.ineq_csc)):
            rows = np.unique(csc[:, members].indices)
            sub = matrix[rows]
            if relaxed:
                outside = hidden & ~inside
                keep = sub[:, np.flatnonzero(outside)].getnnz(axis=1) == 0 if outside.any() else \
                    np.ones(len(rows), bool)
                rows, sub = rows[keep], sub[keep]
            const = sub @ np.where(inside, 0.0, self.truth)
            parts.append((rows, sub[:, members], const))
        (re, ae, ce), (ri, ai, ci) = parts
        return _Component(cells=members, a_eq=ae, b_eq=-ce, a_ub=-ai, b_ub=ci,
                          rows=np.concatenate([re, self.eq.shape[0] + ri]))

    def _single_local(self, cell: int, hidden: np.ndarray, tol: float):
        """Exposure (real), False (safe for sure) or None (undecided) from small LPs."""
        t = self.truth[cell]
        for depth in self.local_depths:
            members = self._neighbourhood(cell, hidden, depth)
            j = int(np.searchsorted(members, cell))
            relaxed = self._single(self._local(members, hidden, True), j, t, tol)
            if relaxed is not None:
                return relaxed
            if self._single(self._local(members, hidden, False), j, t, tol) is None:
                if self.last_x is None:
                    # Infeasible restriction (a missing cell outside has no true value to
                    # fix it at): it proves nothing; let the whole component decide.
                    return None
                # Outside cells at their true values: the optimum is a feasible table.
                self.witness = (members, self.last_x)
                return False
        return None

    def _single(self, comp: _Component, j: int, t: float, tol: float) -> Exposure | None:
        delta = self.delta[comp.cells[j]]
        upper = self._bound(comp, j, +1.0)
        if np.isnan(upper):
            return None  # infeasible component: the data contradicts a fact; nothing to derive
        binding = self._binding(comp)
        if t < self.level:
            if upper >= self.level - tol or (upper <= tol and t <= tol):
                return None
            lower = self._bound(comp, j, -1.0)
            return Exposure(int(comp.cells[j]), lower, upper, bool(upper - lower < delta),
                            tuple(sorted(binding.items())))
        if upper >= t + delta - tol:
            return None
        lower = self._bound(comp, j, -1.0)
        if lower <= t - delta + tol:
            return None
        # Either direction frees the cell: keep both sensitivities (first seen wins).
        binding = {**self._binding(comp), **binding}
        return Exposure(int(comp.cells[j]), lower, upper, True, tuple(sorted(binding.items())))
