"""An aggregation of communes for a territory too small to publish: which communes, and its parameter file.

The size rule
-------------
A group of communes is of *publishable size* when the foyers allocataires
of its communes, each counted as the lower bound of its published band of
:data:`BAND` (``0-49`` counts 0, ``250-299`` counts 250), add up to at least
:data:`MIN_FOYERS`. A commune whose count is hidden (``s``) or missing counts 0.

The proposal therefore reads published figures only, never a hidden count:
changing a hidden cell, within its band or not, cannot change it (the mask,
which is public through the statuses of ``published.csv``, is all it sees of a
hidden cell). Because band lower bounds never exceed the true counts, a group
that reaches the rule has at least :data:`MIN_FOYERS` foyers allocataires.

The group
---------
The smallest group of communes of the same EPCI that contains the commune, is
contiguous (communes sharing a border in the packaged contours; outside the
territory the contours cover, every commune of the EPCI counts as a
neighbour) and reaches the size rule. Among groups of that size, the largest
published size wins, then the first codes in order. The search grows
connected groups one commune at a time and keeps the :data:`BEAM` best of
each size, so that it stays fast in EPCI of a hundred communes (exact for
the small groups it finds in practice).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import yaml

from .context import AggregationProposal
from .errors import InputError, Problem
from .geography import Geography

MIN_FOYERS = 200
"""Foyers allocataires (band lower bounds) a group must reach."""
BAND = 50
"""Width of the bands a published count is read in."""
BEAM = 2000
"""Groups of each size kept while searching."""
MEASURE = "foyers_allocataires"


def banded_sizes(cells: pd.DataFrame, communes) -> dict[str, int]:
    """Each commune's published foyers allocataires as the lower bound of its band; hidden or missing: 0."""
    wanted = set(communes)
    rows = cells[(cells["zone_level"] == "commune") & (cells["measure"] == MEASURE)
                 & (cells["status"] == "published") & cells["zone_code"].isin(wanted)]
    # Only published values are read past this point: the hidden ones were filtered out above.
    sizes = {code: 0 for code in wanted}
    for code, value in zip(rows["zone_code"], rows["value"]):
        if pd.notna(value):
            sizes[str(code)] = int(value // BAND) * BAND
    return sizes


def group_size(communes, cells: pd.DataFrame) -> int:
    """The size rule's count for a group: the sum of its communes' banded published counts."""
    return sum(banded_sizes(cells, communes).values())


def adjacency(geography: Geography, communes: tuple[str, ...]) -> tuple[dict[str, set[str]], str]:
    """Neighbours of each commune among ``communes``, and how they were found (``contours`` or ``epci``).

    Two communes are neighbours when their packaged contours share at least two
    vertices (a stretch of border: the contours were simplified as a coverage,
    so shared borders keep the same vertices). Without contours for every
    commune, each commune is a neighbour of every other (EPCI membership).
    """
    found = _contour_neighbours(tuple(communes))
    if found is None:
        return {c: set(communes) - {c} for c in communes}, "epci"
    return {c: set(n) for c, n in found.items()}, "contours"


@lru_cache(maxsize=64)
def _contour_neighbours(communes: tuple[str, ...]) -> dict[str, frozenset[str]] | None:
    """Neighbours by shared contour vertices (None without contours for every commune); once per EPCI."""
    from .geometry import load_geometry

    layer = load_geometry().communes
    if not all(c in layer.index for c in communes):
        return None
    vertices = {c: {tuple(p) for ring in layer.at[c, "shape"].rings for p in ring.tolist()} for c in communes}
    owners: dict[tuple, set[str]] = {}
    for code, points in vertices.items():
        for point in points:
            owners.setdefault(point, set()).add(code)
    shared: dict[tuple[str, str], int] = {}
    for codes in owners.values():
        for a in codes:
            for b in codes:
                if a < b:
                    shared[(a, b)] = shared.get((a, b), 0) + 1
    neighbours = {c: set() for c in communes}
    for (a, b), count in shared.items():
        if count >= 2:
            neighbours[a].add(b)
            neighbours[b].add(a)
    return {c: frozenset(n) for c, n in neighbours.items()}


def smallest_group(start: str, neighbours: dict[str, set[str]], sizes: dict[str, int]) -> tuple[str, ...] | None:
    """The smallest connected group holding ``start`` that reaches :data:`MIN_FOYERS` (None if none does)."""
    def rank(group: frozenset) -> tuple:
        return (-sum(sizes[c] for c in group), tuple(sorted(group)))

    level = [frozenset([start])]
    while level:
        reached = [g for g in level if sum(sizes[c] for c in g) >= MIN_FOYERS]
        if reached:
            return tuple(sorted(min(reached, key=rank)))
        grown = {g | {n} for g in level for n in set().union(*(neighbours[c] for c in g)) - g}
        level = sorted(grown, key=rank)[:BEAM]
    return None


def propose(code: str, cells: pd.DataFrame, geography: Geography) -> AggregationProposal:
    """The aggregation proposed for commune ``code`` from the protected cells of its batch.

    Parameters
    ----------
    cells
        Protected cells (``zone_level, zone_code, measure, value, status``) of one year
        covering the commune's EPCI; only their published values are read.
    """
    epci = str(geography.communes.at[code, "epci"] or "")
    members = tuple(sorted(geography.member_communes_of("epci", epci))) if epci else (code,)
    sizes = banded_sizes(cells, members)
    neighbours, contiguity = adjacency(geography, members)
    group = smallest_group(code, neighbours, sizes)
    if group is None and contiguity == "contours":  # islands of the contours: the EPCI as a whole
        group = smallest_group(code, {c: set(members) - {c} for c in members}, sizes)
        contiguity = "epci"
    communes = group or members
    names = tuple(str(geography.communes.at[c, "name"]) for c in communes)
    name = str(geography.communes.at[code, "name"])
    return AggregationProposal(
        commune=code, communes=communes, names=names, epci=epci,
        epci_name=str(geography.epcis.at[epci, "name"]) if epci else "",
        size=sum(sizes[c] for c in communes), reaches=group is not None, contiguity=contiguity,
        code=f"AGG{code}", name=f"{name} et communes voisines", min_foyers=MIN_FOYERS, band=BAND)


# --- from a dataset, for the command ---------------------------------------------------------

def cells_for(code: str, data: str, year: int | None, geography: Geography, base: Path) -> tuple[pd.DataFrame, int]:
    """The protected cells of the batch that publishes commune ``code``'s report, and their year.

    The same mask as the commune's own report (same zones, same cache entry):
    the proposal sees exactly what that report and its neighbours' publish.
    """
    from .dataref import DataRef
    from .pipeline import protect_for

    zone = geography.zone("commune", code)
    ref = DataRef.parse(data, base)
    years = ref.years()
    year = max(years) if year is None else year
    if year not in years:
        raise InputError(Problem(data, f"année absente du jeu de données (années : "
                                       f"{', '.join(map(str, years))})", field="--year", value=year))
    scope = SimpleNamespace(territory=zone, zones=(zone, *geography.parent_chain(zone)))
    dep = str(geography.communes.at[code, "departement"])
    dataset = ref.load([dep])
    return protect_for(scope, dataset, geography, year).cells, year


def demo_cells(geography: Geography, year: int) -> pd.DataFrame:
    """Protected cells of the demonstration data's Isère batch for ``year`` (tests, examples)."""
    return cells_for("38008", "demo", year, geography, Path.cwd())[0]


def parameter_text(proposal: AggregationProposal, year: int, data: str) -> str:
    """A ready parameter file (YAML) for the proposed aggregation's report."""
    params = {
        "territory": {"level": "aggregation", "code": proposal.code, "name": proposal.name,
                      "communes": list(proposal.communes)},
        "year": year,
        "title": "Analyse des besoins sociaux",
        "recipient": "Destinataire à préciser",
        "purpose": f"Analyse des besoins sociaux du regroupement {proposal.name}",
        "formats": ["pdf", "html"],
        "data": data,
    }
    head = (f"# Regroupement proposé par abs-report suggest-aggregation {proposal.commune} :\n"
            f"# {len(proposal.communes)} commune(s) contiguë(s) de {proposal.epci_name or 'la même EPCI'},\n"
            f"# au moins {proposal.min_foyers} foyers allocataires publiés (par tranches de {proposal.band}).\n"
            "# Précisez le destinataire et l'objet de l'étude avant de produire le rapport.\n")
    return head + yaml.safe_dump(params, allow_unicode=True, sort_keys=False, default_flow_style=None)


def write_new(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to the user's ``path`` atomically; an existing file is replaced only with ``force``."""
    from .atomic import write_file

    if path.exists() and not force:
        raise InputError(Problem(str(path), "le fichier existe déjà : ajoutez --force pour le remplacer"))
    if path.exists() and not path.is_file():
        raise InputError(Problem(str(path), "n'est pas un fichier ordinaire"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, text)
