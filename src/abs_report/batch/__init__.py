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

from .executors import run_dask, run_local
from .fingerprint import FINGERPRINT_FILE, code_identity, digest, fingerprint_components, is_up_to_date
from .plan import DEFAULT_PURPOSE, DEFAULT_RECIPIENT, LEVELS, Defaults, Job, JobResult, plan, purpose_values
from .progress import make_reporter, print_failures
from .run import Outcome, default_workers, prewarm, run_batch, triage, write_summary
from .worker import build_job

__all__ = ["DEFAULT_PURPOSE", "DEFAULT_RECIPIENT", "FINGERPRINT_FILE", "LEVELS", "Defaults", "Job", "JobResult",
           "Outcome", "build_job", "code_identity", "default_workers", "digest", "fingerprint_components",
           "is_up_to_date", "make_reporter", "plan", "prewarm", "print_failures", "purpose_values", "run_batch",
           "run_dask", "run_local", "triage", "write_summary"]
