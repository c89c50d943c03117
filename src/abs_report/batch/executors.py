"""Where jobs run: a local pool of spawned worker processes, or a Dask cluster."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .plan import Job, JobResult
from .worker import build_job, reason_of, worker_init


OnResult = Callable[[JobResult], None]


def run_local(jobs: Sequence[Job], workers: int, on_result: OnResult,
              on_interrupt: Callable[[], None] = lambda: None) -> None:
    """Build ``jobs`` in ``workers`` processes (spawned: no fork of a process holding threads)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    if not jobs:
        return
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=mp.get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))
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
        return JobResult(job.level, job.code, job.name, job.year, "failed", reason=reason_of(exc))


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
