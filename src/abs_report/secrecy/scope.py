"""Which zones form the linked table of one batch."""

from __future__ import annotations

from collections.abc import Sequence

from ..geography import FRANCE_CODE, Geography, Zone


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
    return sorted(zones)
