"""Which zones form the linked table of one batch."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..geography import FRANCE_CODE, PIECE_LEVEL, Geography, Zone
from . import qpv as qp


def scope_zones(geography: Geography, departement: str,
                aggregations: Sequence[Zone] = ()) -> list[tuple[str, str]]:
    """Every zone whose figures are linked to a département batch.

    The communes of the département, every EPCI with a member in it together
    with all of that EPCI's members (an EPCI may straddle départements, and the
    members outside still enter its sum), the département, its région, France,
    and each aggregation with its member communes. The IRIS of the in-scope
    communes are added by :func:`abs_report.secrecy.protect` from the
    observations, since the COG does not list IRIS.

    Returns
    -------
    list of (zone_level, zone_code), sorted and without duplicates.
    """
    communes = set(geography.member_communes_of("departement", departement))
    epcis = geography.epcis_of_departement(departement)
    for epci in epcis:
        communes.update(geography.member_communes_of("epci", epci))
    for agg in aggregations:
        communes.update(agg.members)
    region = str(geography.departements.at[departement, "region"])
    zones = {("commune", c) for c in communes}
    zones.update(("epci", e) for e in epcis)
    zones.update(("aggregation", a.code) for a in aggregations)
    zones.update({("departement", departement), ("region", region), ("france", FRANCE_CODE)})
    zones.update(_qpv_zones(geography, departement))
    return sorted(zones)


# --- one mask per dataset and year: which part of it decides each cell ----------------------------
#
# The linked table of a dataset and year is all of France. It is protected in parts that never
# decide the same cell twice, so that every report, in any batch and any order, shows a cell
# the same way (docs/SECRECY.md, « Un statut par cellule ») :
#
# * ``wide``: régions and France, one small national table;
# * ``departement:<code>``: the département, its communes (and their IRIS) and the EPCI
#   that lie wholly in it, its QPV, communes hors QPV and « ensemble des QPV » (and the
#   QPV ∩ IRIS pieces), with its région's and France's cells fixed (a département's
#   cells stay partners of its communes: fixed, they left cells no partner could protect);
# * ``epci:<code>``: an EPCI that straddles départements, its member communes fixed by their
#   départements' parts. Its cell of a measure is hidden whenever a member's is, so that what
#   it publishes is a sum of published member cells: it tells nothing the members' reports do
#   not, and the départements' parts, which share no other cell, stand apart.

WIDE = "wide"
WIDE_LEVELS = ("region", "france")


@functools.lru_cache(maxsize=4)
def straddling_epcis(geography: Geography) -> frozenset[str]:
    """EPCI whose member communes lie in more than one département (once per geography loaded).

    Every report asks, for each of its years: a batch's hundreds of reports share the answer.
    """
    communes = geography.communes[geography.communes["epci"].astype(bool)]
    deps = communes.groupby("epci")["departement"].nunique()
    return frozenset(deps.index[deps > 1])


def part_of(geography: Geography, level: str, code: str, straddling: frozenset[str] | None = None) -> str:
    """The part of the mask that decides the cells of one zone (see above).

    An IRIS follows its commune; an aggregation has no part (its cells are
    decided per report, on top of the parts of its members).
    """
    straddling = straddling_epcis(geography) if straddling is None else straddling
    if level in WIDE_LEVELS:
        return WIDE
    if level == "departement":
        return f"departement:{code}"
    if level == "epci":
        return f"epci:{code}" if code in straddling else f"departement:{_departement_of_epci(geography, code)}"
    if level in ("commune", "iris", qp.HORS_QPV, PIECE_LEVEL):
        commune = code[:5] if level in ("iris", PIECE_LEVEL) else code
        return f"departement:{geography.communes.at[commune, 'departement']}"
    if level == qp.QPV_DEPARTEMENT:
        return f"departement:{code}"
    if level == qp.QPV:
        dep = qp.departement_of_qpv(geography, code)
        if dep is not None:
            return f"departement:{dep}"
    raise ValueError(f"no mask part for {level} {code}")


def _departement_of_epci(geography: Geography, epci: str) -> str:
    return str(geography.communes.loc[geography.communes["epci"] == epci, "departement"].iloc[0])


def _departements_of_epci(geography: Geography, epci: str) -> list[str]:
    return sorted(set(geography.communes.loc[geography.communes["epci"] == epci, "departement"]))


def part_zones(geography: Geography, part: str) -> list[tuple[str, str]]:
    """The zones of one part's table: the cells it decides and the fixed cells its relations need.

    IRIS are added from the observations by :func:`abs_report.secrecy.protect`.
    """
    if part == WIDE:
        zones = {("region", r) for r in geography.regions.index}
        zones.add(("france", FRANCE_CODE))
        return sorted(zones)
    kind, code = part.split(":", 1)
    if kind == "epci":
        # The members' whole départements, fixed: whether a cell of the EPCI is computable
        # from what they publish depends on every fact linking the members.
        zones = {("epci", code)}
        for dep in _departements_of_epci(geography, code):
            zones.update(part_zones(geography, f"departement:{dep}"))
        return sorted(zones)
    straddling = straddling_epcis(geography)
    zones = {("commune", c) for c in geography.member_communes_of("departement", code)}
    zones |= {("epci", e) for e in geography.epcis_of_departement(code) if e not in straddling}
    region = str(geography.departements.at[code, "region"])
    zones |= {("departement", code), ("region", region), ("france", FRANCE_CODE)}
    zones |= _qpv_zones(geography, code)
    return sorted(zones)


def _qpv_zones(geography: Geography, departement: str) -> set[tuple[str, str]]:
    """The département's QPV, its communes' parts outside them and their sum.

    Their pieces (QPV ∩ IRIS) are added by :func:`abs_report.secrecy.protect`
    like IRIS. A QPV of two départements (none in Isère) is decided with the
    first one's communes; its pieces in the other are then out of the table and
    the fact ``QPV = its pieces`` becomes ``QPV >= its pieces here``.
    """
    table = getattr(geography, "qpv_table", None)
    if table is None or not len(table):
        return set()
    qpvs = geography.qpv_of_departement(departement)
    with_qpv = {c for communes in table["communes"] for c in communes}
    mine = with_qpv & set(geography.member_communes_of("departement", departement))
    zones = {(qp.QPV, q) for q in qpvs} | {(qp.HORS_QPV, c) for c in mine}
    if qpvs:
        zones.add((qp.QPV_DEPARTEMENT, departement))
    return zones


def parts_fixed_before(geography: Geography, part: str) -> list[str]:
    """The parts whose cells ``part`` reads as fixed: none for ``wide``; ``wide`` for a
    département; the départements of its members for a straddling EPCI."""
    if part == WIDE:
        return []
    kind, code = part.split(":", 1)
    if kind == "departement":
        return [WIDE]
    return [f"departement:{d}" for d in _departements_of_epci(geography, code)]
