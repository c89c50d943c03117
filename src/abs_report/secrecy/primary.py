"""Primary secrecy: small counts, the amounts paid to them, small infra-communal zones (IRIS, QPV,
hors QPV, QPV ∩ IRIS pieces)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalogue import MEASURES
from ..geography import PIECE_LEVEL
from .qpv import INFRA_QPV_LEVELS
from .rules import Rules

PUBLISHED = "published"
PRIMARY = "secret_primary"
SECONDARY = "secret_secondary"
THRESHOLD = "secret_threshold"
MISSING = "missing"
STATUSES = (PUBLISHED, PRIMARY, SECONDARY, THRESHOLD, MISSING)
UNPUBLISHED = "unpublished"
"""A QPV ∩ IRIS piece no rule hides: below IRIS, never published all the same (never in a
published.csv, hence not among ``STATUSES``)."""


def _is_count(measures: pd.Series) -> np.ndarray:
    return measures.map(lambda m: MEASURES[m].unit == "count" and MEASURES[m].secret).to_numpy(bool)


def small_counts(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Counts from 1 to ``threshold - 1`` (and zeros when the rules say so)."""
    value = cells["value"].to_numpy(float)
    low = -0.5 if rules.zero_is_secret else 0.0
    small = (value > low) & (value < rules.threshold)
    return small & _is_count(cells["measure"])


def infra_communal_rows(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    """IRIS cells whose zone, or whose commune's quartier table, is too small.

    An IRIS qualifies with at least ``infra_min_size`` foyers allocataires
    (unknown size does not qualify); a commune with fewer than
    ``infra_min_qualifying`` qualifying IRIS has its whole quartier table dropped.
    """
    iris = cells["zone_level"] == rules.finest_level
    if not iris.any():
        return np.zeros(len(cells), bool)
    size = cells[iris & (cells["measure"] == rules.infra_size_measure)].set_index("zone_code")["value"]
    codes = cells.loc[iris, "zone_code"].unique()
    qualifies = size.reindex(codes).fillna(-1.0) >= rules.infra_min_size
    per_commune = qualifies.groupby(qualifies.index.str[:5]).sum()
    commune_ok = per_commune >= rules.infra_min_qualifying
    keep = {code for code, ok in qualifies.items() if ok and commune_ok[code[:5]]}
    return (iris & ~cells["zone_code"].isin(keep)).to_numpy(bool)


def small_qpv_zones(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Cells of QPV, hors QPV and pieces with fewer than ``infra_min_size`` foyers allocataires.

    Like an IRIS, such a zone is hidden whole. A QPV or hors QPV of unknown size
    does not qualify; a piece of unknown size is judged on the value the
    published cells imply, if they imply one (:func:`abs_report.secrecy.protect`).
    """
    levels = cells["zone_level"]
    zones = levels.isin([*INFRA_QPV_LEVELS, PIECE_LEVEL])
    if not zones.any():
        return np.zeros(len(cells), bool)
    key = levels + "|" + cells["zone_code"]
    sized = zones & (cells["measure"] == rules.infra_size_measure)
    size = pd.Series(cells.loc[sized, "value"].to_numpy(float), index=key[sized].to_numpy())
    size = size.reindex(key[zones].unique())
    is_piece = size.index.str.startswith(PIECE_LEVEL + "|")
    small = (size < rules.infra_min_size) | (size.isna() & ~is_piece)
    return (zones & key.isin(set(size.index[small.to_numpy(bool)]))).to_numpy(bool)


def amounts_of_secret_basis(cells: pd.DataFrame, secret: np.ndarray) -> np.ndarray:
    """Amounts (euros) whose basis count is secret in the same zone."""
    key = cells["zone_level"] + "|" + cells["zone_code"]
    secret_keys = set(key[secret] + "|" + cells.loc[secret, "measure"])
    basis = cells["measure"].map(lambda m: MEASURES[m].basis)
    has_basis = basis.notna().to_numpy(bool)
    hit = np.zeros(len(cells), bool)
    hit[has_basis] = (key[has_basis] + "|" + basis[has_basis]).isin(secret_keys).to_numpy(bool)
    return hit


def primary_status(cells: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Status of every cell before secondary suppression."""
    status = np.full(len(cells), PUBLISHED, dtype=object)
    public = cells["measure"].map(lambda m: not MEASURES[m].secret).to_numpy(bool)
    small = small_counts(cells, rules) & ~public
    status[small] = PRIMARY
    status[amounts_of_secret_basis(cells, small) & ~public] = PRIMARY
    status[infra_communal_rows(cells, rules)] = THRESHOLD
    status[small_qpv_zones(cells, rules)] = THRESHOLD
    # Nothing below IRIS is published: a piece no rule hides stays hidden, unchecked.
    status[(cells["zone_level"] == PIECE_LEVEL).to_numpy(bool) & (status == PUBLISHED)] = UNPUBLISHED
    status[cells["value"].isna().to_numpy(bool)] = MISSING
    return status
