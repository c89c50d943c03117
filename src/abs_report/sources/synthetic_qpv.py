"""Demonstration data of the quartiers prioritaires: QPV ∩ IRIS pieces and their sums (issue 15).

A QPV is not a union of IRIS, so the demonstration data models the pieces:
each IRIS that meets a QPV (the packaged ``Geometry.qpv_iris`` table, computed
once from the perimeters by ``scripts/build_geometry.py``) is split into its
QPV parts (``<iris>:<qpv>``) and its part outside every QPV (``<iris>:HQPV``).
The IRIS and commune rows the main generator drew are left exactly as they
are: a piece only *divides* them, so

* every IRIS equals the sum of its pieces, measure by measure;
* a QPV is the sum of its pieces, ``hors_qpv`` of a commune is the commune
  minus its QPV pieces, ``qpv_departement`` the sum of the département's QPV;
* within every piece the catalogue's relations (partitions, subsets) and the
  generator's own identities (persons = foyers + spouses + children + others,
  children against family sizes, amounts 0 exactly when no foyer) hold.

How a split is drawn
--------------------
Pieces are split off one at a time (QPV in code order, the outside part is
what is left). The piece's share of the IRIS's foyers follows its share of the
IRIS's area, weighted by ``DENSITY`` (social housing is denser than the rest of
an IRIS). Every other count is then drawn *given* the counts already split,
with a log-odds ``TILT`` that makes the QPV side more precarious, and clipped
to the range that keeps both sides consistent (a subset stays under its
superset on both sides). The tilts are calibrated on the orders of magnitude
of Insee Focus n° 348 (February 2025, CAF December 2023, QPV vs all of France
excluding Mayotte): RSA 24.8 % of foyers allocataires vs 13.2 %, housing
benefit 63 % vs 42 %, lone parents 21 % vs 16 %, AAH 12 % vs 9.5 %, prime
d'activité 34 % vs 33 %, families of four children or more 6 % vs 3 %; and on
the poverty rate, 44 % in QPV vs 14.5 % (ONPV, Insee 2021). The IRIS figures
cap what a tilt can do: a QPV covering 90 % of an IRIS cannot be much poorer
than that IRIS (see ``docs/DATA.md`` for the resulting figures).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import RELATIONS
from ..geography import OUTSIDE_QPV, PIECE_LEVEL, Geography

DENSITY = 2.5
"""Foyers per hectare in a QPV relative to the rest of its IRIS."""
QPV_STREAM = 15
"""Second word of the seed of the QPV draws: the main stream (IRIS, communes) is not touched."""

_FAMILY = next(r.parts for r in RELATIONS if r.id == "composition_familiale")
_QF = next(r.parts for r in RELATIONS if r.id == "quotient_familial")
_CHILDREN = next(r.parts for r in RELATIONS if r.id == "enfants_par_age")
_HOUSING = next(r.parts for r in RELATIONS if r.id == "aides_logement")
_MONO = tuple(m for m in _FAMILY if m.startswith("monoparents"))
_COUPLES = tuple(m for m in _FAMILY if m.startswith("couples"))
_WITH_CHILDREN = tuple(m for m in _FAMILY if "enfant" in m and "sans" not in m)
_KIDS = {m: 4 if m.endswith("plus") else int(m.split("_")[1]) for m in _WITH_CHILDREN}

TILT = {
    # partitions: one log-odds shift per part (QPV side)
    "family": dict(zip(_FAMILY, (0.1, 0.1, -0.1, -0.7, -0.7, 0.0, 0.6, 1.0, 1.1, 1.2, 1.3))),
    "qf": dict(zip(_QF, (1.3, 0.6, 0.0, -0.5, -1.1, -1.6, 0.0))),
    "children": dict(zip(_CHILDREN, (0.15, 0.1, 0.05, 0.0, -0.05, -0.15))),
    "housing": dict(zip(_HOUSING, (0.8, -0.3, -0.6))),
    # subsets: one shift against the superset the count is drawn from
    "allocataires_reference": 0.4, "personnes_reference": 0.4,
    "allocataires_bas_revenus": 1.6, "personnes_bas_revenus": 1.6,
    "allocataires_dependants_50": 0.5, "allocataires_dependants_100": 0.3,
    "foyers_rsa": 2.0, "foyers_rsa_majore": 0.3, "foyers_ppa": 0.1, "foyers_aides_logement": 1.2,
    "foyers_af": 0.0, "foyers_cf": 0.4, "foyers_asf": 0.3, "foyers_ars": 0.5, "foyers_aeeh": 0.0,
    "foyers_paje": 0.0, "foyers_paje_base": 0.2, "foyers_cmg": -0.9, "foyers_prepare": 0.0,
    "foyers_aah": 0.4,
}
REFERENCE_SOURCE = ("Insee Focus n° 348, février 2025 : foyers allocataires des Caf au 31 décembre 2023, "
                    "QPV et ensemble de la France hors Mayotte")
REFERENCE = (
    ("part des foyers au RSA", 24.8, 13.2),
    ("part des familles monoparentales parmi les foyers allocataires", 21.0, 16.0),
    ("part des foyers aidés pour le logement", 63.2, 41.5),
    ("part des foyers à l'AAH", 12.0, 9.5),
    ("part des foyers à la prime d'activité", 34.4, 32.9),
)
"""Published orders of magnitude the tilts were calibrated on: (indicator, % in QPV, % in France)."""


def calibration_note() -> str:
    """French sentence for a report's closing note: what the demonstration QPV figures are calibrated on."""
    from ..formatting import value

    figures = " ; ".join(f"{label} : {value(q, 'percent')} en QPV contre {value(f, 'percent')}"
                         for label, q, f in REFERENCE)
    return ("Les quartiers prioritaires des données de démonstration sont simulés plus précaires que le "
            f"reste de leur commune, sur les ordres de grandeur publiés ({REFERENCE_SOURCE} : {figures}).")


AMOUNT_BASIS = {"montant_rsa": "foyers_rsa", "montant_ppa": "foyers_ppa",
                "montant_aides_logement": "foyers_aides_logement", "montant_af": "foyers_af",
                "montant_paje": "foyers_paje", "montant_aah": "foyers_aah"}


# --- drawing one split ---------------------------------------------------------------------

def _logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _share(q, v):
    """Share ``q / v`` with 0 where ``v`` is 0."""
    return np.divide(q, v, out=np.zeros(np.shape(v)), where=np.asarray(v) > 0)


def _tilted(rng, total, share, tilt, lo, hi):
    """A binomial draw of ``total`` at ``share`` shifted by ``tilt`` in log-odds, clipped to [lo, hi].

    ``share`` 0 or 1 stays 0 or 1 (an empty or full side stays so); when the
    bounds cross (they cannot for catalogue relations) ``lo`` wins.
    """
    p = np.where(share <= 0, 0.0, np.where(share >= 1, 1.0, _sigmoid(_logit(share) + tilt)))
    draw = rng.binomial(total.astype(np.int64), np.clip(p, 0.0, 1.0))
    return np.maximum(np.minimum(draw, hi), lo)


def _subset(rng, v, q, name, sup, tilt, subs=()):
    """Split ``name`` (a subset of the sum ``sup``, a superset of the sum ``subs``) given their splits."""
    sup_v, sup_q = sum(v[s] for s in sup), sum(q[s] for s in sup)
    lo = np.maximum(0, v[name] - (sup_v - sup_q))
    hi = np.minimum(v[name], sup_q)
    if subs:
        sub_v, sub_q = sum(v[s] for s in subs), sum(q[s] for s in subs)
        lo = np.maximum(lo, sub_q)
        hi = np.minimum(hi, v[name] - (sub_v - sub_q))
    q[name] = _tilted(rng, v[name], _share(sup_q, sup_v), tilt, lo, np.maximum(hi, lo))


def _partition(rng, v, q, parts, total_q, tilts):
    """Split the parts of a total whose split is ``total_q``; the parts' splits sum to it exactly.

    The tilts are shifted by one common constant (bisection) so that the
    expected parts sum to ``total_q``; each part is then drawn in the range
    that leaves the remaining parts able to make up the rest.
    """
    values = np.stack([v[p] for p in parts]).astype(float)
    total_v = values.sum(axis=0)
    base = _logit(_share(total_q, total_v))
    tilt = np.array([tilts[p] for p in parts])[:, None]
    low, high = np.full(base.shape, -30.0), np.full(base.shape, 30.0)
    for _ in range(50):
        mid = (low + high) / 2
        expected = (values * _sigmoid(base + tilt + mid)).sum(axis=0)
        low, high = np.where(expected < total_q, mid, low), np.where(expected < total_q, high, mid)
    p = _sigmoid(base + tilt + (low + high) / 2)
    left = total_q.astype(np.int64)
    after = total_v.astype(np.int64)
    for k, part in enumerate(parts):
        after = after - v[part]
        if k == len(parts) - 1:
            q[part] = left
            break
        draw = rng.binomial(v[part].astype(np.int64), np.clip(p[k], 0.0, 1.0))
        q[part] = np.clip(draw, np.maximum(0, left - after), np.minimum(v[part], left))
        left = left - q[part]


def _split_children(rng, v, q):
    """Children: the minimum the family sizes imply, plus the extra children of families of 4+."""
    least_v = sum(k * v[m] for m, k in _KIDS.items())
    least_q = sum(k * q[m] for m, k in _KIDS.items())
    big = [m for m, k in _KIDS.items() if k == 4]
    big_v, big_q = sum(v[m] for m in big), sum(q[m] for m in big)
    extra_v = np.maximum(sum(v[b] for b in _CHILDREN) - least_v, 0)
    extra_q = np.minimum(_tilted(rng, extra_v, _share(big_q, big_v), 0.0, 0, extra_v),
                         np.where(big_q > 0, extra_v, 0))
    extra_q = np.where(big_v - big_q > 0, extra_q, extra_v)  # the other side has no large family
    _partition(rng, v, q, _CHILDREN, least_q + extra_q, TILT["children"])


def _split_amounts(v, q):
    """Amounts in proportion to the foyers paid, whole euros, 0 exactly where no foyer is paid."""
    for amount, count in AMOUNT_BASIS.items():
        share = _share(q[count], v[count])
        part = np.rint(v[amount] * share)
        both = (q[count] > 0) & (q[count] < v[count])
        part = np.where(both, np.clip(part, 1, np.maximum(v[amount] - 1, 1)), part)
        q[amount] = np.where(q[count] == 0, 0, np.where(q[count] == v[count], v[amount], part))


def split(rng: np.random.Generator, v: dict, share: np.ndarray) -> dict:
    """The QPV side of a split of the rows ``v`` (measure -> integer array), ``share`` of the foyers.

    Parameters
    ----------
    rng
        The QPV stream.
    v
        Every base measure of the rows being split (IRIS, or what is left of one).
    share
        Expected share of the foyers that fall on the QPV side.

    Returns
    -------
    dict
        The QPV side, measure by measure; the other side is ``v - q``.
    """
    q = {"foyers_allocataires": rng.binomial(v["foyers_allocataires"], np.clip(share, 0.0, 1.0))}
    _partition(rng, v, q, _FAMILY, q["foyers_allocataires"], TILT["family"])
    _partition(rng, v, q, _QF, q["foyers_allocataires"], TILT["qf"])
    _split_children(rng, v, q)
    couples = _COUPLES
    others_v = np.maximum(v["personnes_couvertes"] - v["foyers_allocataires"] - sum(v[c] for c in couples)
                          - sum(v[b] for b in _CHILDREN), 0)
    others_q = _tilted(rng, others_v, _share(q["foyers_allocataires"], v["foyers_allocataires"]), 0.0, 0,
                       others_v)
    q["personnes_couvertes"] = (q["foyers_allocataires"] + sum(q[c] for c in couples)
                                + sum(q[b] for b in _CHILDREN) + others_q)
    _subset(rng, v, q, "allocataires_reference", ["foyers_allocataires"], TILT["allocataires_reference"])
    _subset(rng, v, q, "personnes_reference", ["personnes_couvertes"], TILT["personnes_reference"],
            subs=["allocataires_reference"])
    _subset(rng, v, q, "allocataires_bas_revenus", ["allocataires_reference"],
            TILT["allocataires_bas_revenus"])
    _subset(rng, v, q, "personnes_bas_revenus", ["personnes_reference"], TILT["personnes_bas_revenus"],
            subs=["allocataires_bas_revenus"])
    _subset(rng, v, q, "allocataires_dependants_50", ["allocataires_bas_revenus"],
            TILT["allocataires_dependants_50"])
    _subset(rng, v, q, "allocataires_dependants_100", ["allocataires_dependants_50"],
            TILT["allocataires_dependants_100"])
    _subset(rng, v, q, "foyers_rsa", ["foyers_allocataires"], TILT["foyers_rsa"])
    _subset(rng, v, q, "foyers_rsa_majore", ["foyers_rsa"], TILT["foyers_rsa_majore"])
    # The majored RSA is paid to lone parents: keep it under them on both sides, then put
    # the RSA split where both sides keep majored <= RSA <= foyers (always possible, since
    # the whole row satisfies them); clipping the majored RSA against the drawn RSA split
    # instead could break the lone-parent bound.
    lone_v, lone_q = sum(v[m] for m in _MONO), sum(q[m] for m in _MONO)
    major_v, rsa_v, foyers_v = v["foyers_rsa_majore"], v["foyers_rsa"], v["foyers_allocataires"]
    q["foyers_rsa_majore"] = np.clip(q["foyers_rsa_majore"], np.maximum(0, major_v - (lone_v - lone_q)),
                                     np.minimum(major_v, lone_q))
    major_q, foyers_q = q["foyers_rsa_majore"], q["foyers_allocataires"]
    q["foyers_rsa"] = np.clip(q["foyers_rsa"], np.maximum(major_q, rsa_v - (foyers_v - foyers_q)),
                              np.minimum(rsa_v - major_v + major_q, foyers_q))
    q["foyers_rsa_non_majore"] = q["foyers_rsa"] - q["foyers_rsa_majore"]
    _subset(rng, v, q, "foyers_ppa", ["foyers_allocataires"], TILT["foyers_ppa"])
    _subset(rng, v, q, "foyers_aides_logement", ["foyers_allocataires"], TILT["foyers_aides_logement"])
    _partition(rng, v, q, _HOUSING, q["foyers_aides_logement"], TILT["housing"])
    _family_benefits(rng, v, q)
    _subset(rng, v, q, "foyers_aah", ["foyers_allocataires"], TILT["foyers_aah"])
    _split_amounts(v, q)
    return q


def _family_benefits(rng, v, q):
    """AF, CF, ASF, ARS, AEEH and PAJE, each within the families (or children) it is paid for."""
    two_plus = [m for m, k in _KIDS.items() if k >= 2]
    _subset(rng, v, q, "foyers_af", two_plus if (v["foyers_af"] <= sum(v[m] for m in two_plus)).all()
            else list(_WITH_CHILDREN), TILT["foyers_af"])
    _subset(rng, v, q, "foyers_cf", [m for m, k in _KIDS.items() if k >= 3], TILT["foyers_cf"])
    _subset(rng, v, q, "foyers_asf", list(_MONO), TILT["foyers_asf"])
    _subset(rng, v, q, "foyers_ars", list(_WITH_CHILDREN), TILT["foyers_ars"])
    _subset(rng, v, q, "foyers_aeeh", list(_WITH_CHILDREN), TILT["foyers_aeeh"])
    _subset(rng, v, q, "foyers_paje", ["enfants_0_2", "enfants_3_5"], TILT["foyers_paje"])
    for name in ("foyers_paje_base", "foyers_cmg", "foyers_prepare"):
        _subset(rng, v, q, name, ["foyers_paje"], TILT[name])


# --- pieces and their sums -----------------------------------------------------------------

def _pieces(geography: Geography, table: pd.DataFrame) -> pd.DataFrame:
    """The QPV ∩ IRIS pieces whose QPV lies wholly in communes the table has rows for.

    Columns ``qpv, iris, unit_level, unit_code, commune, share``: ``unit`` is the
    row split (the IRIS, or the commune when it is not split into IRIS: code
    ``<commune>0000``); ``share`` is the expected share of the IRIS's foyers.
    """
    from ..geometry import load_geometry

    pieces = load_geometry().qpv_iris.sort_values(["iris", "qpv"], kind="stable").reset_index(drop=True)
    units = set(table.index.droplevel("year"))
    whole = pieces["iris"].str.endswith("0000")
    pieces["unit_level"] = np.where(whole, "commune", "iris")
    pieces["unit_code"] = np.where(whole, pieces["iris"].str[:5], pieces["iris"])
    pieces["commune"] = pieces["iris"].str[:5]
    present = [(lv, c) in units for lv, c in zip(pieces["unit_level"], pieces["unit_code"])]
    communes_ok = {q for q, cs in geography.qpv_table["communes"].items()
                   if all(("commune", c) in units for c in cs)}
    pieces = pieces[np.array(present, bool) & pieces["qpv"].isin(communes_ok)].reset_index(drop=True)
    weight = pieces["share_of_iris"].to_numpy() * DENSITY
    rest = np.maximum(1.0 - pieces.groupby("iris")["share_of_iris"].transform("sum").to_numpy(), 0.02)
    total = pd.Series(weight).groupby(pieces["iris"].to_numpy()).transform("sum").to_numpy() + rest
    pieces["share"] = weight / total
    return pieces


def qpv_rows(table: pd.DataFrame, geography: Geography, seed: int) -> pd.DataFrame:
    """Wide rows of the pieces, QPV, communes hors QPV and départements' QPV.

    Parameters
    ----------
    table
        The generator's wide rows (IRIS and communes), indexed by
        ``(zone_level, zone_code, year)``; it is not modified.
    geography
        The COG with its QPV table.
    seed
        The dataset's seed; the QPV draws use their own stream ``(seed, 15)``.

    Returns
    -------
    pandas.DataFrame
        Same columns and index names as ``table``; empty when no QPV lies in
        the communes of ``table``.
    """
    pieces = _pieces(geography, table)
    if pieces.empty:
        return table.iloc[:0]
    rng = np.random.default_rng([int(seed), QPV_STREAM])
    measures = list(table.columns)
    years = sorted(table.index.get_level_values("year").unique())
    units = pieces.drop_duplicates("iris")  # in IRIS order, like the groupby below
    keys = pd.MultiIndex.from_tuples([(lv, code, y) for lv, code in zip(units["unit_level"], units["unit_code"])
                                      for y in years], names=table.index.names)
    # One look-up for every IRIS split (a .loc per IRIS costs a second over all France).
    block = table.reindex(keys)[measures].to_numpy().astype(np.int64).reshape(len(units), len(years), -1)
    codes, values = [], []
    for k, (iris, of_iris) in enumerate(pieces.groupby("iris", sort=True)):
        for code, parts in _split_iris(rng, block[k], of_iris, iris, measures):
            codes.append(code)
            values.append(np.column_stack([parts[m] for m in measures]))
    index = pd.MultiIndex.from_arrays([np.full(len(codes) * len(years), PIECE_LEVEL, dtype=object),
                                       np.repeat(np.array(codes, dtype=object), len(years)),
                                       np.tile(np.asarray(years, dtype=np.int64), len(codes))],
                                      names=table.index.names)
    piece_rows = pd.DataFrame(np.concatenate(values).astype("float64"), index=index, columns=measures)
    return pd.concat([piece_rows, *_sums(table, piece_rows, pieces, geography)])


def _split_iris(rng, rows: np.ndarray, pieces: pd.DataFrame, iris: str, measures: list[str]) -> list:
    """``(code, measure -> values by year)`` for each QPV meeting the IRIS, then ``<iris>:HQPV``."""
    left = {m: rows[:, j] for j, m in enumerate(measures)}
    out, left_share = [], 1.0
    for piece in pieces.itertuples():
        share = min(piece.share / left_share, 1.0) if left_share > 0 else 0.0
        q = split(rng, left, np.full(len(rows), share))
        out.append((f"{iris}:{piece.qpv}", q))
        left = {m: left[m] - q[m] for m in measures}
        left_share -= piece.share
    out.append((f"{iris}:{OUTSIDE_QPV}", left))
    return out


def _sums(table, piece_rows, pieces, geography):
    """QPV = their pieces; hors QPV = commune minus its QPV pieces; département = its QPV."""
    flat = piece_rows.reset_index()
    qpv_of = flat["zone_code"].str.split(":").str[1]
    commune_of = flat["zone_code"].str[:5]
    inside = flat[qpv_of != OUTSIDE_QPV]
    measures = list(table.columns)
    qpv = inside.groupby([qpv_of[inside.index], inside["year"]])[measures].sum()
    in_qpv_by_commune = inside.groupby([commune_of[inside.index], inside["year"]])[measures].sum()
    with_qpv = sorted({c for q in set(pieces["qpv"]) for c in geography.qpv_table.at[q, "communes"]})
    communes = table.xs("commune", level="zone_level").loc[with_qpv, measures]
    hors = communes - in_qpv_by_commune.reindex(communes.index, fill_value=0)
    deps = geography.qpv_table["departement"]
    dep = qpv.groupby([deps.reindex(qpv.index.get_level_values(0)).to_numpy(),
                       qpv.index.get_level_values(1)]).sum()
    out = []
    for level, frame in (("qpv", qpv), ("hors_qpv", hors), ("qpv_departement", dep)):
        frame.index = pd.MultiIndex.from_tuples([(level, c, y) for c, y in frame.index], names=table.index.names)
        out.append(frame)
    return out
