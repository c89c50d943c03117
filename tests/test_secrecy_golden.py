"""Golden cases of secondary suppression, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest

from abs_report.secrecy.lp import Attacker
from abs_report.secrecy.relations import LinearSystem
from abs_report.secrecy.secondary import suppress

# R sdcTable, tests/testthat/test-simpleheuristic.R: a 4 x 4 table with margins.
ROWS, COLS = ["w", "x", "y", "z"], ["a", "b", "c", "d"]
INNER = {
    "w": [30, 47, 64, 89], "x": [90, 124, 5, 31], "y": [92, 100, 59, 85], "z": [800, 991, 651, 685],
}
# The nine cells sdcTable marks as primary ("u"): every row and column holds two.
SDC_PRIMARY = [("w", "a"), ("w", "b"), ("w", "c"), ("x", "a"), ("x", "c"), ("y", "b"), ("y", "d"),
               ("z", "b"), ("z", "d")]


def two_way_table(inner: dict[str, list[float]]):
    """Cells (inner, row totals, column totals, grand total) and their relations."""
    names, values = [], []
    for r, row in inner.items():
        for c, v in zip(COLS, row):
            names.append((r, c)); values.append(v)
    for r, row in inner.items():
        names.append((r, "tot")); values.append(sum(row))
    for k, c in enumerate(COLS):
        names.append(("tot", c)); values.append(sum(row[k] for row in inner.values()))
    names.append(("tot", "tot")); values.append(sum(map(sum, inner.values())))
    pos = {n: i for i, n in enumerate(names)}
    eq = []
    for r in list(inner) + ["tot"]:
        eq.append({pos[(r, "tot")]: 1.0, **{pos[(r, c)]: -1.0 for c in COLS}})
    for c in COLS + ["tot"]:
        eq.append({pos[("tot", c)]: 1.0, **{pos[(r, c)]: -1.0 for r in inner}})
    return names, pos, np.array(values, float), LinearSystem.from_rows(len(names), eq, [])


def test_sdctable_table_matches_the_published_margins():
    names, pos, values, _ = two_way_table(INNER)
    # sdcTable computes the margins from the inner cells (its hand-typed column
    # totals are not used): rows and the grand total agree with the R file.
    assert values[pos[("w", "tot")]] == 230 and values[pos[("z", "tot")]] == 3127
    assert values[pos[("tot", "tot")]] == 3943


def test_sdctable_simple_heuristic_case_needs_one_more_cell():
    names, pos, values, system = two_way_table(INNER)
    primary = np.zeros(len(names), bool)
    for key in SDC_PRIMARY:
        primary[pos[key]] = True
    attacker = Attacker(values, system, level=5)
    # Two hidden cells in every row and column, yet w|b = 47 is exact:
    # (230 + 250) - (89 + 124 + 31) - (x|a + x|c) ... the attacker finds it.
    exposed = attacker.exposed(primary, primary)
    assert [names[e.cell] for e in exposed] == [("w", "b")]
    assert exposed[0].lower == pytest.approx(47) and exposed[0].upper == pytest.approx(47)

    result = suppress(values, system, primary, primary, ~primary, level=5)
    # sdcTable also adds exactly one cell (x|b = 124, bounds 0..141); we take the
    # smallest published cell of a relation binding the bound, with less loss.
    assert result.secondary.sum() == 1
    assert values[np.flatnonzero(result.secondary)[0]] < 124
    assert not result.unresolved
    assert Attacker(values, system, level=5).exposed(result.hidden, result.hidden) == []


def test_a_witness_table_names_partners_that_free_an_exposed_cell():
    """:meth:`Attacker.release`: once the cells it names are hidden, the exposed cell is safe."""
    names, pos, values, system = two_way_table(INNER)
    primary = np.zeros(len(names), bool)
    for key in SDC_PRIMARY:
        primary[pos[key]] = True
    attacker = Attacker(values, system, level=5)
    [exposure] = attacker.exposed(primary, primary)
    partners = attacker.release(primary, ~primary, exposure)
    assert len(partners) >= 1 and not primary[partners].any()
    hidden = primary.copy()
    hidden[partners] = True
    assert Attacker(values, system, level=5).exposed(hidden, primary) == []
