"""Embedded demonstration data: fictitious CAF counts for every commune of France.

The generator draws, with a fixed seed, December counts for every base measure
of the catalogue, for every current commune and, in communes of 10,000
inhabitants or more, for IRIS-like sub-zones. It holds the counts the way the
CAF's own analysts hold them: unrounded integers (secrecy is the report's job,
not the source's).

How it works
------------
The *unit* of simulation is a commune under 10,000 inhabitants or an IRIS of a
larger commune; commune rows of large communes are the sums of their IRIS, so
IRIS add up exactly. Every unit has a population, a size effect (log10 of the
population of its commune: cities have more foyers per inhabitant, more people
living alone, more housing benefit, fewer large families) and a deprivation
effect (département + commune + IRIS). Counts are drawn top-down with binomial
and multinomial draws, so every partition sums exactly to its total, every
subset stays below its superset, and small units naturally produce the counts
of 1 to 4 that the secrecy rules are about. Amounts are sums of per-foyer
gamma amounts (a gamma of shape ``n * k``), hence 0 when the count is 0.

Rates were tuned so that Isère and Grenoble land near the real Cnaf open-data
figures of December 2022 (see ``tests/test_synthetic.py``); the generator reads
no real data.

Quartiers prioritaires (issue 15): once IRIS and communes are drawn, each IRIS
that meets a QPV is split into QPV ∩ IRIS pieces by a second random stream
(:mod:`abs_report.sources.synthetic_qpv`), which adds rows for the pieces
(``qpv_piece``, never published), the QPV, the communes hors QPV and the
département's QPV without changing any IRIS or commune figure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .. import checked_cache as cc
from ..manifest import sha256
from .. import observations
from ..geography import Geography, load_geography
from ..observations import Dataset, DatasetMeta
from ..paths import cache_dir
from .synthetic_qpv import qpv_rows
from .synthetic_model import (IRIS_MIN_POPULATION, IRIS_TARGET_POPULATION, REAL_IRIS_DEPARTEMENT, _simulate,
                              _units, _wide_frame)

__all__ = ["DEMO_FILES", "DESCRIPTION", "GENERATOR_VERSION", "IRIS_MIN_POPULATION", "IRIS_TARGET_POPULATION",
           "REAL_IRIS_DEPARTEMENT", "SEED", "YEARS", "demo_dataset", "demo_folder", "generate", "simulate",
           "simulate_wide"]

GENERATOR_VERSION = "3"
"""Bump whenever the output changes: the cache folder is keyed by it."""
SEED = 20241231
YEARS = (2020, 2021, 2022, 2023, 2024)

DESCRIPTION = (
    "Données fictives de démonstration : effectifs d'allocataires simulés pour chaque commune "
    "de France et leurs IRIS (en Isère, les IRIS 2020 de l'Insee ; ailleurs, des IRIS simulés pour les "
    "communes de 10 000 habitants ou plus) et, en Isère, pour chaque quartier prioritaire de la politique "
    "de la ville (QPV) et la partie de sa commune hors QPV, en décembre de chaque "
    "année, calés sur les ordres de grandeur des données ouvertes de la Cnaf pour l'Isère. "
    "Ils ne décrivent aucun territoire réel."
)


# --- public interface ------------------------------------------------------------------

def generate(geography: Geography, years=YEARS, seed: int = SEED) -> Dataset:
    """Generate the demonstration dataset.

    Parameters
    ----------
    geography : Geography
        The COG; every current commune gets rows.
    years : sequence of int
        Years of reference (December of each).
    seed : int
        Seed of the random generator: the same seed gives the same dataset.

    Returns
    -------
    Dataset
        Assembled by :func:`abs_report.observations.assemble` (derived totals,
        EPCI, départements, régions and France, population).
    """
    return observations.assemble_wide(simulate_wide(geography, years, seed), _meta(seed), geography)


def simulate(geography: Geography, years=YEARS, seed: int = SEED) -> pd.DataFrame:
    """The source rows of the demonstration data, before assembly.

    Parameters
    ----------
    geography, years, seed
        As for :func:`generate`.

    Returns
    -------
    pandas.DataFrame
        Long layout (``zone_level, zone_code, year, measure, value``): every
        base measure for every commune and every IRIS and, in Isère, every
        QPV ∩ IRIS piece, QPV, commune hors QPV and the département's QPV;
        nothing derived, no wider zone.
    """
    table = simulate_wide(geography, years, seed)
    return table.reset_index().melt(id_vars=["zone_level", "zone_code", "year"],
                                    var_name="measure", value_name="value")


def simulate_wide(geography: Geography, years=YEARS, seed: int = SEED) -> pd.DataFrame:
    """The same rows as :func:`simulate`, one column per measure.

    All the randomness of the dataset lives here; the wide layout is what
    checks and calibration read fastest.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(zone_level, zone_code, year)``, IRIS rows first, then
        communes in code order, then the QPV levels (pieces, QPV, hors QPV,
        département); float counts and amounts.
    """
    years = tuple(int(y) for y in years)
    rng = np.random.default_rng(seed)
    units = _units(geography, rng)
    table = _wide_frame(units, years, _simulate(units, years, rng))
    return pd.concat([table, qpv_rows(table, geography, seed)])


DEMO_FILES = ("observations.parquet", "dataset.json")

_VERIFIED: set[tuple] = set()
"""Demo files this process has checked (path, inode, size, mtime): hashed once, not once a report."""


def demo_folder(cache: Path | None = None) -> Path:
    """The cached demonstration dataset folder, generated on first use.

    Its files are checked against the SHA-256 recorded when they were written
    (:mod:`abs_report.checked_cache`); a damaged or modified folder is discarded
    with a warning and generated again.
    """
    folder = Path(cache or cache_dir()) / f"demo-v{GENERATOR_VERSION}"
    if os.path.lexists(folder):
        try:
            _check(folder)
            return folder
        except cc.DamagedCache as exc:
            cc.warn("jeu de données de démonstration", folder, str(exc))
            cc.discard(folder)
    _write_atomically(generate(load_geography()), folder)
    return folder


def _check(folder: Path) -> None:
    """:class:`~abs_report.checked_cache.DamagedCache` unless every demo file matches its sidecar."""
    if not folder.is_dir():
        raise cc.DamagedCache("pas un dossier")
    for name in DEMO_FILES:
        path = folder / name
        try:
            stat = path.stat()
        except OSError:
            raise cc.DamagedCache(f"{name} absent") from None
        seen = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, cc.sidecar(path).stat().st_mtime_ns
                if cc.sidecar(path).exists() else None)
        if seen in _VERIFIED:
            continue
        cc.check_file(path)
        _VERIFIED.add(seen)


def demo_dataset(cache: Path | None = None, departements=None) -> Dataset:
    """The demonstration dataset, generated on first use and then read from the cache.

    Parameters
    ----------
    cache : Path, optional
        Cache root; defaults to :func:`abs_report.paths.cache_dir`. The dataset
        lives in ``<cache>/demo-v<GENERATOR_VERSION>/``.
    departements : iterable of str, optional
        Read only the communes and IRIS of these départements (see
        :func:`abs_report.observations.load`).

    Returns
    -------
    Dataset
    """
    return observations.load(demo_folder(cache), departements)


# --- cache ---------------------------------------------------------------------------

def _write_atomically(dataset: Dataset, folder: Path) -> None:
    """Save into a scratch folder beside ``folder``, then rename it into place.

    A parallel process either sees no folder or a complete one; when two
    processes race, the loser drops its copy (both are identical).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        observations.save(dataset, scratch)
        for name in DEMO_FILES:
            cc.write_sidecar(scratch / name, sha256(scratch / name))
        try:
            os.rename(scratch, folder)
        except OSError:
            if not (folder / "dataset.json").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _meta(seed: int) -> DatasetMeta:
    return DatasetMeta(
        name="demonstration", synthetic=True, producer="Caf de l'Isère", reference_producer="Cnaf",
        rounded_to=None, description=DESCRIPTION,
        generator={"name": __name__, "version": GENERATOR_VERSION, "seed": int(seed)},
    )
