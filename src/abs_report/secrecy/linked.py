"""One mask per dataset and year: the parts a report reads, and their union.

Every cell of the national linked table is decided by exactly one part
(:func:`abs_report.secrecy.scope.part_of`): the national table of départements,
régions and France; each EPCI that straddles départements; each département's
other communes and EPCI. A part reads the cells decided before it as fixed, so a
cell shared by two reports (a straddling EPCI, a région, France) has the status
its one part gave it, whatever report, batch or order asked first. Parts are
cached by :func:`abs_report.secrecy.load_or_protect` under the hash of their inputs
(and of the parts they fix), so a report computes only the parts it reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..geography import Geography, Zone
from .mask import Protection, UnprotectedCells, cached_hash, load_or_protect
from .rules import Rules
from .scope import WIDE, part_of, part_zones, parts_fixed_before, straddling_epcis
from .table import CELL_KEY


def parts_for(geography: Geography, zones: Sequence[Zone]) -> list[str]:
    """The parts that decide the cells of ``zones`` (an aggregation: those of its members)."""
    straddling = straddling_epcis(geography)
    parts = set()
    for zone in zones:
        keys = [("commune", c) for c in zone.members] if zone.level == "aggregation" else [zone.key]
        parts.update(part_of(geography, level, code, straddling) for level, code in keys)
    return sorted(parts)


def closure(geography: Geography, parts: Sequence[str]) -> list[str]:
    """``parts`` and every part they read as fixed, in the order they must be computed."""
    order: list[str] = []

    def visit(part: str) -> None:
        if part in order:
            return
        for before in parts_fixed_before(geography, part):
            visit(before)
        order.append(part)

    for part in sorted(parts, key=lambda p: (p != WIDE, p)):
        visit(part)
    return order


def departements_needed(geography: Geography, zones: Sequence[Zone]) -> list[str]:
    """Départements whose communes the parts of ``zones`` read (to load no more data than that)."""
    communes = {c for z in zones if z.level == "aggregation" for c in z.members}
    communes |= {z.code for z in zones if z.level == "commune"}
    for part in closure(geography, parts_for(geography, zones)):
        if part != WIDE:
            communes.update(code for level, code in part_zones(geography, part) if level == "commune")
    return sorted(set(geography.communes.loc[sorted(communes), "departement"]))


def protect_zones(dataset_key: str, observations: pd.DataFrame, year: int, zones: Sequence[Zone],
                  geography: Geography, rules: Rules, cache_dir: Path,
                  memo: dict | None = None) -> Protection:
    """The protected cells of every part ``zones`` read, as one :class:`Protection`.

    Aggregations (groups of communes a user names) are decided last, for this
    report only: their members' cells are fixed, so an aggregation can hide
    only its own cells and never changes what another report shows.

    Parameters
    ----------
    memo
        Parts already read in this process, keyed by (year, part), and their unions:
        a batch passes one so that its hundreds of reports read each part once.
    """
    memo = {} if memo is None else memo

    def part(name: str) -> Protection:
        if (year, name) not in memo:
            try:
                fixed = [part(before) for before in parts_fixed_before(geography, name)]
                memo[(year, name)] = load_or_protect(dataset_key, observations, year,
                                                     part_zones(geography, name), geography, rules,
                                                     cache_dir, fixed=fixed)
            except UnprotectedCells as exc:  # remembered: a batch must not retry it per report
                memo[(year, name)] = exc
        if isinstance(memo[(year, name)], UnprotectedCells):
            raise memo[(year, name)]
        return memo[(year, name)]

    names = tuple(closure(geography, parts_for(geography, zones)))
    aggregations = [z for z in zones if z.level == "aggregation"]
    # The union too is read once per process: a batch's reports share a few combinations of parts.
    key = ("union", year, names, tuple((a.code, a.members) for a in aggregations))
    if key not in memo:
        protections = [part(name) for name in names]
        if aggregations:
            members = sorted({("commune", c) for a in aggregations for c in a.members})
            protections.append(load_or_protect(dataset_key, observations, year, members, geography, rules,
                                               cache_dir, aggregations, fixed=list(protections)))
        memo[key] = union(protections)
    return memo[key]


def is_cached(dataset_key: str, observations: pd.DataFrame, year: int, zones: Sequence[Zone],
              geography: Geography, rules: Rules, cache_dir: Path) -> bool:
    """Whether every part ``zones`` read for ``year`` is in the mask cache (metadata read only).

    A batch asks it for each year before its workers start: only the years it says
    no to are protected there. Aggregations are decided per report: never "cached".
    """
    if any(z.level == "aggregation" for z in zones):
        return False
    hashes: dict[str, str] = {}
    for name in closure(geography, parts_for(geography, zones)):
        fixed = [hashes[before] for before in parts_fixed_before(geography, name)]
        found = cached_hash(dataset_key, observations, year, part_zones(geography, name), rules, cache_dir,
                            fixed)
        if found is None:
            return False
        hashes[name] = found
    return True


def union(protections: Sequence[Protection]) -> Protection:
    """The cells of several parts (a cell two parts hold has one status: the deciding part's)."""
    cells = pd.concat([p.cells for p in protections], ignore_index=True)
    cells = cells.drop_duplicates(CELL_KEY).sort_values(CELL_KEY, kind="stable").reset_index(drop=True)
    passes: dict[str, int] = {}
    for p in protections:
        for name, count in p.passes.items():
            if name != "fixed":
                passes[name] = passes.get(name, 0) + int(count)
    digest = hashlib.sha256("\n".join(sorted(p.mask_hash for p in protections)).encode()).hexdigest()
    return Protection(cells, passes, protections[0].rules_version, digest)
