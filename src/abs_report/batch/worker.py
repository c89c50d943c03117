"""Building one territory in a worker process: kernels, retries, the one report path."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

from ..atomic import scratch_folder
from ..geography import load_geography

from .data import job_params, protection_for
from .fingerprint import digest, fingerprint_components, write_fingerprint
from .plan import Job, JobResult


SCRATCH_DIR = ".batch-work"

_local = threading.local()


def _kernel_pool(scratch_root: Path):
    """This thread's kernel pool for reports published under ``scratch_root``'s parent."""
    from ..kernels import KernelPool, fork_supported

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

    from ..execute import KernelLost
    from ..kernels import KernelStartError

    return isinstance(exc, (KernelStartError, KernelLost, DeadKernelError, CellTimeoutError))


def _build(job: Job, timings: dict) -> Path:
    from ..pipeline import build_report, evolution_years, output_folder, prepare, publish

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
                             reason=reason_of(exc), attempts=attempt, timings=timings)


def reason_of(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500] + (" (…)" if len(text) > 1 else "")


def worker_init(parent: int | None = None) -> None:
    """Pool worker start: Ctrl-C belongs to the batch; SIGTERM cleans up before exiting.

    A worker dies with the batch (``kill -9`` of the batch runs none of its clean-up).
    """
    from ..orphans import die_with_parent

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

    from ..render import PANDOC

    util.Finalize(None, close_kernel_pools, exitpriority=10)
    # Pool workers end with os._exit: atexit handlers do not run, finalizers do.
    util.Finalize(None, PANDOC.close, exitpriority=10)
