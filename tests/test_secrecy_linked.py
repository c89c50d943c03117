"""One status per cell everywhere: the parts of the mask never decide a cell twice (issue 13).

The closure of the parts, and the masks that cannot be completed. The two sides of
CC Cœur de Chartreuse (200040111, Isère and Savoie) protected in either order from an
empty cache are tested in ``test_linked_batches.py``, on the masks its two batches compute.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from abs_report import secrecy
from abs_report.audit import audit_published
from abs_report.dataref import DataRef
from abs_report.secrecy.scope import WIDE, part_of, part_zones, parts_fixed_before, straddling_epcis
from secrecy_fixtures import as_published

EPCI = "200040111"
YEAR = 2024


def test_every_zone_of_france_is_decided_by_one_part_and_fixed_by_the_parts_before(geography):
    """The closure proof: a part's table holds only cells it decides or cells decided before it."""
    straddling = straddling_epcis(geography)
    assert EPCI in straddling
    parts = [WIDE] + [f"departement:{d}" for d in geography.departements.index] + \
        [f"epci:{e}" for e in sorted(straddling)]
    deciders: dict[tuple, set] = {}

    def before_of(part):  # parts read as fixed, directly or through them (their cells carry those)
        direct = parts_fixed_before(geography, part)
        return set(direct).union(*(before_of(p) for p in direct))

    for part in parts:
        before = before_of(part)
        for level, code in part_zones(geography, part):
            owner = part_of(geography, level, code, straddling)
            if owner == part:
                deciders.setdefault((level, code), set()).add(part)
            else:
                assert owner in before, (part, level, code, owner)
    assert all(len(v) == 1 for v in deciders.values())
    every_commune = {("commune", c) for c in geography.communes.index}
    assert every_commune <= set(deciders)


def test_a_straddling_epci_is_decided_once_whatever_the_report(geography):
    chartreuse = geography.zone("epci", EPCI)
    assert {part_of(geography, "epci", EPCI)} == {f"epci:{EPCI}"}
    assert {part_of(geography, "commune", c) for c in chartreuse.members} == {"departement:38",
                                                                             "departement:73"}


@pytest.fixture(scope="module")
def observations():
    return DataRef.parse("demo", Path(".")).load(["38", "73"]).observations


def test_a_mask_that_cannot_be_completed_is_remembered(tmp_path, geography, monkeypatch):
    """A past year whose suppression fails is left out of every report: it is computed once, not per report."""
    from abs_report.secrecy import mask

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise mask.UnprotectedCells("le secret secondaire n'a pas pu protéger 1 cellule(s)")

    monkeypatch.setattr(mask, "protect", failing)
    obs = pd.DataFrame({"zone_level": ["commune"], "zone_code": ["38185"], "year": [YEAR],
                        "measure": ["foyers_rsa"], "value": [3.0]})
    for _ in range(2):
        with pytest.raises(mask.UnprotectedCells):
            mask.load_or_protect("k", obs, YEAR, [("commune", "38185")], geography, secrecy.load_rules(), tmp_path)
    assert len(calls) == 1


def test_a_cell_the_duals_cannot_free_is_protected_savoie_2020(observations, geography, tmp_path):
    """Savoie 2020: 73233's isolated persons (3) stayed exact after 60 rounds of partners.

    The duals of the degenerate optimum named another commune's cell in the
    département's total, round after round, each pinned by its own commune's
    relations: hiding it moved nothing. A witness table now chooses the partners
    of a cell still exposed after two dual-guided ones (``secondary.DUAL_TRIES``).
    """
    commune = geography.zone("commune", "73233")
    protection = secrecy.protect_zones("demo", observations, 2020, [commune], geography,
                                       secrecy.load_rules(), tmp_path)
    cells = protection.cells
    isolated = cells[(cells["zone_code"] == "73233") & (cells["measure"] == "personnes_isolees")]
    assert isolated["status"].tolist() == ["secret_primary"]
    truth = observations[observations["year"] == 2020]
    result = audit_published([as_published(cells)], geography, truth)
    assert result.failures == [], [str(f) for f in result.failures[:5]]


def test_the_cells_of_some_zones_are_exactly_those_rows_in_table_order():
    """What a report reads of each year's table (``Protection.cells_of``): every row of the zones
    asked, none of the others, whatever the order or repetitions of the request."""
    from abs_report.secrecy import Protection

    cells = pd.DataFrame({
        "zone_level": ["commune", "commune", "epci", "commune", "iris", "commune"],
        "zone_code": ["38001", "38002", "200040111", "38001", "380010101", "38003"],
        "year": [YEAR] * 6, "measure": ["a", "a", "a", "b", "a", "c"],
        "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "status": ["published"] * 6})
    protection = Protection(cells, {}, "1", "h")
    asked = [("epci", "200040111"), ("commune", "38001"), ("commune", "99999"), ("commune", "38001")]
    got = protection.cells_of(asked)
    assert got["value"].tolist() == [1.0, 3.0, 4.0]
    assert protection.cells_of([])["value"].tolist() == []
    assert protection.cells_of([("iris", "380010101")])["zone_code"].tolist() == ["380010101"]
