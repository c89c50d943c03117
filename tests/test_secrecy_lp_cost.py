"""What keeps the suppression's attacker affordable (issue 13): no timing, only the means."""

import numpy as np
import pytest
from scipy import sparse

from abs_report.secrecy import lp
from abs_report.secrecy.relations import LinearSystem
from secrecy_fixtures import SolveStopped, spy_presolve_rules


def _random_system(seed: int = 3, n: int = 400):
    rng = np.random.default_rng(seed)
    eq = sparse.random(120, n, density=0.01, random_state=1, format="csr")
    eq.data[:] = rng.choice([-1.0, 1.0], eq.nnz)
    ineq = sparse.random(60, n, density=0.01, random_state=2, format="csr")
    values = rng.integers(0, 50, n).astype(float)
    hidden = rng.random(n) < 0.4
    return lp.Attacker(values, LinearSystem(eq=eq, ineq=ineq), 5.0), hidden


def test_components_wanted_builds_only_the_components_holding_those_cells():
    attacker, hidden = _random_system()
    every = attacker.components(hidden)
    assert len(every) > 20, "the case needs many components to mean anything"
    wanted = np.zeros(len(hidden), bool)
    picked = [every[0].cells[0], every[5].cells[-1], every[5].cells[0], every[-1].cells[0]]
    wanted[picked] = True
    wanted[np.flatnonzero(~hidden)[:3]] = True  # published cells belong to no component
    some = attacker.components(hidden, wanted)
    assert [c.cells.tolist() for c in some] == [every[k].cells.tolist() for k in (0, 5, len(every) - 1)]
    for got, k in zip(some, (0, 5, len(every) - 1)):
        ref = every[k]
        assert got.rows.tolist() == ref.rows.tolist()
        assert (got.a_eq != ref.a_eq).nnz == 0 and (got.a_ub != ref.a_ub).nnz == 0
        assert got.b_eq.tolist() == ref.b_eq.tolist() and got.b_ub.tolist() == ref.b_ub.tolist()


def test_witness_lp_skips_the_dependent_equations_presolve_rule(monkeypatch):
    # HiGHS's search for dependent equations took 5 of the 5.5 s of a witness LP over
    # Isère's largest component (16,600 movable cells); the witness needs no such reduction.
    seen = spy_presolve_rules(monkeypatch)
    attacker, hidden = _random_system()
    comp = attacker.components(hidden)[0]
    with pytest.raises(SolveStopped):
        attacker._least_move(comp, 0, 5.0, attacker.cap, np.ones(len(comp.cells), bool))
    assert seen and seen[0] & (1 << 10), "HiGHS presolve rule 10 (dependent equations) must be off"


def test_bounds_after_an_optimum_go_on_with_the_primal_simplex():
    # Only the objective changes between a component's LPs: the primal simplex goes on from the
    # last optimal basis; the dual one (HiGHS's default, kept for a first solve) restarted far off.
    truth = np.arange(1.0, 31.0)
    comp = lp._Component(cells=np.arange(30), a_eq=sparse.csr_matrix(np.ones((1, 30))),
                         b_eq=np.array([truth.sum()]), a_ub=sparse.csr_matrix((0, 30)), b_ub=np.zeros(0),
                         rows=np.array([0]))
    model = lp._Model(comp, np.full(30, 1e6))
    strategy = lambda: model.highs.getOptionValue("simplex_strategy")[1]  # noqa: E731
    first = model.extreme(0, +1.0)
    assert first is not None and strategy() == lp.SIMPLEX_DUAL
    again = model.extreme(0, -1.0)
    assert again is not None and strategy() == lp.SIMPLEX_PRIMAL
    assert first[0] == truth.sum() and again[0] == 0


def test_bounds_with_floors_leave_out_only_cells_shown_wide_and_high():
    # Four unknown cells (real data's pieces), each at most its published total of 40: the two
    # joint LPs show each at 0 and at 40. Those whose floor is 5 need no LP of their own; the one
    # whose floor (50) no table reaches keeps its exact bounds, and so does the one pinned to 0.
    n = 10
    ineq = sparse.vstack([  # each cell at most its total, and all four at most cell 9 (160)
        sparse.csr_matrix((np.tile([-1.0, 1.0], 4), np.arange(8), np.arange(0, 9, 2)), shape=(4, n)),
        sparse.csr_matrix(([-1.0] * 4 + [1.0], ([0] * 5, [0, 2, 4, 6, 9])), shape=(1, n))]).tocsr()
    eq = sparse.csr_matrix(([1.0], ([0], [8])), shape=(1, n))  # cell 8 = 0: a piece known empty
    values = np.array([np.nan, 40.0, np.nan, 40.0, np.nan, 40.0, np.nan, 40.0, np.nan, 160.0])
    attacker = lp.Attacker(values, LinearSystem(eq=eq, ineq=ineq), 5.0)
    hidden = np.isnan(values)
    cells = np.array([0, 2, 4, 6, 8])
    exact = attacker.bounds(hidden, cells)
    floor = np.zeros(n)
    floor[[0, 2, 4]], floor[6], floor[8] = 5.0, 50.0, 5.0
    some = attacker.bounds(hidden, cells, floor)
    assert exact == {0: (0.0, 40.0), 2: (0.0, 40.0), 4: (0.0, 40.0), 6: (0.0, 40.0), 8: (0.0, 0.0)}
    assert some == {6: (0.0, 40.0), 8: (0.0, 0.0)}
