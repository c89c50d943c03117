"""Per-process caches of a batch worker: the dataset, its cut to the batch scope, the years' masks."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..dataref import DataRef
from ..geography import Geography
from ..params import ReportParams, load_params

from .plan import Job, params_file_for


CUT_FORMAT = "3"
"""Bump when :func:`_cut` changes what it keeps."""

_lock = threading.RLock()
_datasets: dict[tuple[str, str], object] = {}
_masks: dict[tuple, object] = {}


def dataset_for(data: DataRef):
    """The dataset ``data`` names, loaded once per process."""
    with _lock:
        if data.cache_key not in _datasets:
            _datasets[data.cache_key] = data.load()
        return _datasets[data.cache_key]


def job_parameters(job: Job, geography: Geography, years: Iterable[int] | None = None) -> ReportParams:
    """The job's validated parameters (the year checked against ``years`` when given)."""
    path = Path(job.params_file) if job.params_file else params_file_for(
        geography.zone(job.level, job.code), job.year, Path(job.root), job.defaults)
    return load_params(path, geography, tuple(years) if years is not None else None)


_years: dict[int, tuple[int, ...]] = {}


def job_params(job: Job, geography: Geography) -> tuple[ReportParams, object]:
    """The job's validated parameters and the dataset its report reads (see :func:`scoped`)."""
    unchecked = job_parameters(job, geography)
    dataset = scoped(unchecked, geography)
    with _lock:
        years = _years.setdefault(id(dataset), dataset.years())
    return job_parameters(job, geography, years), dataset


def scope_of(params: ReportParams, geography: Geography) -> list[tuple[str, str]]:
    """The zones of the linked table that protects ``params`` (as :func:`pipeline.protect_for`)."""
    from .. import secrecy
    from ..pipeline import departement_of

    aggregations = tuple(z for z in params.zones if z.level == "aggregation")
    key = (departement_of(params, geography), tuple((a.code, a.members) for a in aggregations))
    parts = tuple(secrecy.parts_for(geography, params.zones))
    key = (*key, parts)
    with _lock:
        if key not in _scopes:
            zones = set(secrecy.scope_zones(geography, key[0], list(aggregations)))
            # Every part the report reads, whole: a part computed on a cut of its table
            # would be another mask (a straddling EPCI's part holds its members' départements).
            for part in secrecy.linked.closure(geography, parts):
                if part != secrecy.scope.WIDE:
                    zones.update(secrecy.scope.part_zones(geography, part))
            _scopes[key] = sorted(zones)
        return _scopes[key]


_scopes: dict[tuple, list] = {}
_scoped: dict[str, tuple] = {}


def scoped(params: ReportParams, geography: Geography):
    """The dataset cut down to what the report's linked table and zones can read.

    A département batch reads a few thousand of the millions of rows of a
    national dataset. The cut is made once per batch and cached on disk
    (``<cache>/batch-scopes/``), so a worker starts in a second instead of
    loading the whole dataset. The rows kept are every zone of the secrecy
    scope, every département, région and France, and the IRIS of in-scope
    communes: the protected cells, hence the published figures and the mask
    hash, are those of the full dataset. A report comparing with a zone outside
    that cut reads the full dataset.
    """
    from ..paths import cache_dir

    zones = scope_of(params, geography)
    # Keyed by the data's identity and the scope only: a code change must not cost a re-cut.
    key = hashlib.sha256(json.dumps([CUT_FORMAT, params.data_ref.identity(), zones],
                                    sort_keys=True).encode()).hexdigest()[:32]
    with _lock:
        if key not in _scoped:
            _scoped[key] = _load_or_cut(params, zones, geography, Path(cache_dir()) / "batch-scopes" / key)
        cut, kept = _scoped[key]
    wanted = {z.key for z in params.zones if z.level != "aggregation"}
    members = {("commune", c) for z in params.zones if z.level == "aggregation" for c in z.members}
    if wanted <= kept and members <= kept:
        return cut
    return dataset_for(params.data_ref)


def _load_or_cut(params: ReportParams, zones, geography: Geography, path: Path):
    """The cut, from ``path.parquet`` + ``path.json`` when they match their SHA-256, else made and stored.

    Parquet and JSON, never pickle: a cache folder may be shared, and a cache file
    must not be able to run code. A damaged entry is rebuilt with a warning.
    """
    import io

    from .. import checked_cache as cc

    table, meta = path.with_suffix(".parquet"), path.with_suffix(".json")
    cached = _read_cut(table, meta)
    if cached is not None:
        return cached
    dataset, kept = _cut(dataset_for(params.data_ref), zones, geography)
    buffer = io.BytesIO()
    dataset.observations.to_parquet(buffer, index=False)
    cc.write_checked(table, buffer.getvalue())
    cc.write_checked(meta, json.dumps({"meta": dataset.meta.to_json(), "kept": sorted(map(list, kept))},
                                      ensure_ascii=False).encode("utf-8"))
    return dataset, kept


def _read_cut(table: Path, meta: Path):
    import io

    import pandas as pd

    from .. import checked_cache as cc
    from ..observations import Dataset, DatasetMeta

    try:
        entry = cc.read_checked_pair(table, meta)
        if entry is None:
            return None
        raw_obs, raw_meta = entry
        info = json.loads(raw_meta.decode("utf-8"))
        obs = pd.read_parquet(io.BytesIO(raw_obs))
        obs["zone_code"] = obs["zone_code"].astype(str)
        return Dataset(DatasetMeta.from_json(info["meta"]), obs), {tuple(k) for k in info["kept"]}
    except cc.DamagedCache as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any entry that does not decode is rebuilt
        reason = f"illisible ({type(exc).__name__})"
    cc.warn("découpage du jeu de données", table, reason)
    cc.discard(table, meta)
    return None


def _cut(dataset, zones, geography: Geography):
    from ..observations import Dataset

    kept = set(zones) | {("departement", d) for d in geography.departements.index} \
        | {("region", r) for r in geography.regions.index} | {("france", "FR")}
    obs = dataset.observations
    level = obs["zone_level"].to_numpy()
    mask = np.zeros(len(obs), dtype=bool)
    for lv in sorted({lv for lv, _ in kept}):
        mask |= (level == lv) & obs["zone_code"].isin([c for l2, c in kept if l2 == lv]).to_numpy()
    communes = [c for lv, c in kept if lv == "commune"]
    iris = np.flatnonzero(level == "iris")
    mask[iris] = obs["zone_code"].iloc[iris].str[:5].isin(communes).to_numpy()
    # QPV rows (issue 15) follow their communes as IRIS do: a commune's QPV section, and the
    # pieces and totals its mask reads, are in the cut; the few QPV and département totals always.
    mask |= np.isin(level, ["qpv", "qpv_departement"])
    mask |= (level == "hors_qpv") & obs["zone_code"].isin(communes).to_numpy()
    pieces = np.flatnonzero(level == "qpv_piece")
    mask[pieces] = obs["zone_code"].iloc[pieces].str[:5].isin(communes).to_numpy()
    totals = obs.loc[np.isin(level, ["qpv", "qpv_departement"]), ["zone_level", "zone_code"]].drop_duplicates()
    kept |= set(zip(totals["zone_level"], totals["zone_code"]))  # a QPV report then reads the cut too
    observations = obs.loc[mask].reset_index(drop=True)
    return Dataset(dataset.meta, observations), kept


def protection_for(params: ReportParams, dataset, geography: Geography, year: int):
    """:func:`abs_report.pipeline.protect_for`, memoised: every report of a batch reads each part once."""
    from ..pipeline import protect_for

    with _lock:
        memo = _masks.setdefault(id(dataset), {})
        return protect_for(params, dataset, geography, year, memo=memo)
