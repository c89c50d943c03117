"""Nested catalogue relations: what two relations give together, the heuristic protects alone.

``foyers = isolés + couples sans enfant + couples avec enfants + familles
monoparentales`` follows from four relations of the catalogue; an attacker
combines them, so the row-by-row heuristic must see that combination too
(otherwise only the slow LP repair rounds would catch it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abs_report.catalogue import RELATIONS
from abs_report.secrecy.lp import Attacker
from abs_report.secrecy.relations import LinearSystem, build_system, implied_relations
from abs_report.secrecy.secondary import _Suppressor

FAMILY = {"isoles_hommes": 30, "isolees_femmes": 40, "couples_sans_enfant": 3,
          "couples_1_enfant": 20, "couples_2_enfants": 20, "couples_3_enfants": 10,
          "couples_4_enfants_plus": 6, "monoparents_1_enfant": 10, "monoparents_2_enfants": 8,
          "monoparents_3_enfants": 6, "monoparents_4_enfants_plus": 5}


def with_totals(leaves: dict[str, float]) -> dict[str, float]:
    """Every derived total of the catalogue computed from the leaves."""
    values = dict(leaves)
    values["foyers_allocataires"] = sum(leaves.values())
    for _ in RELATIONS:
        for rel in RELATIONS:
            if rel.total not in values and all(p in values for p in rel.parts):
                values[rel.total] = sum(values[p] for p in rel.parts)
    return values


def cells_of(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"zone_level": "commune", "zone_code": "38185", "year": 2024,
                         "measure": list(values), "value": [float(v) for v in values.values()]})


def test_the_coarse_composition_is_among_the_implied_relations():
    implied = implied_relations()
    assert {"foyers_allocataires": 1.0, "personnes_isolees": -1.0, "couples_sans_enfant": -1.0,
            "familles_avec_enfants": -1.0} in implied
    assert {"foyers_allocataires": 1.0, "personnes_isolees": -1.0, "couples_sans_enfant": -1.0,
            "couples_avec_enfants": -1.0, "familles_monoparentales": -1.0} in implied
    base = [{rel.total: 1.0, **{p: -1.0 for p in rel.parts}} for rel in RELATIONS]
    assert not any(row in base for row in implied), "catalogue relations repeated"
    lengths = [len(row) for row in implied]
    assert lengths == sorted(lengths)


@pytest.mark.parametrize("seed", range(5))
def test_every_implied_relation_holds_on_any_consistent_table(seed):
    rng = np.random.default_rng(seed)
    values = with_totals({m: int(rng.integers(0, 500)) for m in FAMILY})
    for row in implied_relations():
        if all(m in values for m in row):
            assert sum(a * values[m] for m, a in row.items()) == 0, row


def heuristic_then_attack(system: LinearSystem, cells: pd.DataFrame):
    values = cells["value"].to_numpy(float)
    primary = (values > 0) & (values < 5)
    s = _Suppressor(values, system, hidden=primary, checked=primary, candidate=~primary, level=5)
    s.heuristic(np.flatnonzero(primary))
    exposed = Attacker(values, system, level=5).exposed(s.hidden, primary)
    return {cells["measure"].iloc[e.cell]: (round(e.lower, 6), round(e.upper, 6)) for e in exposed}


def test_heuristic_alone_protects_against_combined_relations(geography):
    cells = cells_of(with_totals(FAMILY))
    system = build_system(cells, geography)
    assert system.implied is not None and system.implied.shape[0] > 0
    # Without the implied rows the heuristic hides a partner in each relation
    # separately, and the totals published around them give the cell back.
    plain = LinearSystem(system.eq, system.ineq)
    assert heuristic_then_attack(plain, cells) == {"couples_sans_enfant": (3.0, 3.0)}
    assert heuristic_then_attack(system, cells) == {}
