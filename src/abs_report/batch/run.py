"""The batch as a whole (main process): skip what is up to date, prewarm, build, summarise."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..atomic import write_file
from ..geography import load_geography

from .data import job_parameters, job_params, scope_of
from .executors import run_dask, run_local
from .fingerprint import digest, fingerprint_components, is_up_to_date
from .plan import Job, JobResult
from .progress import make_reporter
from .worker import SCRATCH_DIR, reason_of


def triage(jobs: Sequence[Job], force: bool = False) -> tuple[list[Job], list[JobResult], list[JobResult]]:
    """Split jobs into (to build, up to date, failed before building: bad parameters).

    Neither the dataset nor the masks are loaded: a re-run with nothing to do
    takes seconds (see :func:`fingerprint_components`).
    """
    from ..pipeline import output_folder

    geography = load_geography()
    todo, skipped, failed = [], [], []
    for job in jobs:
        try:
            params = job_parameters(job, geography)
            fingerprint = digest(fingerprint_components(params, job.renderer))
            folder = output_folder(params, Path(job.root))
        except Exception as exc:  # noqa: BLE001 - reported in the summary like any failure
            failed.append(JobResult(job.level, job.code, job.name, job.year, "failed", reason=reason_of(exc)))
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
    from ..pipeline import evolution_years, protect_years, uncached_years

    geography = load_geography()
    seen = set()
    for job in jobs:
        try:
            unchecked = job_parameters(job, geography)
            scope = (tuple(scope_of(unchecked, geography)), unchecked.data)
            if scope in seen:
                continue
            seen.add(scope)
            params, dataset = job_params(job, geography)
            # The years not cached yet, side by side, into the cache: workers (other processes) read
            # them there. Cached years are only checked (metadata), not decoded: workers decode them.
            missing = uncached_years(params, dataset, geography, evolution_years(params, dataset))
            if missing:
                protect_years(params, dataset, geography, missing)
        except Exception:  # noqa: BLE001 - reported by the job itself
            continue


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
    from ..atomic import recover_outputs
    from ..orphans import recover_private_folders

    recover_outputs(root)
    recover_outputs(root / SCRATCH_DIR)
    recover_private_folders()


def run_batch(jobs: Sequence[Job], *, root: Path, force: bool = False, executor: str = "local",
              workers: int | None = None, scheduler: str | None = None, reporter=None,
              context: dict | None = None) -> Outcome:
    """Build ``jobs``: skip the up-to-date ones, run the others, write summary and catalogue."""
    from .. import catalog_page

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
