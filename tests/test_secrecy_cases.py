"""Golden cases on the real COG: differencing, small pairs, zeros, IRIS thresholds, floor."""

from __future__ import annotations

import pandas as pd
import pytest

from abs_report.audit import audit_published
from abs_report.errors import InputError
from abs_report.secrecy import load_rules, protect, scope_zones
from secrecy_fixtures import as_published, long_rows

RULES = load_rules()


def small_epci(geography, n=4):
    """An EPCI of exactly ``n`` communes (deterministic)."""
    for code, members in sorted(geography.epcis["members"].items()):
        if len(members) == n:
            return code, list(members)
    raise LookupError(n)


def rsa(total, majore):
    return {"foyers_rsa": total, "foyers_rsa_majore": majore, "foyers_rsa_non_majore": total - majore}


def run(obs, zones, geography):
    p = protect(obs, 2024, zones, geography, RULES)
    return p, p.cells.set_index(["zone_code", "measure"])["status"]


def audit_ok(p, geography, obs):
    result = audit_published([as_published(p.cells)], geography, truth=obs)
    assert result.failures == [], [str(f) for f in result.failures]


def test_epci_differencing_hides_a_second_commune(geography):
    epci, communes = small_epci(geography, 4)
    values = [3, 40, 55, 70]
    rows = [("commune", c, {"foyers_rsa": v}) for c, v in zip(communes, values)]
    rows.append(("epci", epci, {"foyers_rsa": sum(values)}))
    obs = long_rows(rows)
    zones = [("commune", c) for c in communes] + [("epci", epci)]
    p, status = run(obs, zones, geography)
    assert status[(communes[0], "foyers_rsa")] == "secret_primary"
    # EPCI minus the three others would give 3 back: the smallest other commune goes too.
    assert status[(communes[1], "foyers_rsa")] == "secret_secondary"
    assert status[(epci, "foyers_rsa")] == "published"
    assert p.passes["primary"] == 1 and p.passes["secondary_total"] == 1
    audit_ok(p, geography, obs)


def epci_of_values(geography, values, measure="foyers_aah"):
    """An EPCI whose communes hold ``values`` of one measure, the EPCI their sum."""
    epci, communes = small_epci(geography, len(values))
    rows = [("commune", c, {measure: v}) for c, v in zip(communes, values)]
    rows.append(("epci", epci, {measure: sum(values)}))
    return epci, communes, long_rows(rows), [("commune", c) for c in communes] + [("epci", epci)]


def test_two_small_cells_do_not_protect_each_other(geography):
    epci, communes, obs, zones = epci_of_values(geography, [1, 2, 30, 40])
    p, status = run(obs, zones, geography)
    # 1 + 2 = 3 < 5: each would be bounded by 3; a third cell (30) must go.
    assert status[(communes[2], "foyers_aah")] == "secret_secondary"
    assert status[(communes[3], "foyers_aah")] == "published"
    audit_ok(p, geography, obs)


def test_zero_partners_protect_nothing(geography):
    epci, communes, obs, zones = epci_of_values(geography, [2, 0, 0, 25])
    p, status = run(obs, zones, geography)
    assert status[(communes[1], "foyers_aah")] == "published"  # zeros stay published
    assert status[(communes[2], "foyers_aah")] == "published"
    assert status[(communes[3], "foyers_aah")] == "secret_secondary"
    audit_ok(p, geography, obs)


def test_single_respondent_and_its_amount(geography):
    epci, communes = small_epci(geography, 3)
    rows = [("commune", communes[0], {**rsa(1, 1), "montant_rsa": 712.4}),
            ("commune", communes[1], {**rsa(12, 4), "montant_rsa": 7100.0}),
            ("commune", communes[2], {**rsa(20, 6), "montant_rsa": 11000.0}),
            ("epci", epci, {**rsa(33, 11), "montant_rsa": 18812.4})]
    obs = long_rows(rows)
    p, status = run(obs, [("commune", c) for c in communes] + [("epci", epci)], geography)
    assert status[(communes[0], "foyers_rsa")] == "secret_primary"
    assert status[(communes[0], "montant_rsa")] == "secret_primary"  # the amount of one foyer
    assert (p.cells["status"] == "secret_secondary").any()
    audit_ok(p, geography, obs)


def test_iris_under_100_allocataires_and_a_commune_with_one_qualifying_iris(geography):
    epci, communes = small_epci(geography, 3)
    a, b = communes[0], communes[1]
    iris_a = {f"{a}0101": 400, f"{a}0102": 350, f"{a}0103": 60}
    iris_b = {f"{b}0101": 500, f"{b}0102": 80}
    rows = []
    for code, size in {**iris_a, **iris_b}.items():
        rows.append(("iris", code, {"foyers_allocataires": size, "foyers_aah": size // 10}))
    rows.append(("commune", a, {"foyers_allocataires": 810, "foyers_aah": 81}))
    rows.append(("commune", b, {"foyers_allocataires": 580, "foyers_aah": 58}))
    rows.append(("commune", communes[2], {"foyers_allocataires": 300, "foyers_aah": 30}))
    rows.append(("epci", epci, {"foyers_allocataires": 1690, "foyers_aah": 169}))
    obs = long_rows(rows)
    p, status = run(obs, [("commune", c) for c in communes] + [("epci", epci)], geography)
    assert status[(f"{a}0103", "foyers_allocataires")] == "secret_threshold"
    assert status[(f"{a}0101", "foyers_allocataires")] != "secret_threshold"
    # Only one IRIS of b reaches 100: b's quartier table is dropped altogether.
    assert status[(f"{b}0101", "foyers_allocataires")] == "secret_threshold"
    assert status[(f"{b}0102", "foyers_aah")] == "secret_threshold"
    # a's small IRIS would be the commune minus the other two: one more IRIS is hidden.
    hidden_a = [status[(c, "foyers_allocataires")] != "published" for c in iris_a]
    assert sum(hidden_a) >= 2
    audit_ok(p, geography, obs)


def test_nothing_below_iris(geography):
    obs = long_rows([("ilot", "38185000101", {"foyers_rsa": 10}), ("commune", "38185", {"foyers_rsa": 10})])
    with pytest.raises(InputError, match="ilot"):
        protect(obs, 2024, [("commune", "38185")], geography, RULES)
    bad_iris = long_rows([("iris", "381850101X", {"foyers_rsa": 10})])
    with pytest.raises(InputError, match="381850101X"):
        protect(bad_iris, 2024, [("commune", "38185")], geography, RULES)


def test_scope_of_isere_includes_straddling_epci_members(geography):
    zones = scope_zones(geography, "38")
    assert ("commune", "69007") in zones  # CA Vienne Condrieu reaches into the Rhône
    assert ("epci", "200077014") in zones
    assert {("departement", "38"), ("region", "84"), ("france", "FR")} <= set(zones)
    assert sum(1 for lv, c in zones if lv == "commune" and c.startswith("38")) == 512
    assert sum(1 for lv, _ in zones if lv == "epci") == 18


def test_rules_file_is_versioned(tmp_path):
    assert RULES.version and RULES.threshold == 5 and RULES.zero_is_secret is False
    bad = tmp_path / "rules.yml"
    bad.write_text("version: '1'\nprimary:\n  threshold: true\n  unknown: 3\n")
    with pytest.raises(InputError):
        load_rules(bad)


def test_mask_is_cached_and_shared(geography, tmp_path):
    from abs_report.secrecy import load_or_protect
    epci, communes = small_epci(geography, 4)
    rows = [("commune", c, {"foyers_rsa": v}) for c, v in zip(communes, [3, 40, 55, 70])]
    rows.append(("epci", epci, {"foyers_rsa": 168}))
    obs = long_rows(rows)
    zones = [("commune", c) for c in communes] + [("epci", epci)]
    first = load_or_protect("demo", obs, 2024, zones, geography, RULES, tmp_path)
    assert len(list((tmp_path / "masks").glob("*.parquet"))) == 1
    again = load_or_protect("demo", obs, 2024, zones, geography, RULES, tmp_path)
    assert again.mask_hash == first.mask_hash == protect(obs, 2024, zones, geography, RULES).mask_hash
    assert again.passes == first.passes and again.rules_version == RULES.version
