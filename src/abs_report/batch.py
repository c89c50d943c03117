"""Many territories at once: plan, skip what is up to date, build the rest in parallel.

A batch turns one département (or a list of parameter files) into one report
per territory, each built by the single-report pipeline
(:func:`abs_report.pipeline.prepare`, :func:`~abs_report.pipeline.build_report`,
:func:`~abs_report.pipeline.publish`), so a batch report is byte for byte the
report ``abs-report render`` would build from the same parameters.

Why it is fast:

- the secrecy mask of the département is computed once and cached
  (:func:`abs_report.secrecy.load_or_protect`); each worker process loads the
  dataset once;
- each report still runs in its own fresh kernel, but kernels are forked from
  a process that already imported the heavy modules and are started one
  report ahead (:mod:`abs_report.kernels`);
- rendering runs in-process; a pool of worker processes keeps the cores busy;
- a report whose inputs did not change is not rebuilt: its *fingerprint*
  (parameter values, dataset identity, secrecy masks, notebook, templates and
  code) is stored beside it in ``.fingerprint.json``.

The same per-territory function, :func:`build_job`, runs in a local process
pool or on the workers of a Dask ``distributed`` cluster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import scratch_folder, write_file
from .dataref import DataRef
from .errors import InputError, Problem
from .geography import Geography, UnknownZone, Zone, load_geography
from .params import DEFAULT_FORMATS, ReportParams, load_params, read_params_file
from .paths import PACKAGE_DIR, outputs_dir, project_file
from .template import fill

LEVELS = ("commune", "epci", "departement")
FINGERPRINT_FILE = ".fingerprint.json"
"""Comma-separated zone codes whose build fails on purpose (to test failure handling)."""
SCRATCH_DIR = ".batch-work"
CUT_FORMAT = "2"
"""Bump when :func:`_cut` changes what it keeps."""
DEFAULT_RECIPIENT = "Caf de l'Isère : analyse des besoins sociaux du territoire"
DEFAULT_PURPOSE = "Analyse des besoins sociaux {year} : diagnostic des familles allocataires du territoire"
# Files a report's content depends on besides the data (the batch modules themselves do not count).
NOT_REPORT_CODE = ("batch.py", "catalog_page.py", "commands")


# --- what to build ----------------------------------------------------------------------

@dataclass(frozen=True)
class Defaults:
    """Parameters of territories that have no parameter file."""

    recipient: str = DEFAULT_RECIPIENT
    purpose: str = DEFAULT_PURPOSE
    title: str = "Analyse des besoins sociaux"
    formats: tuple[str, ...] = DEFAULT_FORMATS
    data: str = "demo"


@dataclass(frozen=True)
class Job:
    """One territory to build: picklable, so it travels to pool and Dask workers."""

    level: str
    code: str
    name: str
    year: int
    root: str
    """Root of the output folders (``outputs/``)."""
    params_file: str | None = None
    defaults: Defaults = Defaults()
    renderer: str = "builtin"
    fingerprint: str = ""

    @property
    def label(self) -> str:
        return f"{self.level} {self.code} {self.name}"


@dataclass(frozen=True)
class JobResult:
    """What became of one territory."""

    level: str
    code: str
    name: str
    year: int
    status: str
    """``built``, ``skipped`` (up to date) or ``failed``."""
    seconds: float = 0.0
    reason: str = ""
    folder: str = ""
    attempts: int = 0
    timings: dict = field(default_factory=dict)


def _zone_codes(geography: Geography, departement: str, levels: Sequence[str]) -> list[tuple[str, str]]:
    """Territories of a département, largest first (the pool then ends on small reports)."""
    zones = []
    if "departement" in levels:
        zones.append(("departement", departement))
    if "epci" in levels:
        zones += [("epci", e) for e in geography.epcis_of_departement(departement)]
    if "commune" in levels:
        zones += [("commune", c) for c in geography.member_communes_of("departement", departement)]
    return zones


def _in_departement(geography: Geography, zone: Zone, departement: str) -> bool:
    if zone.level == "departement":
        return zone.code == departement
    codes = [zone.code] if zone.level == "commune" else list(zone.members)
    return bool((geography.communes.loc[codes, "departement"] == departement).any())


def plan(geography: Geography, departement: str, year: int, *, levels: Sequence[str] = LEVELS,
         zones: Sequence[str] = (), params_dir: Path | None = None, limit: int | None = None,
         root: Path | None = None, defaults: Defaults = Defaults(), renderer: str = "builtin") -> list[Job]:
    """The territories of a batch, narrowed by level, codes, parameter files and ``limit``.

    Raises
    ------
    InputError
        Unknown département, level or zone code (with close matches).
    """
    root = Path(root or outputs_dir()).resolve()
    _check_selection(geography, departement, levels, zones)
    if params_dir is not None:
        jobs = _jobs_from_files(geography, Path(params_dir), departement, year, levels, root, renderer)
    else:
        jobs = [Job(level, code, geography.zone(level, code).name, year, str(root), defaults=defaults,
                    renderer=renderer) for level, code in _zone_codes(geography, departement, levels)]
    if zones:
        wanted = set(zones)
        jobs = [j for j in jobs if j.code in wanted]
    return jobs[:limit] if limit is not None else jobs


def _check_selection(geography: Geography, departement: str, levels: Sequence[str],
                     zones: Sequence[str]) -> None:
    problems = []
    if departement not in geography.departements.index:
        hint = ", ".join(geography.suggest("departement", departement))
        problems.append(Problem("--departement", "département inconnu du COG"
                                + (f" ; vouliez-vous dire : {hint} ?" if hint else ""), value=departement))
    for level in levels:
        if level not in LEVELS:
            problems.append(Problem("--levels", f"niveau inconnu ; niveaux possibles : {', '.join(LEVELS)}",
                                    value=level))
    if not problems:
        known = {code for _, code in _zone_codes(geography, departement, LEVELS)}
        for code in zones:
            if code not in known:
                problems.append(Problem("--zones", f"territoire absent du département {departement}",
                                        value=code))
    if problems:
        raise InputError(problems)


def _jobs_from_files(geography: Geography, folder: Path, departement: str, year: int,
                     levels: Sequence[str], root: Path, renderer: str) -> list[Job]:
    """One job per parameter file of ``folder`` for a territory of the département and year."""
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    if not files:
        raise InputError(Problem(str(folder), "aucun fichier de paramètres (*.yml) dans ce dossier"))
    jobs, problems = [], []
    for path in files:
        try:
            parsed, _, _ = read_params_file(path)
        except InputError as exc:  # every file checked: all the problems at once
            problems += exc.problems
            continue
        spec = parsed.territory
        if parsed.year != year or spec.level not in levels:
            continue
        try:
            zone = (geography.aggregation(spec.code, spec.name or spec.code, list(spec.communes))
                    if spec.level == "aggregation" else geography.zone(spec.level, spec.code))
        except UnknownZone:
            zone = None  # load_params reports it, with the line, when the job runs
        if zone is not None and not _in_departement(geography, zone, departement):
            continue
        jobs.append(Job(spec.level, spec.code, spec.name or (zone.name if zone else spec.code), year,
                        str(root), params_file=str(path.resolve()), renderer=renderer))
    if problems:
        raise InputError(problems)
    return jobs


def params_text(zone: Zone, year: int, defaults: Defaults = Defaults()) -> str:
    """The parameter file of a territory that has none: its code, the year and the defaults.

    Comparison zones are the default chain above the territory.
    """
    import yaml

    raw = {"territory": {"level": zone.level, "code": zone.code}, "year": int(year), "title": defaults.title,
           "recipient": defaults.recipient,
           "purpose": fill(defaults.purpose, purpose_values(year), "--purpose"),
           "formats": list(defaults.formats), "data": defaults.data}
    header = f"# Écrit par abs-report batch pour {zone.name} ({zone.level} {zone.code}).\n"
    return header + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def purpose_values(year: int) -> dict[str, int]:
    """What ``--purpose`` may hold: ``{year}`` or ``{annee}``, the year of the batch."""
    return {"year": int(year), "annee": int(year)}


def params_file_for(zone: Zone, year: int, root: Path, defaults: Defaults = Defaults()) -> Path:
    """Write (only when its text changes) the parameter file of a territory that has none.

    Every report, even one planned from a département, is built from a file
    that its manifest records and an auditor can re-run:
    ``outputs/.params/<level>-<code>-<year>.yml``.
    """
    path = Path(root) / ".params" / f"{zone.level}-{zone.code}-{year}.yml"
    text = params_text(zone, year, defaults)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file(path, text)


# --- per-process caches -----------------------------------------------------------------

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


def _scope(params: ReportParams, geography: Geography) -> list[tuple[str, str]]:
    """The zones of the linked table that protects ``params`` (as :func:`pipeline.protect_for`)."""
    from . import secrecy
    from .pipeline import departement_of

    aggregations = tuple(z for z in params.zones if z.level == "aggregation")
    key = (departement_of(params, geography), tuple((a.code, a.members) for a in aggregations))
    with _lock:
        if key not in _scopes:
            _scopes[key] = secrecy.scope_zones(geography, key[0], list(aggregations))
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
    from .paths import cache_dir

    zones = _scope(params, geography)
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

    from . import checked_cache as cc

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

    from . import checked_cache as cc
    from .observations import Dataset, DatasetMeta

    try:
        raw_obs, raw_meta = cc.read_checked(table), cc.read_checked(meta)
        if raw_obs is None and raw_meta is None:
            return None
        if raw_obs is None or raw_meta is None:
            raise cc.DamagedCache("entrée incomplète")
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
    from .observations import Dataset

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
    observations = obs.loc[mask].reset_index(drop=True)
    return Dataset(dataset.meta, observations), kept


def protection_for(params: ReportParams, dataset, geography: Geography, year: int):
    """:func:`abs_report.pipeline.protect_for`, memoised: every report of a batch shares it."""
    from .pipeline import protect_for

    zones = _scope(params, geography)
    scope = set(zones)
    extra = tuple(z.key for z in params.zones if z.key not in scope)
    aggregations = tuple((z.code, z.members) for z in params.zones if z.level == "aggregation")
    key = (id(dataset), year, tuple(zones[:1]), len(zones), aggregations, extra)
    with _lock:
        if key not in _masks:
            _masks[key] = protect_for(params, dataset, geography, year)
        return _masks[key]


# --- fingerprints -----------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def code_identity() -> dict:
    """Hashes of the notebook, templates, format options and package code a report depends on."""
    def hashes(paths: Iterable[Path], base: Path) -> dict[str, str]:
        return {str(p.relative_to(base)): _sha256_file(p) for p in sorted(paths) if p.is_file()}

    package = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".yml", ".yaml", ".json", ".gz")
               and "__pycache__" not in p.parts
               and not any(part in NOT_REPORT_CODE for part in p.relative_to(PACKAGE_DIR).parts)]
    return {
        "version": __version__,
        "notebook": hashes([project_file("notebooks", "report.ipynb")], project_file()),
        "templates": hashes(project_file("templates").glob("*"), project_file()),
        "format_options": hashes([project_file("_quarto.yml")], project_file()),
        "package": hashlib.sha256(json.dumps(hashes(package, PACKAGE_DIR), sort_keys=True)
                                  .encode()).hexdigest(),
    }


def parameter_values(params: ReportParams) -> dict:
    """What a parameter file says, resolved (a file and the defaults giving the same values agree)."""
    def zone(z: Zone) -> list:
        # Members by hash: France has 35,000 of them.
        return [z.level, z.code, z.name, hashlib.sha256(",".join(z.members).encode()).hexdigest()[:16]]

    return {"territory": zone(params.territory),
            "comparison_zones": [zone(z) for z in params.comparison_zones],
            "year": params.year, "title": params.title, "recipient": params.recipient,
            "purpose": params.purpose, "formats": list(params.formats), "data": params.data}


def fingerprint_components(params: ReportParams, renderer: str) -> dict:
    """Everything a report's bytes depend on.

    The secrecy masks are not read here: a mask is a function of the data
    (identified here), of the rules and of the suppression code (both in the
    package hash) and of the scope (the COG, in the package too), so it cannot
    change while these stay the same. The mask hashes a report was built with
    are recorded beside the fingerprint, for the audit trail.
    """
    from .pipeline import default_edition

    return {
        "parameters": parameter_values(params),
        "dataset": params.data_ref.identity(),
        "code": code_identity(),
        "renderer": renderer,
        "edition": default_edition(params).isoformat(),  # SOURCE_DATE_EPOCH is read there, once
    }


def digest(components: dict) -> str:
    return hashlib.sha256(json.dumps(components, sort_keys=True, default=str).encode()).hexdigest()


def expected_files(params: ReportParams) -> list[str]:
    from .pipeline import OUTPUT_FILES

    return [name for name in OUTPUT_FILES
            if not name.startswith("report.") or name == "report.ipynb" or name[7:] in params.formats]


def is_up_to_date(folder: Path, fingerprint: str, params: ReportParams) -> bool:
    """The folder holds every expected file and was built from these very inputs."""
    try:
        stored = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stored.get("digest") == fingerprint and all((folder / n).is_file() for n in expected_files(params))


def write_fingerprint(folder: Path, fingerprint: str, components: dict, masks: dict | None = None) -> None:
    """``.fingerprint.json``: the digest, what it was computed from, the mask hashes used."""
    payload = {"digest": fingerprint, "components": components, "secrecy_mask_hashes": masks or {}}
    (folder / FINGERPRINT_FILE).write_text(json.dumps(payload,
                                                      ensure_ascii=False, indent=2, sort_keys=True,
                                                      default=str) + "\n", encoding="utf-8")


# --- building one territory (runs in a worker) ------------------------------------------

_local = threading.local()


def _kernel_pool(scratch_root: Path):
    """This thread's kernel pool for reports published under ``scratch_root``'s parent."""
    from .kernels import KernelPool, fork_supported

    if not fork_supported():
        return None
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = {}
    if scratch_root not in pools:
        pools[scratch_root] = KernelPool(scratch_root)
    return pools[scratch_root]


def close_kernel_pools() -> None:
    """Shut down this thread's kernels (workers call it on exit; atexit does it too)."""
    for pool in getattr(_local, "pools", {}).values():
        pool.close()
    _local.pools = {}


def _retryable(exc: BaseException) -> bool:
    """Kernel start-up races, dead kernels and timeouts deserve a second try; a failing cell does not.

    By type (nbclient's, and :class:`~abs_report.execute.KernelLost` that wraps them), never by message.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from .execute import KernelLost
    from .kernels import KernelStartError

    return isinstance(exc, (KernelStartError, KernelLost, DeadKernelError, CellTimeoutError))


def _build(job: Job, timings: dict) -> Path:
    from .pipeline import build_report, evolution_years, output_folder, prepare, publish

    tick = time.perf_counter()
    geography = load_geography()
    params, dataset = job_params(job, geography)
    prepared = prepare(params, dataset, geography, protect=protection_for)
    # Recomputed here rather than trusted from the job: it must describe what this worker built.
    components = fingerprint_components(params, job.renderer)
    fingerprint = digest(components)
    masks = {str(y): protection_for(params, dataset, geography, y).mask_hash
             for y in evolution_years(params, dataset)}
    target = output_folder(params, Path(job.root))
    timings["prepare"] = time.perf_counter() - tick
    pool = _kernel_pool(target.parent.parent / SCRATCH_DIR)
    tick = time.perf_counter()
    if pool is not None:
        kernel = pool.take()
        scratch = kernel.cwd
    else:
        kernel = None
        scratch = scratch_folder(target)
    timings["kernel_wait"] = time.perf_counter() - tick
    _local.current = scratch
    try:
        tick = time.perf_counter()
        build_report(prepared, scratch, renderer=job.renderer, kernel=kernel)
        timings["build"] = time.perf_counter() - tick
        write_fingerprint(scratch, fingerprint, components, masks)
        publish(scratch, target)
    finally:
        _local.current = None
        if kernel is not None:
            kernel.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)  # gone already when published
    return target


def build_job(job: Job, retries: int = 1) -> JobResult:
    """Build one territory's report; never raises: a failure comes back as a result."""
    start = time.perf_counter()
    timings: dict = {}
    attempt = 0
    while True:
        attempt += 1
        try:
            folder = _build(job, timings)
            return JobResult(job.level, job.code, job.name, job.year, "built", time.perf_counter() - start,
                             folder=str(folder), attempts=attempt, timings=timings)
        except Exception as exc:  # noqa: BLE001 - one territory must not stop the batch
            if attempt <= retries and _retryable(exc):
                continue
            return JobResult(job.level, job.code, job.name, job.year, "failed", time.perf_counter() - start,
                             reason=_reason(exc), attempts=attempt, timings=timings)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500] + (" (…)" if len(text) > 1 else "")


# --- skipping what is up to date (main process) -----------------------------------------

def triage(jobs: Sequence[Job], force: bool = False) -> tuple[list[Job], list[JobResult], list[JobResult]]:
    """Split jobs into (to build, up to date, failed before building: bad parameters).

    Neither the dataset nor the masks are loaded: a re-run with nothing to do
    takes seconds (see :func:`fingerprint_components`).
    """
    from .pipeline import output_folder

    geography = load_geography()
    todo, skipped, failed = [], [], []
    for job in jobs:
        try:
            params = job_parameters(job, geography)
            fingerprint = digest(fingerprint_components(params, job.renderer))
            folder = output_folder(params, Path(job.root))
        except Exception as exc:  # noqa: BLE001 - reported in the summary like any failure
            failed.append(JobResult(job.level, job.code, job.name, job.year, "failed", reason=_reason(exc)))
            continue
        if not force and is_up_to_date(folder, fingerprint, params):
            skipped.append(JobResult(job.level, job.code, job.name, job.year, "skipped", folder=str(folder)))
        else:
            todo.append(replace(job, fingerprint=fingerprint))
    return todo, skipped, failed


def prewarm(jobs: Sequence[Job]) -> None:
    """Cut the dataset and protect each year once, here, before workers race to do it.

    Workers then read the cut and the masks from the cache. A failure is left
    for the territory's own job to report.
    """
    from .pipeline import evolution_years, protect_years

    geography = load_geography()
    seen = set()
    for job in jobs:
        try:
            unchecked = job_parameters(job, geography)
            scope = (tuple(_scope(unchecked, geography)), unchecked.data)
            if scope in seen:
                continue
            seen.add(scope)
            params, dataset = job_params(job, geography)
            # The years side by side, into the cache: workers (other processes) read them there.
            protect_years(params, dataset, geography, tuple(evolution_years(params, dataset)))
        except Exception:  # noqa: BLE001 - reported by the job itself
            continue


# --- executors --------------------------------------------------------------------------

OnResult = Callable[[JobResult], None]


def _worker_init(parent: int | None = None) -> None:
    """Pool worker start: Ctrl-C belongs to the batch; SIGTERM cleans up before exiting.

    A worker dies with the batch (``kill -9`` of the batch runs none of its clean-up).
    """
    from .orphans import die_with_parent

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def terminate(signum, frame):
        current = getattr(_local, "current", None)
        close_kernel_pools()
        if current is not None:
            shutil.rmtree(current, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    from multiprocessing import util

    from .render import PANDOC

    util.Finalize(None, close_kernel_pools, exitpriority=10)
    # Pool workers end with os._exit: atexit handlers do not run, finalizers do.
    util.Finalize(None, PANDOC.close, exitpriority=10)


def run_local(jobs: Sequence[Job], workers: int, on_result: OnResult,
              on_interrupt: Callable[[], None] = lambda: None) -> None:
    """Build ``jobs`` in ``workers`` processes (spawned: no fork of a process holding threads)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    if not jobs:
        return
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    pending = {pool.submit(build_job, job): job for job in jobs}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                on_result(_result_of(future, job))
    except KeyboardInterrupt:
        on_interrupt()
        for future in pending:
            future.cancel()
        try:
            # Reports being built finish and are published whole; nothing new starts.
            pool.shutdown(wait=True, cancel_futures=True)
        except KeyboardInterrupt:
            _terminate(pool)
        for future, job in pending.items():  # the reports that were being built: in the summary
            if future.done() and not future.cancelled():
                on_result(_result_of(future, job))
        raise
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown(wait=True)


def _terminate(pool) -> None:
    """Second Ctrl-C: stop workers now; each removes its scratch folder and kernels on SIGTERM."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
    pool.shutdown(wait=False, cancel_futures=True)


def _result_of(future, job: Job) -> JobResult:
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - a worker that died (killed, out of memory)
        return JobResult(job.level, job.code, job.name, job.year, "failed", reason=_reason(exc))


def run_dask(jobs: Sequence[Job], scheduler: str, on_result: OnResult,
             on_interrupt: Callable[[], None] = lambda: None) -> None:
    """Send ``jobs`` to the workers of a Dask ``distributed`` cluster at ``scheduler``.

    Workers need this package installed and the outputs folder on a shared file
    system (each report is published from the worker that built it).
    """
    from distributed import Client, as_completed

    if not jobs:
        return
    with Client(scheduler) as client:
        futures = client.map(build_job, list(jobs), pure=False,
                             key=[f"abs-report-{j.level}-{j.code}-{j.year}-{os.getpid()}-{i}"
                                  for i, j in enumerate(jobs)])
        by_key = {f.key: job for f, job in zip(futures, jobs)}
        try:
            for future in as_completed(futures):
                on_result(_result_of(future, by_key[future.key]))
        except KeyboardInterrupt:
            on_interrupt()
            client.cancel(futures)
            raise


# --- the batch as a whole ---------------------------------------------------------------

@dataclass
class Outcome:
    """Every territory's result, and where the summary and catalogue were written."""

    results: list[JobResult]
    seconds: float
    summary: Path | None = None
    catalogue: Path | None = None
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failures(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def exit_status(self) -> int:
        return 130 if self.interrupted else (1 if self.failures else 0)


def default_workers() -> int:
    """One worker per core (each runs one report at a time)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _recover_leftovers(root: Path) -> None:
    """What batches and renders killed earlier left: scratch folders, temporary files, kernel folders."""
    from .atomic import recover_outputs
    from .orphans import recover_private_folders

    recover_outputs(root)
    recover_outputs(root / SCRATCH_DIR)
    recover_private_folders()


def run_batch(jobs: Sequence[Job], *, root: Path, force: bool = False, executor: str = "local",
              workers: int | None = None, scheduler: str | None = None, reporter=None,
              context: dict | None = None) -> Outcome:
    """Build ``jobs``: skip the up-to-date ones, run the others, write summary and catalogue."""
    from . import catalog_page

    start = time.perf_counter()
    root = Path(root)
    _recover_leftovers(root)
    todo, skipped, failed = triage(jobs, force)
    reporter = reporter or make_reporter(len(jobs))
    results: list[JobResult] = []

    def record(result: JobResult) -> None:
        results.append(result)
        reporter.advance(result)

    interrupted = False
    with reporter:
        for result in skipped + failed:
            record(result)
        try:
            prewarm(todo)
            if executor == "dask":
                run_dask(todo, scheduler, record, reporter.interrupting)
            else:
                run_local(todo, workers or default_workers(), record, reporter.interrupting)
        except KeyboardInterrupt:
            interrupted = True
    outcome = Outcome(results, time.perf_counter() - start, interrupted=interrupted)
    outcome.catalogue = catalog_page.write(root)
    outcome.summary = write_summary(outcome, root, {"executor": executor, **(context or {})})
    return outcome


def _result_json(result: JobResult) -> dict:
    raw = asdict(result)
    return {"zone_level": raw.pop("level"), "zone_code": raw.pop("code"), **raw,
            "seconds": round(result.seconds, 3), "timings": {k: round(v, 3) for k, v in result.timings.items()}}


def write_summary(outcome: Outcome, root: Path, context: dict) -> Path:
    """``outputs/batch-<date>.json``: counts, each failure with its reason, every result."""
    now = dt.datetime.now()
    path = root / f"batch-{now:%Y-%m-%dT%H-%M-%S}.json"
    n = 1
    while path.exists():  # two batches in the same second keep both summaries
        n += 1
        path = root / f"batch-{now:%Y-%m-%dT%H-%M-%S}-{n}.json"
    payload = {
        "finished_at": now.isoformat(timespec="seconds"),
        "seconds": round(outcome.seconds, 2),
        **context,
        "interrupted": outcome.interrupted,
        "counts": {s: outcome.count(s) for s in ("built", "skipped", "failed")},
        "failures": [{"zone_level": r.level, "zone_code": r.code, "name": r.name, "year": r.year,
                      "reason": r.reason} for r in outcome.failures],
        "reports": [_result_json(r) for r in outcome.results],
    }
    root.mkdir(parents=True, exist_ok=True)
    return write_file(path, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


# --- progress -----------------------------------------------------------------------------

STATUS_FR = {"built": "construit", "skipped": "à jour", "failed": "ÉCHEC"}


class PlainReporter:
    """One log line per territory (logs, CI, pipes)."""

    def __init__(self, total: int, stream=None) -> None:
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.start = time.perf_counter()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def advance(self, result: JobResult) -> None:
        self.done += 1
        took = f" ({result.seconds:.1f} s)" if result.status == "built" else ""
        why = f" : {result.reason}" if result.reason else ""
        print(f"[{self.done:>{len(str(self.total))}}/{self.total}] {STATUS_FR[result.status]:<9} "
              f"{result.level} {result.code} {result.name}{took}{why}", file=self.stream, flush=True)

    def interrupting(self) -> None:
        print("Interruption : les rapports en cours se terminent, aucun autre ne démarre "
              "(Ctrl-C encore pour arrêter tout de suite).", file=self.stream, flush=True)


class RichReporter(PlainReporter):
    """A progress bar with counts, rate and ETA (terminals)."""

    def __init__(self, total: int, console) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        super().__init__(total)
        self.console = console
        self.counts = {"built": 0, "skipped": 0, "failed": 0}
        self.progress = Progress(TextColumn("[bold]Rapports"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TextColumn("écoulé"), TimeElapsedColumn(),
                                 TextColumn("reste"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}"),
                                 console=console, transient=False)
        self.task = self.progress.add_task("batch", total=total, rate="", counts="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def advance(self, result: JobResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if result.status == "failed":
            self.progress.console.print(f"[red]ÉCHEC[/red] {result.level} {result.code} {result.name} : "
                                        f"{result.reason}", markup=True, highlight=False)
        built_time = time.perf_counter() - self.start
        rate = f"{self.counts['built'] / built_time * 60:.0f} rapports/min" if self.counts["built"] else ""
        counts = (f"construits {self.counts['built']} · à jour {self.counts['skipped']} · "
                  f"échecs {self.counts['failed']}")
        self.progress.update(self.task, advance=1, rate=rate, counts=counts)

    def interrupting(self) -> None:
        self.progress.console.print("Interruption : les rapports en cours se terminent, aucun autre ne démarre "
                                    "(Ctrl-C encore pour arrêter tout de suite).")


def make_reporter(total: int):
    """A rich progress bar on a terminal, plain log lines otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    return RichReporter(total, console) if console.is_terminal else PlainReporter(total)


def print_failures(outcome: Outcome, stream=None) -> None:
    """The failure table: territory and reason (rich table on a terminal)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stderr, width=None if (stream or sys.stderr).isatty() else 160)
    table = Table(title=f"{len(outcome.failures)} territoire(s) en échec", show_lines=False)
    table.add_column("Territoire")
    table.add_column("Niveau")
    table.add_column("Raison", overflow="fold")
    for r in outcome.failures:
        table.add_row(f"{r.code} {r.name}", r.level, r.reason)
    console.print(table)
