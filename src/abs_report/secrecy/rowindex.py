"""Where each zone's rows are in an observations table: indexed once per table and process.

A batch worker reads every part of the mask for every year of its reports (five years,
a few parts each) from one dataset, and a part's cache key hashes the part's own rows.
Finding them by scanning the whole table each time cost more than reading the mask;
looking them up in an index built once costs a few milliseconds.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class RowIndex:
    """Row positions of one observations table.

    Attributes
    ----------
    zones
        ``(year, zone_level, zone_code)`` -> positions of that zone's rows.
    infra
        ``(year, zone_level, commune)`` -> positions of the rows of a level below the
        commune (IRIS, QPV ∩ IRIS pieces) whose code starts with the commune's.
    checked
        Rules whose floor (:func:`abs_report.secrecy.table.check_floor`) the table passed.
    """

    zones: dict[tuple, np.ndarray]
    infra: dict[tuple, np.ndarray]
    checked: set = field(default_factory=set)

    def positions(self, year: int, zones: Iterable[tuple[str, str]], infra_levels: Iterable[str],
                  communes: Iterable[str]) -> np.ndarray:
        """Sorted positions of ``zones``' rows of ``year`` and of the infra rows of ``communes``."""
        found = [self.zones.get((year, level, code)) for level, code in zones]
        found += [self.infra.get((year, level, commune)) for level in infra_levels for commune in communes]
        found = [f for f in found if f is not None]
        return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.intp)


_indexes: dict[tuple, tuple[weakref.ref, int, RowIndex]] = {}


def index_of(observations: pd.DataFrame, infra_levels: tuple[str, ...]) -> RowIndex:
    """The index of ``observations`` (built on first use, dropped with the table).

    Keyed by the table's identity, checked by a weak reference and its length, so a
    new table at a recycled address is indexed anew. The tables indexed are datasets
    as loaded, which nothing modifies afterwards.
    """
    key = (id(observations), tuple(infra_levels))
    entry = _indexes.get(key)
    if entry is not None and entry[0]() is observations and entry[1] == len(observations):
        return entry[2]
    index = _build(observations, infra_levels)
    _indexes[key] = (weakref.ref(observations, lambda _, k=key: _indexes.pop(k, None)), len(observations), index)
    return index


def _build(observations: pd.DataFrame, infra_levels: tuple[str, ...]) -> RowIndex:
    keys = [observations["year"], observations["zone_level"].astype(str), observations["zone_code"].astype(str)]
    zones = pd.Series(0, index=observations.index).groupby(keys, sort=False, observed=True).indices
    at = np.flatnonzero(observations["zone_level"].isin(list(infra_levels)).to_numpy(bool))
    sub = observations.iloc[at]
    groups = pd.Series(at, index=sub.index).groupby(
        [sub["year"], sub["zone_level"].astype(str), sub["zone_code"].astype(str).str[:5]], sort=False,
        observed=True).indices
    infra = {k: at[v] for k, v in groups.items()}
    return RowIndex({(int(y), lv, c): v for (y, lv, c), v in zones.items()},
                    {(int(y), lv, c): v for (y, lv, c), v in infra.items()})
