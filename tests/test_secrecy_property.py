"""Property: on random hierarchical tables, protect leaves nothing for the attacker."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abs_report.audit import audit_published
from abs_report.catalogue import MEASURES
from abs_report.secrecy import load_rules, protect
from secrecy_fixtures import as_published, long_rows

RULES = load_rules()
EPCI_SIZES = (3, 4, 5, 6)


def epci_with(geography, n):
    for code, members in sorted(geography.epcis["members"].items()):
        if len(members) == n:
            return code, list(members)


counts = st.integers(min_value=0, max_value=14)


@st.composite
def tables(draw, n=None, with_iris=None):
    """A random EPCI table: parts within each zone, communes within the EPCI, IRIS in one commune."""
    n = draw(st.sampled_from(EPCI_SIZES)) if n is None else n
    with_iris = draw(st.booleans()) if with_iris is None else with_iris
    communes = []
    for _ in range(n):
        majore, non, aah = draw(counts), draw(counts), draw(counts)
        apl, alf, als = draw(counts), draw(counts), draw(counts)
        communes.append({"foyers_rsa_majore": majore, "foyers_rsa_non_majore": non,
                         "foyers_rsa": majore + non, "foyers_aah": aah,
                         "foyers_apl": apl, "foyers_alf": alf, "foyers_als": als,
                         "foyers_aides_logement": apl + alf + als,
                         "montant_rsa": round(550.0 * (majore + non) + draw(st.integers(0, 90)), 2)})
    iris = []
    if with_iris:
        for _ in range(draw(st.integers(2, 4))):
            iris.append({"foyers_allocataires": draw(st.sampled_from([40, 90, 120, 300])),
                         "foyers_aah": draw(counts)})
    return n, communes, iris


def build(geography, n, communes, iris):
    epci, members = epci_with(geography, n)
    rows = [("commune", c, dict(v)) for c, v in zip(members, communes)]
    if iris:
        first = rows[0][2]
        first["foyers_allocataires"] = sum(i["foyers_allocataires"] for i in iris)
        first["foyers_aah"] = sum(i["foyers_aah"] for i in iris)
        rows += [("iris", f"{members[0]}{k + 1:04d}", v) for k, v in enumerate(iris)]
    total = {}
    for lv, _, values in rows:
        if lv == "commune":
            for m, v in values.items():
                total[m] = total.get(m, 0) + v
    # Every commune needs every measure for the EPCI sum to be a full fact.
    measures = set().union(*(v for lv, _, v in rows if lv == "commune"))
    for lv, _, values in rows:
        if lv == "commune":
            for m in measures:
                values.setdefault(m, 0)
    total = {m: sum(v[m] for lv, _, v in rows if lv == "commune") for m in measures}
    rows.append(("epci", epci, total))
    zones = [("commune", c) for c in members] + [("epci", epci)]
    return long_rows(rows), zones


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_protected_tables_resist_the_independent_attacker(geography, table):
    obs, zones = build(geography, *table)
    protection = protect(obs, 2024, zones, geography, RULES)
    cells = protection.cells
    shown = cells[cells["status"] == "published"]
    is_count = shown["measure"].map(lambda m: MEASURES[m].unit == "count")
    assert not ((shown["value"] > 0) & (shown["value"] < 5) & is_count).any()
    result = audit_published([as_published(cells)], geography, truth=obs)
    assert result.failures == [], [str(f) for f in result.failures]
    # The attacker without the truth agrees (a derived zero is no disclosure).
    assert audit_published([as_published(cells)], geography).failures == []


SERIES_YEARS = (2020, 2021, 2022, 2023, 2024)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=3, max_value=4).flatmap(
    lambda n: st.lists(tables(n, False), min_size=5, max_size=5)))
def test_five_year_series_with_changes_resist_the_attacker(geography, series):
    """Each year its own mask; the yearly counts, evolution rates and indices read together."""
    import pandas as pd

    from abs_report import published as pub
    from abs_report.tables import TableSpec

    protected, truth = [], []
    for year, table in zip(SERIES_YEARS, series):
        obs, zones = build(geography, *table)
        obs["year"] = year
        truth.append(obs)
        protected.append(protect(obs, year, zones, geography, RULES).cells)
    cells = pd.concat(protected, ignore_index=True)
    report_zones = tuple(geography.zone(level, code) for level, code in reversed(zones))
    specs = (TableSpec("T13_evolution", "evolution", "Évolution", ("foyers_rsa", "foyers_aah"), kind="evolution"),
             TableSpec("G07_evolution", "evolution", "Indices", ("foyers_rsa", "foyers_aah"), kind="index"))
    series_rows = pub.build(specs, report_zones, 2024, cells, years=SERIES_YEARS)
    assert set(series_rows["year"]) == set(SERIES_YEARS)
    frame = series_rows.assign(year=series_rows["year"].astype(str),
                               value=series_rows["value"].map(lambda v: "" if pd.isna(v) else repr(float(v))))
    every_cell = pd.concat([as_published(c) for c in protected], ignore_index=True)
    result = audit_published([every_cell, frame], geography, pd.concat(truth, ignore_index=True))
    assert result.failures == [], [str(f) for f in result.failures]
    # A change is printed only when both its years are: hiding one year hides every change touching it.
    status = {(r.zone_code, int(r.year), r.measure): r.status for r in series_rows.itertuples()}
    for r in series_rows[series_rows["measure"].str.startswith("indice_")].itertuples():
        item = r.measure.removeprefix("indice_")
        if r.status == "published":
            assert status[(r.zone_code, 2020, item)] == status[(r.zone_code, int(r.year), item)] == "published"
