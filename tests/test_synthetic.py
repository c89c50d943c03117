"""The demonstration data: deterministic, consistent, calibrated, cached."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abs_report import observations
from abs_report.catalogue import RELATIONS, SUBSETS, base_measures
from abs_report.geography import load_geography
from abs_report.sources import synthetic

REAL_DATA = Path(__file__).parents[2] / "shared" / "data"
REAL_FILE = REAL_DATA / "cafdata" / "s_ben_com_f_isere_2020-2022.csv"

FAMILY_TYPES = next(r.parts for r in RELATIONS if r.id == "composition_familiale")
CHILD_BANDS = ("enfants_0_2", "enfants_3_5", "enfants_6_10", "enfants_11_14", "enfants_15_17",
               "enfants_18_24")
AMOUNT_BASIS = {"montant_rsa": "foyers_rsa", "montant_ppa": "foyers_ppa",
                "montant_aides_logement": "foyers_aides_logement", "montant_af": "foyers_af",
                "montant_paje": "foyers_paje", "montant_aah": "foyers_aah"}


def _sub_geography(deps):
    """The COG restricted to some départements: a full pipeline run in a second."""
    geo = copy.copy(load_geography())
    geo.communes = geo.communes[geo.communes["departement"].isin(deps)]
    return geo


@pytest.fixture(scope="module")
def table():
    """Source rows of all France, one row per (zone_level, zone_code, year), simulated once."""
    return synthetic.simulate_wide(load_geography())


@pytest.fixture(scope="module")
def small_dataset():
    """The assembled dataset for Isère and Corse-du-Sud."""
    return synthetic.generate(_sub_geography(["38", "2A"]))


def _rates(row: pd.Series, population: float) -> dict:
    f = row["foyers_allocataires"]
    return {"couverture": row["personnes_couvertes"] / population,
            "rsa": row["foyers_rsa"] / f, "ppa": row["foyers_ppa"] / f,
            "logement": row["foyers_aides_logement"] / f, "af": row["foyers_af"] / f,
            "paje": row["foyers_paje"] / f}


def _isere(table: pd.DataFrame, year: int) -> pd.Series:
    communes = table.xs(("commune", year), level=("zone_level", "year"))
    return communes[communes.index.str.startswith("38")].sum()


# --- determinism ----------------------------------------------------------------------

def test_same_seed_same_rows(table):
    pd.testing.assert_frame_equal(table, synthetic.simulate_wide(load_geography()))


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path, small_dataset):
    geo = _sub_geography(["38", "2A"])
    again = synthetic.generate(geo)
    observations.save(small_dataset, tmp_path / "a")
    observations.save(again, tmp_path / "b")
    digest = [hashlib.sha256((tmp_path / d / "observations.parquet").read_bytes()).hexdigest()
              for d in ("a", "b")]
    assert digest[0] == digest[1]
    other = synthetic.generate(geo, seed=synthetic.SEED + 1)
    assert not other.observations["value"].equals(small_dataset.observations["value"])


# --- shape ------------------------------------------------------------------------------

def test_every_commune_year_and_base_measure(table):
    geo = load_geography()
    communes = table.xs("commune", level="zone_level")
    assert set(communes.index.get_level_values("zone_code")) == set(geo.communes.index)
    assert set(communes.index.get_level_values("year")) == set(synthetic.YEARS)
    expected = set(base_measures()) - {"population_municipale"}
    assert set(table.columns) == expected
    assert table.notna().all().all()


def test_codes_are_strings(table, small_dataset):
    codes = table.index.get_level_values("zone_code")
    assert all(isinstance(c, str) for c in codes.unique())
    assert {"2A004", "01001", "38185"} <= set(codes)
    assembled = small_dataset.observations["zone_code"]
    assert all(isinstance(c, str) for c in assembled.unique()) and "2A004" in set(assembled)


def test_long_rows_match_wide_table(small_dataset):
    geo = _sub_geography(["2A"])
    rows = synthetic.simulate(geo)
    assert list(rows.columns) == list(observations.COLUMNS)
    back = observations.wide(rows)
    wide = synthetic.simulate_wide(geo)
    pd.testing.assert_frame_equal(back.sort_index()[list(wide.columns)], wide.sort_index(),
                                  check_names=False)


def test_counts_are_integers_and_amounts_whole_euros(table):
    assert (table.to_numpy() == np.round(table.to_numpy())).all()


def test_assembled_dataset_and_meta(small_dataset):
    meta = small_dataset.meta
    assert meta.name == "demonstration" and meta.synthetic and meta.rounded_to is None
    assert meta.producer == "Caf de l'Isère" and meta.reference_producer == "Cnaf"
    assert meta.generator == {"name": "abs_report.sources.synthetic",
                              "version": synthetic.GENERATOR_VERSION, "seed": synthetic.SEED}
    assert "fictives" in meta.description
    assert meta.years == synthetic.YEARS
    levels = set(small_dataset.observations["zone_level"])
    assert levels == {"iris", "commune", "epci", "departement", "region", "france",
                      "qpv", "hors_qpv", "qpv_departement", "qpv_piece"}


# --- internal consistency ---------------------------------------------------------------

def test_no_negative_counts(table):
    assert (table.to_numpy() >= 0).all()


@pytest.mark.parametrize("relation", [r for r in RELATIONS if not r.derived], ids=lambda r: r.id)
def test_source_partitions_are_exact(table, relation):
    parts = table[list(relation.parts)].sum(axis=1)
    assert (parts == table[relation.total]).all()


def test_subsets_hold_on_every_assembled_row(small_dataset):
    wide = observations.wide(small_dataset.observations)
    for small, large in SUBSETS:
        assert (wide[small] <= wide[large]).all(), (small, large)


def test_subsets_hold_for_all_france(table):
    for small, large in SUBSETS:
        assert (table[small] <= table[large]).all(), (small, large)


def test_amounts_zero_exactly_when_no_foyer(table):
    for amount, count in AMOUNT_BASIS.items():
        assert ((table[amount] == 0) == (table[count] == 0)).all(), amount


def test_children_plausible_against_families(table):
    children = table[list(CHILD_BANDS)].sum(axis=1)
    families = table[[t for t in FAMILY_TYPES if "enfant" in t and "sans" not in t]].sum(axis=1)
    assert (children >= families).all()
    assert (children <= 8 * families).all()
    assert (table["foyers_paje"] <= table["enfants_0_2"] + table["enfants_3_5"]).all()
    assert (table["foyers_rsa_majore"] <= table[[t for t in FAMILY_TYPES if t.startswith("mono")]]
            .sum(axis=1)).all()
    assert (table["personnes_bas_revenus"] >= table["allocataires_bas_revenus"]).all()


# --- IRIS -------------------------------------------------------------------------------

def test_iris_only_in_large_communes_outside_isere(table):
    pop = load_geography().communes["population"]
    codes = table.xs("iris", level="zone_level").index.get_level_values("zone_code").unique()
    codes = codes[~codes.str.startswith(synthetic.REAL_IRIS_DEPARTEMENT)]
    assert (codes.str.len() == 9).all()
    parents = pd.Series(codes.str[:5]).value_counts()
    large = pop[(pop >= synthetic.IRIS_MIN_POPULATION) & ~pop.index.str.startswith("38")]
    assert set(parents.index) == set(large.index)
    assert (parents >= 2).all()
    # About one IRIS per 2,000 to 2,500 inhabitants.
    assert 2_000 <= large.sum() / parents.sum() <= 2_500


def test_isere_iris_are_insee_real_ones(table):
    """In Isère the IRIS are the packaged INSEE IRIS of the communes that have a split (not type Z)."""
    from abs_report.geometry import load_geometry

    iris = load_geometry().iris
    codes = table.xs("iris", level="zone_level").index.get_level_values("zone_code").unique()
    assert set(codes[codes.str.startswith("38")]) == set(iris.index[iris["type"] != "Z"])
    assert {"381850604", "381850309", "381850610"} <= set(codes)
    communes = table.xs("commune", level="zone_level").index.get_level_values("zone_code")
    assert "38548" in set(communes) and not any(c.startswith("38548") for c in codes)


def test_iris_sum_exactly_to_their_commune(table):
    iris = table.xs("iris", level="zone_level")
    summed = iris.groupby([iris.index.get_level_values("zone_code").str[:5],
                           iris.index.get_level_values("year")]).sum()
    communes = table.xs("commune", level="zone_level").loc[summed.index]
    assert (summed.to_numpy() == communes.to_numpy()).all()


def test_iris_sizes_unequal_with_some_under_secrecy_threshold(table):
    foyers = table.xs(("iris", 2024), level=("zone_level", "year"))["foyers_allocataires"]
    assert (foyers < 100).mean() > 0.03
    assert foyers.quantile(0.9) > 2 * foyers.quantile(0.25)


# --- plausibility and calibration --------------------------------------------------------

def test_small_communes_give_counts_of_one_to_four(table):
    pop = load_geography().communes["population"]
    communes = table.xs(("commune", 2024), level=("zone_level", "year"))
    small = communes[pop.reindex(communes.index).lt(500).to_numpy()]
    for measure in ("foyers_rsa", "foyers_paje", "foyers_aah", "foyers_als", "monoparents_1_enfant"):
        share = small[measure].between(1, 4).mean()
        assert share > 0.2, (measure, share)


def test_isere_calibration_2022(table):
    population = load_geography().communes.query("departement == '38'")["population"].sum()
    rates = _rates(_isere(table, 2022), population)
    assert 0.46 <= rates["couverture"] <= 0.52
    assert 0.075 <= rates["rsa"] <= 0.10
    assert 0.28 <= rates["ppa"] <= 0.34
    assert 0.36 <= rates["logement"] <= 0.44
    assert 0.36 <= rates["af"] <= 0.44
    assert 0.12 <= rates["paje"] <= 0.17


def test_grenoble_calibration_2022(table):
    grenoble = table.loc[("commune", "38185", 2022)]
    rates = _rates(grenoble, load_geography().communes.at["38185", "population"])
    assert 46_000 <= grenoble["foyers_allocataires"] <= 56_000
    assert 0.54 <= rates["couverture"] <= 0.62
    assert rates["logement"] > 0.55 and rates["af"] < 0.3


def test_cities_more_covered_and_poorer_than_villages(table):
    pop = load_geography().communes["population"]
    communes = table.xs(("commune", 2024), level=("zone_level", "year"))
    size = pop.reindex(communes.index).to_numpy()
    villages = communes[size < 1_000].sum()
    cities = communes[size >= 50_000].sum()
    assert (cities["foyers_allocataires"] / pop[pop >= 50_000].sum()
            > villages["foyers_allocataires"] / pop[(pop < 1_000)].sum())
    for poor in ("foyers_rsa", "allocataires_bas_revenus", "foyers_aides_logement"):
        assert cities[poor] / cities["foyers_allocataires"] > villages[poor] / villages["foyers_allocataires"]


def test_smooth_trend_2020_2024(table):
    population = load_geography().communes.query("departement == '38'")["population"].sum()
    by_year = {y: _rates(_isere(table, y), population) for y in synthetic.YEARS}
    rsa = [by_year[y]["rsa"] for y in synthetic.YEARS]
    ppa = [by_year[y]["ppa"] for y in synthetic.YEARS]
    assert rsa[0] > rsa[-1] and ppa[0] < ppa[-1]
    assert all(abs(b / a - 1) < 0.1 for a, b in zip(rsa, rsa[1:]))
    foyers = [_isere(table, y)["foyers_allocataires"] for y in synthetic.YEARS]
    assert max(foyers) / min(foyers) < 1.05


# --- cache ------------------------------------------------------------------------------

def test_demo_dataset_is_cached_and_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "load_geography", lambda: _sub_geography(["2A"]))
    first = synthetic.demo_dataset(tmp_path)
    folder = tmp_path / f"demo-v{synthetic.GENERATOR_VERSION}"
    assert (folder / "dataset.json").exists() and (folder / "observations.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]

    def refuse(*args, **kwargs):
        raise AssertionError("the cached dataset was regenerated")

    monkeypatch.setattr(synthetic, "generate", refuse)
    second = synthetic.demo_dataset(tmp_path)
    pd.testing.assert_frame_equal(first.observations, second.observations)
    assert second.meta == first.meta and second.meta.synthetic


# --- real data ----------------------------------------------------------------------------

@pytest.mark.realdata
@pytest.mark.skipif(not REAL_FILE.exists(), reason=f"real Cnaf extract absent ({REAL_FILE})")
def test_isere_close_to_real_open_data(table):
    real = pd.read_csv(REAL_FILE, sep=";", dtype={"numcomdo": str})
    real = real[real["dtreffre"] == "2022-12"]
    columns = {"indfoy_ndur": "foyers_allocataires", "indnbp_ndur": "personnes_couvertes",
               "indfoy_rsa": "foyers_rsa", "indfoy_ppa": "foyers_ppa",
               "indfoy_ndural": "foyers_aides_logement", "indfoy_af": "foyers_af",
               "indfoy_ndurpaje": "foyers_paje"}
    real = real.rename(columns=columns).set_index("numcomdo")
    population = load_geography().communes.query("departement == '38'")["population"].sum()
    real_rates = _rates(real[list(columns.values())].sum(), population)
    synthetic_rates = _rates(_isere(table, 2022), population)
    for name, value in real_rates.items():
        assert abs(synthetic_rates[name] / value - 1) < 0.15, (name, synthetic_rates[name], value)
    grenoble = table.loc[("commune", "38185", 2022), "foyers_allocataires"]
    assert abs(grenoble / real.at["38185", "foyers_allocataires"] - 1) < 0.1
