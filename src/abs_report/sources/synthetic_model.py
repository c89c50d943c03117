"""The demonstration data's model: calibration, units of simulation and the draws.

:mod:`abs_report.sources.synthetic` is the public face (generate, simulate, the
cached demonstration dataset); this module holds how the counts are drawn. Its
calibration tables were tuned so that Isère and Grenoble land near the real
Cnaf open-data figures of December 2022 (``tests/test_synthetic.py``).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..catalogue import base_measures
from ..geography import Geography

IRIS_MIN_POPULATION = 10_000
"""Communes this large are split into IRIS (as INSEE does)."""
IRIS_TARGET_POPULATION = 2_200
REAL_IRIS_DEPARTEMENT = "38"
"""Where the demonstration IRIS are INSEE's real ones (the packaged contours)."""

# Poverty rates (%, rounded orders of magnitude) of the départements that differ
# most from the national level; the deprivation effect is their log-ratio to
# Isère's, so Isère sits at 0 and calibrates the rest.
_POVERTY_RATE = {
    "93": 28, "66": 21, "11": 21, "30": 20, "2B": 20, "2A": 17, "62": 19.5, "02": 18.5,
    "08": 19, "13": 18.5, "34": 19.5, "59": 18.5, "09": 18, "82": 17, "84": 19.5, "75": 15,
    "95": 16.5, "94": 16.5, "23": 19, "971": 34, "972": 28, "973": 53, "974": 37, "976": 77,
    "74": 9.5, "78": 9.5, "85": 10, "01": 10.5, "44": 11, "35": 10.5, "92": 12, "91": 13,
    "77": 12.5, "67": 12.5, "69": 13.5, "38": 11.5, "73": 10.5, "68": 12, "29": 10.5,
    "49": 11.5, "53": 11, "31": 13.5, "33": 13.5, "64": 12,
}
_DEFAULT_POVERTY_RATE = 14.5
_OVERSEAS = ("971", "972", "973", "974", "976")

# Size profiles: rate as a piecewise-linear function of log10(commune population),
# read off the real Isère 2022 profile (foyers per inhabitant, benefit shares).
_SIZE_KNOTS = np.array([2.0, 3.0, 3.5, 4.0, 4.5, 5.2])
_PROFILE = {
    "foyers_per_inhabitant": [0.112, 0.138, 0.158, 0.186, 0.235, 0.318],
    "isolated_share": [0.37, 0.27, 0.33, 0.40, 0.48, 0.66],
    "lone_parent_share": [0.12, 0.13, 0.14, 0.16, 0.16, 0.11],
    "housing_share": [0.17, 0.14, 0.21, 0.36, 0.52, 0.64],
    "rsa_share": [0.050, 0.050, 0.058, 0.086, 0.105, 0.085],
    "ppa_share": [0.30, 0.27, 0.29, 0.34, 0.33, 0.265],
    "low_income_share": [0.28, 0.26, 0.28, 0.32, 0.36, 0.40],
    "students_share": [0.01, 0.01, 0.02, 0.04, 0.08, 0.16],
}

# Multipliers by year, 2022 = 1 (covid peak of RSA in 2020, housing-benefit
# reform of 2021, PPA take-up rising, births falling, AAH reform of 2023).
_TREND_YEARS = np.array([2020, 2021, 2022, 2023, 2024])
_TREND = {
    "foyers": [1.012, 0.998, 1.0, 0.997, 0.994],
    "rsa": [1.09, 1.025, 1.0, 0.98, 0.965],
    "ppa": [0.955, 0.975, 1.0, 1.02, 1.035],
    "housing": [1.11, 1.025, 1.0, 0.99, 0.985],
    "births": [1.03, 1.02, 1.0, 0.97, 0.94],
    "aah": [0.94, 0.97, 1.0, 1.035, 1.07],
}
# Revaluation of the mean December amount, 2020 = 1.
_PRICE = {
    "rsa": [1.0, 1.001, 1.045, 1.09, 1.12],
    "ppa": [1.0, 1.001, 1.045, 1.09, 1.12],
    "housing": [1.0, 1.0, 1.035, 1.07, 1.08],
    "af": [1.0, 1.001, 1.04, 1.09, 1.14],
    "paje": [1.0, 1.001, 1.04, 1.09, 1.14],
    "aah": [1.0, 1.0, 1.04, 1.09, 1.12],
}
# Mean December amount per foyer in 2020 (euros).
_MEAN_AMOUNT = {
    "rsa_non_majore": 520.0, "rsa_majore": 790.0, "ppa": 185.0, "apl": 245.0, "alf": 265.0,
    "als": 190.0, "af_2": 132.0, "af_3": 302.0, "af_4": 480.0, "af_1": 24.0, "paje": 310.0,
    "aah": 860.0,
}
_AMOUNT_SHAPE = 4.0
"""Gamma shape of one foyer's amount (coefficient of variation 0.5)."""

_CHILD_BANDS = ("enfants_0_2", "enfants_3_5", "enfants_6_10", "enfants_11_14", "enfants_15_17",
                "enfants_18_24")
_CHILD_AGE_SHARES = np.array([0.125, 0.135, 0.23, 0.19, 0.14, 0.18])
_QF_BANDS = ("qf_0_399", "qf_400_599", "qf_600_799", "qf_800_999", "qf_1000_1499",
             "qf_1500_plus", "qf_inconnu")
_QF_SHARES = np.array([0.17, 0.13, 0.14, 0.12, 0.19, 0.11, 0.14])
_QF_DEPRIVATION_TILT = np.array([0.9, 0.4, 0.1, -0.2, -0.6, -0.9, 0.0])
# Children per family of couples (1, 2, 3, 4+) and of lone parents: one-child
# families with middle incomes receive nothing in mainland France, so they are
# rarer among allocataires than in the population.
_COUPLE_CHILDREN = np.array([0.12, 0.62, 0.20, 0.06])
_LONE_CHILDREN = np.array([0.42, 0.38, 0.14, 0.06])
_EXTRA_CHILDREN_4PLUS = 0.45
"""Mean children above four in a family of four or more."""


# --- units of simulation ----------------------------------------------------------------

class _Units:
    """Communes under the IRIS threshold and IRIS of larger communes, as flat arrays."""

    def __init__(self, code, level, commune, population, size, deprivation, overseas):
        self.code = code
        self.level = level
        self.commune = commune
        self.population = population
        self.size = size
        self.deprivation = deprivation
        self.overseas = overseas

    def __len__(self) -> int:
        return len(self.code)


def _units(geography: Geography, rng: np.random.Generator) -> _Units:
    """Split the communes into units and give each its effects.

    In Isère the IRIS are INSEE's real ones (the packaged contours, edition 2020),
    so that a report's quartiers carry real names and sit on the maps; a commune
    without an IRIS split (type Z) stays whole. Elsewhere communes of 10,000
    inhabitants or more are split into generated IRIS.
    """
    communes = geography.communes.sort_index()
    codes = communes.index.to_numpy(dtype=object)
    pop = communes["population"].to_numpy(dtype=np.int64)
    deps = communes["departement"].to_numpy(dtype=object)
    commune_effect = _departement_effect(deps) + rng.normal(0.0, 0.22, len(codes))
    real = _real_iris(codes)
    has_real = np.isin(codes, real["commune"])
    generated = (pop >= IRIS_MIN_POPULATION) & ~has_real & (deps != REAL_IRIS_DEPARTEMENT)
    iris = _iris_layout(codes[generated], pop[generated], rng)
    iris["parent"] = np.flatnonzero(generated)[iris["parent"]]
    iris = _concat_layouts(iris, _real_iris_layout(real, codes, pop, rng))
    parent = iris["parent"]
    whole = ~(generated | has_real)
    size = np.log10(np.maximum(pop, 1))
    return _Units(
        code=np.concatenate([codes[whole], iris["code"]]),
        level=np.concatenate([np.full(whole.sum(), "commune", dtype=object),
                              np.full(len(parent), "iris", dtype=object)]),
        commune=np.concatenate([codes[whole], codes[parent]]),
        population=np.concatenate([pop[whole], iris["population"]]),
        size=np.concatenate([size[whole], size[parent]]),
        deprivation=np.concatenate([commune_effect[whole], commune_effect[parent] + iris["effect"]]),
        overseas=np.isin(np.concatenate([deps[whole], deps[parent]]), _OVERSEAS),
    )


def _real_iris(codes: np.ndarray) -> pd.DataFrame:
    """INSEE's IRIS of the communes that have an IRIS split (types H, A, D), from the packaged contours."""
    from ..geometry import load_geometry

    table = load_geometry().iris
    table = table[(table["type"] != "Z") & table["commune"].isin(set(codes))]
    return table.sort_index()[["commune", "type"]].rename_axis("code").reset_index()


def _real_iris_layout(real: pd.DataFrame, codes: np.ndarray, pop: np.ndarray,
                      rng: np.random.Generator) -> dict:
    """Population and deprivation of the real IRIS: activity and other IRIS (A, D) have few residents."""
    index = pd.Index(codes)
    parent = index.get_indexer(real["commune"]).astype(np.int64)
    order = np.argsort(parent, kind="stable")  # _split_exactly wants each commune's IRIS together
    parent, types = parent[order], real["type"].to_numpy()[order]
    weight = rng.lognormal(0.0, 0.4, len(parent))
    small = types != "H"
    weight[small] = rng.uniform(0.01, 0.12, small.sum())
    effect = rng.normal(0.0, 0.45, len(parent))
    local = np.unique(parent, return_inverse=True)[1]
    return {"code": real["code"].to_numpy(dtype=object)[order], "parent": parent,
            "population": _split_exactly(pop[np.unique(parent)], local, weight), "effect": effect}


def _concat_layouts(first: dict, second: dict) -> dict:
    return {key: np.concatenate([first[key], second[key]]) for key in first}


def _departement_effect(deps: np.ndarray) -> np.ndarray:
    """Log-ratio of the département's poverty rate to Isère's (Isère = 0)."""
    rates = np.array([_POVERTY_RATE.get(d, _DEFAULT_POVERTY_RATE) for d in deps], dtype=float)
    return np.clip(np.log(rates / _POVERTY_RATE["38"]), -0.3, 1.2)


def _iris_layout(codes: np.ndarray, pop: np.ndarray, rng: np.random.Generator) -> dict:
    """IRIS of the large communes: codes, parent index, population, deprivation.

    Sizes are unequal (lognormal weights) and about one IRIS in twelve is a
    small activity or green-space IRIS with few residents, so some IRIS fall
    under the 100-allocataire threshold of infra-communal secrecy.
    """
    counts = np.maximum(2, np.rint(pop / IRIS_TARGET_POPULATION).astype(np.int64))
    parent = np.repeat(np.arange(len(codes)), counts)
    rank = np.arange(len(parent)) - np.repeat(np.cumsum(counts) - counts, counts)
    weight = rng.lognormal(0.0, 0.4, len(parent))
    small = rng.random(len(parent)) < 0.08
    weight[small] = rng.uniform(0.01, 0.12, small.sum())
    population = _split_exactly(pop, parent, weight)
    # Cities are segregated: IRIS deprivation varies more than communes'.
    effect = rng.normal(0.0, 0.45, len(parent))
    return {"code": _iris_codes(codes, parent, rank, counts), "parent": parent,
            "population": population, "effect": effect}


def _split_exactly(total: np.ndarray, parent: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Integer parts of ``total[parent]`` proportional to ``weight``, summing exactly."""
    groups = pd.Series(weight).groupby(parent)
    cumulative = groups.cumsum().to_numpy() / groups.transform("sum").to_numpy()
    upper = np.rint(cumulative * total[parent]).astype(np.int64)
    first = np.r_[True, parent[1:] != parent[:-1]]
    lower = np.where(first, 0, np.r_[0, upper[:-1]])
    return upper - lower


def _iris_codes(codes: np.ndarray, parent: np.ndarray, rank: np.ndarray,
                counts: np.ndarray) -> np.ndarray:
    """``commune code + QQNN``: IRIS NN of the grand quartier QQ, both from 01."""
    per_quarter = np.maximum(6, -(-counts // 99))[parent]
    quarter = rank // per_quarter + 1
    number = rank % per_quarter + 1
    suffix = np.char.zfill((quarter * 100 + number).astype(str), 4)
    return np.char.add(codes[parent].astype(str), suffix).astype(object)


# --- simulation ------------------------------------------------------------------------

def _profile(name: str, size: np.ndarray) -> np.ndarray:
    return np.interp(size, _SIZE_KNOTS, _PROFILE[name])


def _by_year(table: dict, name: str, years: tuple[int, ...]) -> np.ndarray:
    """Row vector of the yearly factor, held constant outside 2020-2024."""
    return np.interp(years, _TREND_YEARS, table[name])[None, :]


def _binomial(rng, n, p):
    return rng.binomial(n, np.clip(p, 0.0, 1.0))


def _multinomial(rng, n: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
    """Split counts ``n`` along the last axis of ``shares`` (conditional binomials).

    Vectorised over units and years, and exact: the parts sum to ``n``.
    """
    shares = shares / shares.sum(axis=-1, keepdims=True)
    parts, left, mass = [], n, np.ones(shares.shape[:-1])
    for k in range(shares.shape[-1] - 1):
        p = np.divide(shares[..., k], mass, out=np.zeros_like(mass), where=mass > 0)
        part = _binomial(rng, left, p)
        parts.append(part)
        left = left - part
        mass = mass - shares[..., k]
    parts.append(left)
    return parts


def _simulate(units: _Units, years: tuple[int, ...], rng: np.random.Generator) -> dict:
    """Every base measure as an array (unit, year)."""
    shape = (len(units), len(years))
    z = units.deprivation[:, None]
    size = units.size[:, None]
    pop = np.broadcast_to(units.population[:, None], shape)
    overseas_boost = np.where(units.overseas, 0.1, 0.0)[:, None]
    rate = _profile("foyers_per_inhabitant", size) * np.exp(0.22 * z + overseas_boost)
    foyers = _binomial(rng, pop, rate * _by_year(_TREND, "foyers", years))
    v = {"foyers_allocataires": foyers}
    v.update(_families(rng, foyers, size, z))
    v.update(_children(rng, v, z))
    v.update(_persons(rng, v))
    v.update(_income(rng, v, size, z))
    v.update(_benefits(rng, v, size, z, units.overseas[:, None], years))
    v.update(_amounts(rng, v, years))
    return v


def _families(rng, foyers, size, z) -> dict:
    """Family composition: an exact partition of the foyers."""
    isolated = np.clip(_profile("isolated_share", size) * np.exp(0.1 * z), 0.05, 0.8)
    lone = np.clip(_profile("lone_parent_share", size) * np.exp(0.4 * z), 0.03, 0.4)
    childless_couples = np.full_like(isolated, 0.045)
    couples = np.clip(1.0 - isolated - lone - childless_couples, 0.02, None)
    big = np.clip(0.3 * z, -0.3, 0.6)[..., None]
    couple_kids = _COUPLE_CHILDREN * np.exp(big * np.array([-0.5, 0.0, 0.5, 1.0]))
    lone_kids = _LONE_CHILDREN * np.exp(big * np.array([-0.5, 0.0, 0.5, 1.0]))
    shares = np.concatenate([
        (isolated * 0.46)[..., None], (isolated * 0.54)[..., None], childless_couples[..., None],
        couples[..., None] * couple_kids / couple_kids.sum(-1, keepdims=True),
        lone[..., None] * lone_kids / lone_kids.sum(-1, keepdims=True),
    ], axis=-1)
    names = ("isoles_hommes", "isolees_femmes", "couples_sans_enfant", "couples_1_enfant",
             "couples_2_enfants", "couples_3_enfants", "couples_4_enfants_plus",
             "monoparents_1_enfant", "monoparents_2_enfants", "monoparents_3_enfants",
             "monoparents_4_enfants_plus")
    return dict(zip(names, _multinomial(rng, foyers, shares)))


def _families_with(v: dict, children: int) -> np.ndarray:
    """Couples and lone parents with exactly ``children`` (4 means 4 or more)."""
    suffix = {1: "1_enfant", 2: "2_enfants", 3: "3_enfants", 4: "4_enfants_plus"}[children]
    return v[f"couples_{suffix}"] + v[f"monoparents_{suffix}"]


def _children(rng, v: dict, z) -> dict:
    """Children by age band; their total follows the family sizes."""
    extra = rng.poisson(_EXTRA_CHILDREN_4PLUS * _families_with(v, 4))
    total = sum(k * _families_with(v, k) for k in (1, 2, 3, 4)) + extra
    tilt = np.exp(np.clip(0.15 * z, -0.2, 0.3)[..., None] * np.array([1, 1, 0.5, 0, -0.5, -1]))
    shares = _CHILD_AGE_SHARES * tilt
    return {"_extra_children": extra, **dict(zip(_CHILD_BANDS, _multinomial(rng, total, shares)))}


def _persons(rng, v: dict) -> dict:
    """Personnes couvertes: allocataires, spouses, children, other dependants."""
    couples = v["couples_sans_enfant"] + sum(v[f"couples_{s}"] for s in
                                             ("1_enfant", "2_enfants", "3_enfants", "4_enfants_plus"))
    children = sum(v[b] for b in _CHILD_BANDS)
    others = _binomial(rng, v["foyers_allocataires"], 0.012)
    return {"personnes_couvertes": v["foyers_allocataires"] + couples + children + others}


def _income(rng, v: dict, size, z) -> dict:
    """Reference population, low income and dependence on benefits (nested)."""
    foyers, persons = v["foyers_allocataires"], v["personnes_couvertes"]
    # Students without other benefit and people of 65 or more leave the reference
    # population; they mostly live alone, hence one person each, sometimes two.
    excluded = _binomial(rng, foyers, _profile("students_share", size) + 0.07)
    reference = foyers - excluded
    excluded_extra = np.minimum(_binomial(rng, excluded, 0.1), persons - foyers)
    persons_reference = persons - excluded - excluded_extra
    low = _binomial(rng, reference, _profile("low_income_share", size) * np.exp(0.55 * z))
    # Low-income foyers are larger than average (families on RSA, lone parents).
    low_share = np.clip(1.1 * _profile("low_income_share", size) * np.exp(0.5 * z), 0, 0.95)
    low_persons = low + _binomial(rng, persons_reference - reference, low_share)
    dependent_50 = _binomial(rng, low, 0.55 * np.exp(0.1 * z))
    dependent_100 = _binomial(rng, dependent_50, 0.52)
    qf_shares = _QF_SHARES * np.exp(np.clip(z, -0.4, 1.0)[..., None] * _QF_DEPRIVATION_TILT)
    qf = _multinomial(rng, foyers, qf_shares)
    return {"allocataires_reference": reference, "personnes_reference": persons_reference,
            "allocataires_bas_revenus": low, "personnes_bas_revenus": low_persons,
            "allocataires_dependants_50": dependent_50, "allocataires_dependants_100": dependent_100,
            **dict(zip(_QF_BANDS, qf))}


def _benefits(rng, v: dict, size, z, overseas, years) -> dict:
    """Foyers by benefit."""
    foyers = v["foyers_allocataires"]
    out = {}
    rsa = _binomial(rng, foyers, _profile("rsa_share", size) * np.exp(0.75 * z)
                    * _by_year(_TREND, "rsa", years))
    lone = sum(v[f"monoparents_{s}"] for s in ("1_enfant", "2_enfants", "3_enfants", "4_enfants_plus"))
    out["foyers_rsa_majore"] = np.minimum(_binomial(rng, rsa, 0.13), lone)
    out["foyers_rsa_non_majore"] = rsa - out["foyers_rsa_majore"]
    out["foyers_rsa"] = rsa
    out["foyers_ppa"] = _binomial(rng, foyers, _profile("ppa_share", size) * np.exp(0.15 * z)
                                  * _by_year(_TREND, "ppa", years))
    housing = _binomial(rng, foyers, _profile("housing_share", size) * np.exp(0.3 * z)
                        * _by_year(_TREND, "housing", years))
    urban = np.clip((size - 2.5) / 2.7, 0, 1)
    housing_mix = np.stack(np.broadcast_arrays(0.30 + 0.25 * urban, 0.27 - 0.12 * urban,
                                               0.33 + 0.02 * urban), axis=-1)
    out["foyers_apl"], out["foyers_alf"], out["foyers_als"] = _multinomial(rng, housing, housing_mix)
    out["foyers_aides_logement"] = housing
    out.update(_family_benefits(rng, v, z, overseas, years))
    out["foyers_aah"] = _binomial(rng, foyers, 0.052 * np.exp(0.3 * z) * _by_year(_TREND, "aah", years))
    return out


def _family_benefits(rng, v: dict, z, overseas, years) -> dict:
    """AF, CF, ASF, ARS, PAJE and AEEH, drawn from the families they are paid to."""
    with_children = sum(_families_with(v, k) for k in (1, 2, 3, 4))
    lone = sum(v[f"monoparents_{s}"] for s in ("1_enfant", "2_enfants", "3_enfants", "4_enfants_plus"))
    af = {k: _binomial(rng, _families_with(v, k), 0.975) for k in (2, 3, 4)}
    # Overseas, AF is paid from the first child.
    af[1] = _binomial(rng, _families_with(v, 1), np.where(overseas, 0.85, 0.0))
    out = {f"_af_{k}": n for k, n in af.items()}
    out["foyers_af"] = sum(af.values())
    large = _families_with(v, 3) + _families_with(v, 4)
    out["foyers_cf"] = _binomial(rng, large, 0.38 * np.exp(0.3 * z))
    out["foyers_asf"] = _binomial(rng, lone, 0.30 * np.exp(0.3 * z))
    out["foyers_ars"] = _binomial(rng, with_children, 0.36 * np.exp(0.4 * z))
    out["foyers_aeeh"] = _binomial(rng, with_children, 0.02)
    births = _by_year(_TREND, "births", years)
    young = _binomial(rng, v["enfants_0_2"], 0.79 * births)
    older = _binomial(rng, v["enfants_3_5"], 0.25 * np.exp(-0.3 * z))
    out["foyers_paje"] = young + older
    out["foyers_paje_base"] = _binomial(rng, young, 0.80 * np.exp(0.1 * z))
    out["foyers_cmg"] = _binomial(rng, young, 0.30 * np.exp(-0.3 * z)) + older
    out["foyers_prepare"] = _binomial(rng, young, 0.07)
    return out


def _gamma_sum(rng, n: np.ndarray, mean: float, price: np.ndarray) -> np.ndarray:
    """Total of ``n`` independent foyer amounts; exactly 0 when ``n`` is 0."""
    return rng.gamma(_AMOUNT_SHAPE * n, mean * price / _AMOUNT_SHAPE)


def _amounts(rng, v: dict, years) -> dict:
    """December amounts in euros, rounded to the euro."""
    def price(name):
        return _by_year(_PRICE, name, years)

    m = _MEAN_AMOUNT
    amounts = {
        "montant_rsa": _gamma_sum(rng, v["foyers_rsa_non_majore"], m["rsa_non_majore"], price("rsa"))
        + _gamma_sum(rng, v["foyers_rsa_majore"], m["rsa_majore"], price("rsa")),
        "montant_ppa": _gamma_sum(rng, v["foyers_ppa"], m["ppa"], price("ppa")),
        "montant_aides_logement": sum(_gamma_sum(rng, v[f"foyers_{b}"], m[b], price("housing"))
                                      for b in ("apl", "alf", "als")),
        "montant_af": sum(_gamma_sum(rng, v[f"_af_{k}"], m[f"af_{k}"], price("af")) for k in (1, 2, 3, 4)),
        "montant_paje": _gamma_sum(rng, v["foyers_paje"], m["paje"], price("paje")),
        "montant_aah": _gamma_sum(rng, v["foyers_aah"], m["aah"], price("aah")),
    }
    return {k: np.round(a) for k, a in amounts.items()}


# --- output ------------------------------------------------------------------------

def _wide_frame(units: _Units, years: tuple[int, ...], values: dict) -> pd.DataFrame:
    """Unit rows plus the commune sums of IRIS, one column per base measure."""
    measures = [m for m in base_measures() if m != "population_municipale"]
    table = pd.DataFrame({m: values[m].reshape(-1).astype("float64") for m in measures})
    table.insert(0, "zone_level", np.repeat(units.level, len(years)))
    table.insert(1, "zone_code", np.repeat(units.code, len(years)))
    table.insert(2, "year", np.tile(np.asarray(years, dtype=np.int64), len(units)))
    commune = np.repeat(units.commune, len(years))
    iris = (table["zone_level"] == "iris").to_numpy()
    summed = table[iris].groupby([commune[iris], table["year"][iris]], sort=True)[measures].sum()
    summed = summed.rename_axis(["zone_code", "year"]).reset_index()
    summed.insert(0, "zone_level", "commune")
    table = pd.concat([table[iris], table[~iris], summed], ignore_index=True)
    order = np.lexsort((table["year"].to_numpy(), table["zone_code"].to_numpy(dtype=str),
                        table["zone_level"].to_numpy(dtype=str) == "commune"))
    return table.iloc[order].set_index(["zone_level", "zone_code", "year"])
