"""``make bench``: the naive path against ``abs-report batch`` on the same Isère communes.

Prints, as ratios and seconds: naive vs batch throughput, median seconds per report,
the projected time for all of Isère (531 reports), the time of a no-change re-run and
where a report's time goes. ``BENCH_N`` sets the number of communes (default 20,
at least 20 for the figures the issue asks for); ``BENCH_WORKERS`` the batch workers;
``BENCH_FULL=1`` also builds every report of Isère and prints the measured time (about
10 more minutes).
Then the cost of maps (``benchmarks.maps.batch_cost``: the same communes, and two EPCI, with
and without maps, CPU per report as a ratio); ``BENCH_ONLY=maps`` runs only that part.
Then runs ``benchmarks.paris.run()`` (Paris vs Grenoble, time per report) unless ``BENCH_SKIP_PARIS``
is set, and ``benchmarks.secrecy.run()`` when that module exists, unless ``BENCH_SKIP_SECRECY`` is set.
"""

from __future__ import annotations

import cProfile
import importlib
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ISERE_REPORTS = 531
TARGETS = {"ratio": 4.0, "isere_minutes": 10.0, "rerun_seconds": 10.0}


def _communes(n: int) -> list[str]:
    """``n`` Isère communes spread over the code list (small villages and towns alike)."""
    from abs_report.geography import load_geography

    communes = list(load_geography().member_communes_of("departement", "38"))
    step = max(1, len(communes) // n)
    return communes[::step][:n]


def _batch_command(codes: list[str], outputs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "abs_report.cli", "batch", "--departement", "38", "--year", "2024",
            "--levels", "commune", "--zones", ",".join(codes), "--outputs", str(outputs), *extra]


def _timed(command: list[str], **kwargs) -> float:
    return _timed_cpu(command, **kwargs)[0]


def _timed_cpu(command: list[str], **kwargs) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, every descendant process) of a command."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def prepare_all(codes: list[str], outputs: Path):
    """Cut the dataset and protect every year once (cached), untimed for both paths."""
    from abs_report import batch
    from abs_report.batch.data import job_params, protection_for
    from abs_report.geography import load_geography
    from abs_report.pipeline import prepare

    geography = load_geography()
    jobs = batch.plan(geography, "38", 2024, levels=["commune"], zones=codes, root=outputs)
    batch.prewarm(jobs)
    prepared = {}
    for job in jobs:
        params, dataset = job_params(job, geography)
        prepared[job.code] = prepare(params, dataset, geography, protect=protection_for)
    return prepared


def run_naive(prepared: dict, folder: Path, cpu: list | None = None) -> list[float]:
    """papermill CLI then a separate render process, one territory after another.

    ``cpu``, when given, receives the CPU seconds (user + system) of those processes.
    """
    import resource

    from benchmarks.naive import prepare_folder

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = []
    for code, item in prepared.items():
        target = folder / code
        command = prepare_folder(item, target)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "benchmarks.naive", "render", str(target)], check=True,
                       cwd=Path(__file__).resolve().parents[1])
        seconds.append(time.perf_counter() - start)
        print(f"  naïf {code} : {seconds[-1]:.1f} s", flush=True)
    if cpu is not None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return seconds


def _latest_summary(outputs: Path) -> dict:
    latest = max(outputs.glob("batch-*.json"), key=lambda p: p.stat().st_mtime_ns)
    return json.loads(latest.read_text(encoding="utf-8"))


def _check_markdown(notebook: Path) -> None:
    """The renderer's direct Markdown is nbconvert's, byte for byte, on this report."""
    import re

    import nbformat

    from abs_report.render import markdown

    clean = markdown.presentable_notebook(nbformat.read(notebook, as_version=4), Path(tempfile.mkdtemp()))
    ours = re.sub(r"\n{3,}", "\n\n", markdown._cells_markdown(clean)).strip() + "\n"
    if ours != markdown._nbconvert_markdown(clean):
        raise SystemExit(f"Markdown différent de celui de nbconvert : {notebook}")


def profile_one(prepared, folder: Path) -> str:
    """Where one report's time goes, measured in-process with a pre-started kernel."""
    from abs_report.kernels import KernelPool
    from abs_report.pipeline import build_report

    pool = KernelPool(folder / ".batch-work")
    try:
        pool.take().shutdown()  # pays the zygote start-up, as a batch worker does once
        kernel = pool.take()
        profiler = cProfile.Profile()
        profiler.runcall(build_report, prepared, kernel.cwd, kernel=kernel)
        _check_markdown(kernel.cwd / "report.ipynb")
        kernel.shutdown()
    finally:
        pool.close()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    wanted = {"execute": "exécution du notebook (noyau préchauffé)", "notebook_to_markdown": "notebook → Markdown",
              "pandoc_editions": "pandoc → Typst et HTML autonome (processus pandoc gardé)",
              "typst_to_pdf": "Typst → PDF", "write": "tableaux xlsx / manifest",
              "normalise_notebook": "normalisation du notebook", "to_csv": "published.csv"}
    rows, total = [], 0.0
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():
        if name == "build_files":
            total = cumulative
        if name in wanted and "abs_report" in filename:
            rows.append((cumulative, f"{wanted[name]} [{Path(filename).stem}.{name}]"))
    lines = [f"    {sec:6.2f} s  {label}" for sec, label in sorted(rows, reverse=True)]
    return f"  un rapport, build_files : {total:.2f} s\n" + "\n".join(lines)


def maps_cost(codes: list[str], work: Path, workers: str | None) -> int:
    """The batch's CPU per report with and without maps (``benchmarks.maps.batch_cost``)."""
    from benchmarks import maps

    print("\nCoût des cartes : le même batch avec et sans cartes (--no-maps), CPU de tous ses processus", flush=True)
    maps.batch_cost(codes, work, _timed_cpu, workers)
    return 0


def main() -> int:
    n = int(os.environ.get("BENCH_N", "20"))
    workers = os.environ.get("BENCH_WORKERS")
    codes = _communes(n)
    work = Path(tempfile.mkdtemp(prefix="abs-bench-"))
    print(f"Banc d'essai : {len(codes)} communes de l'Isère, dossier {work}", flush=True)

    start = time.perf_counter()
    prepared = prepare_all(codes, work / "batch")
    print(f"Préparation des données (découpe + masques, une fois, hors chronométrage) : "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    if os.environ.get("BENCH_ONLY") == "maps":
        return maps_cost(codes, work, workers)

    naive_cpu: list[float] = []
    naive = run_naive(prepared, work / "naive", naive_cpu)
    extra = ["--workers", workers] if workers else []
    # A batch of one report per worker measures the fixed cost (start-up, workers, first kernels).
    from abs_report.batch import default_workers

    small = codes[:int(workers) if workers else default_workers()]
    small_wall = _timed(_batch_command(small, work / "batch-small", "--force", *extra))
    batch_wall, batch_cpu = _timed_cpu(_batch_command(codes, work / "batch", "--force", *extra))
    summary = _latest_summary(work / "batch")
    per_report = [r["seconds"] for r in summary["reports"] if r["status"] == "built"]
    rerun = _timed(_batch_command(codes, work / "batch", *extra))
    rerun_summary = _latest_summary(work / "batch")

    naive_total = sum(naive)
    ratio = naive_total / batch_wall
    # Conservative: the batch's whole wall time (start-up included) spread over its reports.
    per_report_wall = batch_wall / len(codes)
    isere = ISERE_REPORTS * per_report_wall
    # Linear, through the two measured batches: start-up once, then the marginal rate.
    marginal = (batch_wall - small_wall) / max(1, len(codes) - len(small))
    isere_linear = batch_wall + (ISERE_REPORTS - len(codes)) * marginal
    phases = {}
    for r in summary["reports"]:
        for k, v in r.get("timings", {}).items():
            phases.setdefault(k, []).append(v)

    print("\nRésultats")
    print(f"  naïf  : {naive_total:7.1f} s pour {len(codes)} rapports (médiane {statistics.median(naive):.2f} s/rapport)")
    print(f"  batch : {batch_wall:7.1f} s pour {len(codes)} rapports ({summary['counts']['built']} construits ; "
          f"médiane {statistics.median(per_report):.2f} s par rapport dans un worker ; "
          f"{per_report_wall:.2f} s de débit par rapport)")
    print(f"  batch : {batch_cpu:.1f} s de CPU (tous processus, noyaux compris), soit {batch_cpu / len(codes):.2f} s CPU par rapport ; "
          f"{len(small)} rapport(s) seuls : {small_wall:.1f} s (coût fixe) ; {marginal:.2f} s marginal par rapport")
    print(f"  ratio naïf / batch : {ratio:.1f}x (objectif >= {TARGETS['ratio']:.0f}x)")
    # On a machine shared with other jobs the batch's processes get only a share of the
    # cores; CPU seconds do not depend on that share.
    cores = default_workers()
    print(f"  en CPU : naïf {naive_cpu[0]:.1f} s, batch {batch_cpu:.1f} s, ratio {naive_cpu[0] / batch_cpu:.1f}x ; "
          f"sur {cores} cœurs libres : ratio {naive_cpu[0] / (batch_cpu / cores):.1f}x, Isère "
          f"{(small_wall + ISERE_REPORTS * batch_cpu / len(codes) / cores) / 60:.1f} min "
          "(coût fixe mesuré + CPU par rapport réparti sur les cœurs)")
    print(f"  projection Isère ({ISERE_REPORTS} rapports, PDF + HTML) : {isere / 60:.1f} min "
          f"en répartissant le démarrage sur {len(codes)} rapports (pessimiste), {isere_linear / 60:.1f} min "
          f"en démarrage + débit marginal (objectif < {TARGETS['isere_minutes']:.0f} min)")
    print(f"  charge de la machine (1, 5, 15 min) : {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  relance sans changement : {rerun:.1f} s, {rerun_summary['counts']['skipped']} rapports à jour "
          f"(objectif < {TARGETS['rerun_seconds']:.0f} s)")
    print("  phases dans les workers (médianes) : "
          + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in phases.items()))
    if os.environ.get("BENCH_FULL"):
        # Measured, not projected: every report of the département, on the cached data and masks.
        full = [sys.executable, "-m", "abs_report.cli", "batch", "--departement", "38", "--year", "2024",
                "--outputs", str(work / "full"), "--force", *extra]
        full_wall, full_cpu = _timed_cpu(full)
        built = _latest_summary(work / "full")["counts"]["built"]
        print(f"  Isère entière, mesurée : {built} rapports en {full_wall / 60:.1f} min "
              f"({full_cpu:.0f} s de CPU ; objectif < {TARGETS['isere_minutes']:.0f} min)")
    print("\nProfil d'un rapport")
    print(profile_one(next(iter(prepared.values())), work / "profile"))
    maps_cost(codes, work, workers)

    if not os.environ.get("BENCH_SKIP_PARIS"):
        from benchmarks import paris

        print("\nParis (75056, ~950 IRIS) contre Grenoble, temps par rapport")
        paris.run()
    if os.environ.get("BENCH_SKIP_SECRECY"):
        return 0
    try:
        secrecy_bench = importlib.import_module("benchmarks.secrecy")
    except ModuleNotFoundError as exc:
        if exc.name != "benchmarks.secrecy":
            raise
    else:
        print("\nSecret statistique")
        secrecy_bench.run()
        if hasattr(secrecy_bench, "linked_mask"):
            secrecy_bench.linked_mask()
            secrecy_bench.first_report()
        if hasattr(secrecy_bench, "costs"):  # issue 13: France mask, CPU per report with the series
            secrecy_bench.costs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
