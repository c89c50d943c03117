"""Demonstration data of the quartiers prioritaires (issue 15, item 2): pieces, QPV, hors QPV."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from abs_report.catalogue import RELATIONS, SUBSETS, base_measures
from abs_report.geography import load_geography
from abs_report.geometry import load_geometry
from abs_report.sources import synthetic, synthetic_qpv

FAMILY_TYPES = next(r.parts for r in RELATIONS if r.id == "composition_familiale")
MONO = [t for t in FAMILY_TYPES if t.startswith("mono")]
CHILD_BANDS = next(r.parts for r in RELATIONS if r.id == "enfants_par_age")


def _geography():
    """Isère and Corse-du-Sud: every QPV of Isère in a second of generation."""
    geo = copy.copy(load_geography())
    geo.communes = geo.communes[geo.communes["departement"].isin(["38", "2A"])]
    return geo


@pytest.fixture(scope="module")
def table():
    return synthetic.simulate_wide(_geography())


def _level(table, level):
    return table.xs(level, level="zone_level")


def _pieces(table):
    pieces = _level(table, "qpv_piece").reset_index()
    pieces[["iris", "part"]] = pieces["zone_code"].str.split(":", expand=True)
    return pieces


def _consistent(rows: pd.DataFrame) -> list[str]:
    """What breaks the catalogue's relations or the generator's identities in ``rows`` (wide)."""
    broken = [r.id for r in RELATIONS if not r.derived
              and not (rows[list(r.parts)].sum(axis=1) == rows[r.total]).all()]
    broken += [f"{s}<={l}" for s, l in SUBSETS if not (rows[s] <= rows[l]).all()]
    children = rows[list(CHILD_BANDS)].sum(axis=1)
    families = rows[[t for t in FAMILY_TYPES if "enfant" in t and "sans" not in t]].sum(axis=1)
    checks = {"children>=families": children >= families, "children<=8families": children <= 8 * families,
              "paje": rows["foyers_paje"] <= rows["enfants_0_2"] + rows["enfants_3_5"],
              "majore<=lone": rows["foyers_rsa_majore"] <= rows[MONO].sum(axis=1),
              "persons_low": rows["personnes_bas_revenus"] >= rows["allocataires_bas_revenus"],
              "nonnegative": (rows >= 0).all(axis=1), "integers": (rows == np.round(rows)).all(axis=1)}
    for amount, count in synthetic_qpv.AMOUNT_BASIS.items():
        checks[amount] = (rows[amount] == 0) == (rows[count] == 0)
    return broken + [name for name, ok in checks.items() if not ok.all()]


def test_every_piece_of_the_packaged_table_with_every_measure_and_year(table):
    pieces = _pieces(table)
    expected = {f"{r.iris}:{r.qpv}" for r in load_geometry().qpv_iris.itertuples()}
    expected |= {f"{i}:HQPV" for i in load_geometry().qpv_iris["iris"]}
    assert set(pieces["zone_code"]) == expected
    assert set(pieces["year"]) == set(synthetic.YEARS)
    assert set(table.columns) == set(base_measures()) - {"population_municipale"}
    assert table.notna().all().all()
    assert len(_level(table, "qpv").index.get_level_values(0).unique()) == 24


def test_iris_equal_the_sum_of_their_pieces(table):
    pieces = _pieces(table)
    sums = pieces.groupby(["iris", "year"])[list(table.columns)].sum()
    iris = _level(table, "iris")
    unsplit = sums.index.get_level_values("iris").str.endswith("0000")
    assert unsplit.sum() == len(synthetic.YEARS)  # Chasse-sur-Rhône: a commune not split into IRIS
    pd.testing.assert_frame_equal(sums[~unsplit], iris.loc[sums[~unsplit].index], check_names=False)
    whole = sums[unsplit].rename(index=lambda c: c[:5], level=0)
    pd.testing.assert_frame_equal(whole, _level(table, "commune").loc[whole.index], check_names=False)


def test_qpv_hors_qpv_and_departement_are_sums_of_pieces(table):
    geo = load_geography()
    pieces = _pieces(table)
    measures = list(table.columns)
    inside = pieces[pieces["part"] != "HQPV"]
    qpv = inside.groupby(["part", "year"])[measures].sum()
    pd.testing.assert_frame_equal(qpv, _level(table, "qpv").loc[qpv.index], check_names=False)
    iris = _level(table, "iris").reset_index()
    met = set(pieces["iris"])
    for commune in sorted({c for cs in geo.qpv_table["communes"] for c in cs}):
        outside = pieces[(pieces["part"] == "HQPV") & pieces["iris"].str.startswith(commune)]
        clear = iris[iris["zone_code"].str.startswith(commune) & ~iris["zone_code"].isin(met)]
        expected = pd.concat([outside, clear]).groupby("year")[measures].sum()
        hors = _level(table, "hors_qpv").xs(commune, level="zone_code")
        pd.testing.assert_frame_equal(hors, expected, check_names=False)
        in_qpv = inside[inside["iris"].str.startswith(commune)].groupby("year")[measures].sum()
        whole = _level(table, "commune").xs(commune, level="zone_code")
        pd.testing.assert_frame_equal(in_qpv + hors, whole, check_names=False)
    dep = _level(table, "qpv").groupby(level="year").sum()
    pd.testing.assert_frame_equal(dep, _level(table, "qpv_departement").xs("38", level="zone_code"),
                                  check_names=False)
    assert set(_level(table, "hors_qpv").index.get_level_values(0)) == \
        {c for cs in geo.qpv_table["communes"] for c in cs}


@pytest.mark.parametrize("level", ["qpv_piece", "qpv", "hors_qpv", "qpv_departement"])
def test_relations_hold_within_every_qpv_zone(table, level):
    assert _consistent(_level(table, level)) == []


def test_commune_and_iris_rows_do_not_depend_on_the_qpv_step(table, monkeypatch):
    monkeypatch.setattr(synthetic, "qpv_rows", lambda table, geography, seed: table.iloc[:0])
    without = synthetic.simulate_wide(_geography())
    base = table[table.index.get_level_values("zone_level").isin(["iris", "commune"])]
    pd.testing.assert_frame_equal(base, without)


@pytest.fixture(scope="module")
def france():
    """The demonstration data's own draws (the IRIS of Isère differ in a smaller geography)."""
    return synthetic.simulate_wide(load_geography())


def _ratios(qpv: pd.Series, outside: pd.Series) -> dict:
    families = MONO + [t for t in FAMILY_TYPES if t.startswith("couples_") and "sans" not in t]

    def ratio(num, den):
        return (qpv[num].sum() / qpv[den].sum()) / (outside[num].sum() / outside[den].sum())
    return {"rsa": ratio("foyers_rsa", "foyers_allocataires"),
            "lone_foyers": ratio(MONO, "foyers_allocataires"), "lone_families": ratio(MONO, families),
            "low_income": ratio("allocataires_bas_revenus", "allocataires_reference"),
            "housing": ratio("foyers_aides_logement", "foyers_allocataires")}


@pytest.mark.parametrize("zone", ["isere", "grenoble"])
def test_qpv_more_precarious_than_outside_as_published_figures_say(france, zone):
    # Insee Focus 348 (CAF, December 2023), QPV vs all of France: RSA 24.8 % vs 13.2 %, lone
    # parents 21 % vs 16 % of foyers, housing benefit 63 % vs 42 %; poverty 44 % vs 14.5 %.
    rows = france.xs(2022, level="year")
    if zone == "isere":
        communes = rows.loc["commune"]
        qpv = rows.loc["qpv_departement"].loc["38"]
        outside = communes[communes.index.str.startswith("38")].sum() - qpv
    else:
        qpv = rows.loc["qpv"].loc[list(load_geography().qpv_of_commune("38185"))].sum()
        outside = rows.loc["hors_qpv"].loc["38185"]
    ratios = _ratios(qpv, outside)
    bounds = {"rsa": (1.5, 2.6), "lone_foyers": (1.1, 1.6), "lone_families": (1.2, 2.2),
              "low_income": (1.25, 2.0), "housing": (1.15, 2.3)}
    assert {k: lo <= ratios[k] <= hi for k, (lo, hi) in bounds.items()} == dict.fromkeys(bounds, True), ratios


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 10_000), share=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
# A split whose majored RSA was clipped against the RSA split after the lone-parent bound
# (the QPV side ended with more majored RSA than lone parents): found by this property.
@example(row=2436, share=0.35055481136788813, seed=4282126601)
@example(row=3837, share=0.5238965642269047, seed=3564355910)
def test_any_split_keeps_both_sides_consistent(table, row, share, seed):
    """Property: splitting any generated row at any share gives two consistent rows summing to it."""
    units = table[table.index.get_level_values("zone_level").isin(["iris", "commune"])]
    rows = units.iloc[[row % len(units)]]
    v = {m: rows[m].to_numpy().astype(np.int64) for m in rows.columns}
    q = synthetic_qpv.split(np.random.default_rng(seed), v, np.array([share]))
    inside = pd.DataFrame({m: q[m].astype(float) for m in rows.columns})
    outside = pd.DataFrame({m: (v[m] - q[m]).astype(float) for m in rows.columns})
    assert _consistent(inside) == [] and _consistent(outside) == []


def test_reading_one_departement_keeps_its_pieces_only(tmp_path):
    from abs_report import observations

    observations.save(synthetic.generate(_geography()), tmp_path)
    corsica = observations.load(tmp_path, ["2A"]).observations
    isere = observations.load(tmp_path, ["38"]).observations
    assert not corsica["zone_level"].isin(["qpv_piece", "hors_qpv"]).any()
    assert {"qpv", "qpv_departement"} <= set(corsica["zone_level"])  # wide zones, kept like EPCI
    assert {"qpv_piece", "hors_qpv", "qpv"} <= set(isere["zone_level"])


def test_calibration_note_names_its_source_and_figures():
    note = synthetic_qpv.calibration_note()
    assert "Insee Focus n° 348" in note and "24,8\u202f% en QPV contre 13,2\u202f%" in note
