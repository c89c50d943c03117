"""Benchmark: protect and audit the whole Isère linked table for one year.

Run with ``.venv/bin/python -m benchmarks.secrecy`` (or call :func:`run`); the cost of the
QPV (issue 15): ``.venv/bin/python -c "import benchmarks.secrecy as b; b.qpv_cost()"``.
Target (issue 3): under 30 s each on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import resource
import time

import pandas as pd

YEAR = 2024
DEPARTEMENT = "38"


def _observations(geography) -> pd.DataFrame:
    """The demonstration data for one year.

    The generator writes ``iris`` rows coded like the commune (5 characters)
    for communes not split into IRIS; the floor rule refuses those codes, so
    they are left out here (INSEE's code for them is ``<commune>0000``).
    """
    from abs_report.sources.synthetic import generate

    obs = generate(geography, years=(YEAR,)).observations
    iris = obs["zone_level"] == "iris"
    return obs[~iris | (obs["zone_code"].str.len() == 9)]


QPV_LEVELS = ("qpv", "hors_qpv", "qpv_departement", "qpv_piece")


def _published(cells: pd.DataFrame) -> pd.DataFrame:
    """What reports would print: every cell but the QPV ∩ IRIS pieces (never published)."""
    from abs_report.catalogue import MEASURES

    cells = cells[cells["zone_level"] != "qpv_piece"]
    shown = cells["status"] == "published"
    return pd.DataFrame({
        "table_id": "bench", "zone_code": cells["zone_code"], "zone_level": cells["zone_level"],
        "year": cells["year"].astype(str), "measure": cells["measure"],
        "unit": cells["measure"].map(lambda m: MEASURES[m].unit), "numerator": "", "denominator": "",
        "value": cells["value"].map(lambda v: format(v, ".15g")).where(shown, ""), "status": cells["status"]})


def _measure(obs: pd.DataFrame, geography, zones) -> dict:
    """Protect then audit one table; CPU seconds (the wall clock measures the neighbours)."""
    from abs_report.audit import audit_published
    from abs_report.secrecy import load_rules, protect

    start, cpu = time.perf_counter(), time.process_time()
    protection = protect(obs, YEAR, zones, geography, load_rules())
    protect_s, protect_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    # The true values (pieces included) let the audit judge a piece on its real size.
    result = audit_published([_published(protection.cells)], geography, truth=obs)
    audit_s, audit_cpu = time.perf_counter() - start, time.process_time() - cpu
    cells = protection.cells
    piece = cells["zone_level"] == "qpv_piece"
    hidden = cells["status"].str.startswith("secret") & ~piece
    qpv_zone = cells["zone_level"].isin(QPV_LEVELS)
    return {"protect_seconds": round(protect_s, 1), "audit_seconds": round(audit_s, 1),
            "protect_cpu_seconds": round(protect_cpu, 1), "audit_cpu_seconds": round(audit_cpu, 1),
            "cells": len(cells), "piece_cells": int(piece.sum()),
            # Hidden cells of published zones (pieces are never published): of the zones that
            # existed before the QPV, and of the QPV, hors QPV and « ensemble des QPV ».
            "hidden_cells": int(hidden.sum()), "hidden_cells_other_zones": int((hidden & ~qpv_zone).sum()),
            "hidden_cells_qpv_zones": int((hidden & qpv_zone).sum()),
            "audit_checked": result.n_checked,
            "audit_failures": [str(f) for f in result.failures], "mask_hash": protection.mask_hash,
            "passes": protection.passes}


def run(qpv: bool = True) -> dict:
    """Seconds to protect and to audit Isère, with the size of the table and cells hidden per pass.

    ``qpv=False`` leaves the QPV rows (QPV, hors QPV, pieces) out of the demonstration
    data: the table as it was before issue 15, to measure what the QPV cost.
    """
    from abs_report.geography import load_geography
    from abs_report.secrecy import scope_zones

    geography = load_geography()
    obs = _observations(geography)
    if not qpv:
        obs = obs[~obs["zone_level"].isin(QPV_LEVELS)]
    out = _measure(obs, geography, scope_zones(geography, DEPARTEMENT))
    print(json.dumps(out, indent=1))
    return out


def qpv_cost() -> dict:
    """What the QPV add to Isère 2024 (issue 15): cells, hidden cells and CPU seconds, with
    and without the QPV rows, measured in one process (ratios, not absolute times)."""
    without, with_ = run(qpv=False), run(qpv=True)
    keys = ("cells", "piece_cells", "hidden_cells", "hidden_cells_other_zones", "hidden_cells_qpv_zones",
            "protect_cpu_seconds", "audit_cpu_seconds")
    out = {k: {"sans QPV": without[k], "avec QPV": with_[k]} for k in keys}
    out["cpu_ratio_protect"] = round(with_["protect_cpu_seconds"] / max(without["protect_cpu_seconds"], 0.1), 2)
    out["cpu_ratio_audit"] = round(with_["audit_cpu_seconds"] / max(without["audit_cpu_seconds"], 0.1), 2)
    print("Coût des QPV (Isère 2024) :")
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    run()


def linked_mask() -> dict:
    """Cold CPU seconds of the parts of the one mask a Grenoble report reads (issue 13), per year.

    ``BENCH_FRANCE_ONE_PIECE=1`` also protects all of France in one piece (the alternative measured
    and rejected in docs/SECRECY.md: about a minute to read the data and far more to protect).
    """
    import tempfile
    from pathlib import Path

    from abs_report import secrecy
    from abs_report.dataref import DataRef
    from abs_report.geography import load_geography

    geography = load_geography()
    zones = [geography.zone("commune", "38185"), geography.zone("epci", "200040111")]
    data = DataRef.parse("demo", Path(".")).load(secrecy.departements_needed(geography, zones))
    out, isere = {}, {}
    for year in data.years():
        cpu, memo = time.process_time(), {}
        try:
            protection = secrecy.protect_zones("demo", data.observations, year, zones, geography,
                                               secrecy.load_rules(), Path(tempfile.mkdtemp()), memo)
            hidden = int(protection.cells["status"].str.startswith("secret").sum())
        except secrecy.UnprotectedCells:
            hidden = None
        out[year] = {"cpu_seconds": round(time.process_time() - cpu, 1), "hidden_cells": hidden}
        part = memo.get((year, f"departement:{DEPARTEMENT}"))
        if isinstance(part, secrecy.Protection):
            isere[year] = _hidden_by_pass(part.cells)
    print("Parties du masque lu par Grenoble et Cœur de Chartreuse (Isère, Savoie, EPCI), à froid :")
    print(json.dumps(out, indent=1))
    print("Cellules cachées par année, partie Isère du masque (département, ses communes, IRIS et EPCI) :")
    print(json.dumps(isere, indent=1))
    if os.environ.get("BENCH_FRANCE_ONE_PIECE"):
        obs = DataRef.parse("demo", Path(".")).load().observations
        zones_fr = sorted({("commune", c) for c in geography.communes.index}
                          | {("epci", e) for e in geography.epcis.index}
                          | {("departement", d) for d in geography.departements.index}
                          | {("region", r) for r in geography.regions.index} | {("france", "FR")})
        cpu = time.process_time()
        secrecy.protect(obs, YEAR, zones_fr, geography, secrecy.load_rules())
        print(f"France entière, un seul masque {YEAR} : {time.process_time() - cpu:.0f} s de CPU")
    return out


def _hidden_by_pass(cells: pd.DataFrame) -> dict:
    """Cells of a département's part of the mask hidden by each pass (régions and France left out).

    The QPV ∩ IRIS pieces, never published, are counted apart: the other counts are of
    cells a report could print.
    """
    own = cells[~cells["zone_level"].isin(["region", "france"])]
    piece = own["zone_level"] == "qpv_piece"
    counts, pieces = own.loc[~piece, "status"].value_counts(), own.loc[piece, "status"].value_counts()
    return {"primary": int(counts.get("secret_primary", 0)), "threshold": int(counts.get("secret_threshold", 0)),
            "secondary": int(counts.get("secret_secondary", 0)), "cells": int((~piece).sum()),
            "piece_cells": int(piece.sum()), "piece_cells_secondary": int(pieces.get("secret_secondary", 0))}


def first_report() -> float:
    """Wall seconds of ``abs-report render params/grenoble.yml`` with no mask cached (demo data kept)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from abs_report.sources.synthetic import demo_folder

    cache = Path(tempfile.mkdtemp())
    demo = demo_folder()
    (cache / demo.name).symlink_to(demo)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "abs_report.cli", "render", "params/grenoble.yml", "--outputs",
                    str(cache / "out")], check=True, env={**os.environ, "ABS_REPORT_CACHE": str(cache)},
                   stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"Premier rapport (Grenoble, aucun masque en cache, 5 années) : {seconds:.0f} s (objectif ≤ 45 s) ; "
          f"{cpu:.0f} s de CPU, tous processus (masques des années calculés côte à côte) ; {cache / 'out'}")
    return seconds


def _one_year_dataset(folder, year: int):
    """The demonstration data of one year only, written as a dataset folder (``--data``)."""
    from dataclasses import replace

    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from abs_report.observations import Dataset, load_meta, save
    from abs_report.sources.synthetic import demo_folder

    demo = demo_folder()
    table = pads.dataset(demo / "observations.parquet").to_table(filter=pc.field("year") == year)
    save(Dataset(replace(load_meta(demo), years=(year,)), table.to_pandas()), folder)
    return folder


def series_cost() -> dict:
    """The batch's CPU per report with the five-year series, and with one year of the same data.

    Same method as ``make bench``'s batch (``BENCH_N`` Isère communes, ``--force``, CPU of every
    process over the number of reports, masks cached beforehand). Without the series is a
    dataset folder holding 2024 only (``--data``): the evolution chapter then has one year.
    """
    import tempfile
    from pathlib import Path

    from benchmarks.__main__ import _batch_command, _communes, _timed_cpu

    codes = _communes(int(os.environ.get("BENCH_N", "20")))
    work = Path(tempfile.mkdtemp(prefix="abs-bench-series-"))
    one_year = _one_year_dataset(work / "demo-2024", YEAR)
    out = {}
    for label, extra in (("five_years", []), ("one_year", ["--data", str(one_year)])):
        # Untimed first: every mask part the reports read (their straddling EPCI tie Isère to other
        # départements) is cached, as the main bench's prepare_all does before its batch.
        _timed_cpu(_batch_command(codes, work / label, *extra))
        wall, cpu = _timed_cpu(_batch_command(codes, work / label, "--force", *extra))
        out[label] = {"cpu_seconds_per_report": round(cpu / len(codes), 2), "wall_seconds": round(wall, 1)}
    out["ratio"] = round(out["five_years"]["cpu_seconds_per_report"] / out["one_year"]["cpu_seconds_per_report"], 3)
    print(f"Batch de {len(codes)} communes, CPU par rapport : cinq années {out['five_years']['cpu_seconds_per_report']} s, "
          f"une seule année {out['one_year']['cpu_seconds_per_report']} s, rapport {out['ratio']} "
          "(objectif : au plus 1,10 par rapport à avant la série)")
    return out


def _year_rows(folder, departements, year: int):
    """Observations of ``year``: communes and IRIS of ``departements`` (``[]``: wide zones only)."""
    from abs_report.observations import load

    obs = load(folder, departements).observations
    obs = obs[obs["year"] == year]
    local = obs["zone_level"].isin(["commune", "iris"])
    # Same filter as _observations(): the generator's 5-character IRIS codes are refused by the floor rule.
    return obs[~local | (obs["zone_level"] == "commune") | (obs["zone_code"].str.len() == 9)]


_FRANCE: dict = {}
"""What :func:`france_mask`'s workers share (set before they fork)."""


def _france_part(part: str, fixed: list) -> tuple:
    """Build one part from an empty cache, in a worker: ``(part, protection or None, error, CPU-s)``."""
    from abs_report.secrecy import UnprotectedCells, load_or_protect
    from abs_report.secrecy.scope import WIDE, part_zones

    geography, year, local = _FRANCE["geography"], _FRANCE["year"], _FRANCE["local"]
    cpu = time.process_time()
    zones = part_zones(geography, part)
    deps_of = sorted({c for lv, c in zones if lv == "departement"}) if part != WIDE else []
    for d in deps_of:
        if d not in local:  # read once per worker; a forked worker keeps what it read
            rows = _year_rows(_FRANCE["folder"], [d], year)
            local[d] = rows[rows["zone_level"].isin(["commune", "iris"])]
    obs = pd.concat([_FRANCE["wide_rows"]] + [local[d] for d in deps_of], ignore_index=True)
    try:
        protection, error = load_or_protect("demo", obs, year, zones, geography, _FRANCE["rules"],
                                            _FRANCE["cache"], fixed=fixed), None
    except UnprotectedCells as exc:
        protection, error = None, f"{part} : {exc}"
    return part, protection, error, time.process_time() - cpu


def _france_call(args):
    return _france_part(*args)


def france_mask(year: int = YEAR, sample: int = 1, workers: int | None = None) -> dict:
    """CPU seconds, wall seconds and peak memory to build every part of the one mask of ``year`` for France.

    Every part, in the order :func:`abs_report.secrecy.linked.closure` gives: ``wide``, each
    département, each straddling EPCI, from an empty mask cache. The départements' parts read only
    ``wide`` as fixed, so they are built side by side on ``workers`` forked processes (default
    ``BENCH_WORKERS`` or 2, the cores of the team's machine; 1 = in this process), then the EPCI
    parts the same way; data are read per département, once per worker (what a batch reads).
    CPU seconds are those of every process. ``sample`` > 1 builds every ``sample``-th straddling
    EPCI with its départements only, and extrapolates to France: départements by their number of
    communes, EPCI parts by their number; printed as such.
    """
    import multiprocessing
    import tempfile
    from pathlib import Path

    from abs_report.dataref import DataRef
    from abs_report.geography import load_geography
    from abs_report.secrecy import load_rules
    from abs_report.secrecy.linked import closure
    from abs_report.secrecy.scope import WIDE, parts_fixed_before, straddling_epcis

    workers = int(os.environ.get("BENCH_WORKERS", "2")) if workers is None else workers
    geography, rules = load_geography(), load_rules()
    folder, cache = DataRef.parse("demo", Path(".")).folder(), Path(tempfile.mkdtemp())
    every_epci = sorted(straddling_epcis(geography))
    straddling = every_epci[::sample]
    deps = sorted(geography.departements.index) if sample == 1 else sorted(
        set(geography.communes.loc[geography.communes["epci"].isin(straddling), "departement"]))
    parts = closure(geography, [WIDE] + [f"departement:{d}" for d in deps] + [f"epci:{e}" for e in straddling])
    wall, cpu0 = time.perf_counter(), time.process_time()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    _FRANCE.update(geography=geography, rules=rules, year=year, folder=folder, cache=cache, local={},
                   wide_rows=_year_rows(folder, [], year))
    done, seconds, failed, skipped = {}, {}, [], []
    # Waves: wide, then the départements (they read wide only), then the EPCI parts.
    waves = [[p for p in parts if p == WIDE], [p for p in parts if p.startswith("departement:")],
             [p for p in parts if p != WIDE and not p.startswith("departement:")]]
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        for wave in waves:
            jobs = []
            for part in wave:
                fixed = [done.get(b) for b in parts_fixed_before(geography, part)]
                if any(f is None for f in fixed):
                    skipped.append(part)  # a part it reads as fixed failed: it cannot be built either
                else:
                    jobs.append((part, fixed))
            results = pool.imap_unordered(_france_call, jobs) if pool and len(jobs) > 1 else map(_france_call, jobs)
            for part, protection, error, cpu in results:
                done[part], seconds[part] = protection, cpu
                if error:
                    failed.append(error)
    finally:
        if pool:
            pool.close()
            pool.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (time.process_time() - cpu0) + (children.ru_utime - children0.ru_utime) + (
        children.ru_stime - children0.ru_stime)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss)
    communes = int(geography.communes["departement"].isin(deps).sum())
    out = {"year": year, "parts": len(seconds), "departements": len(deps), "straddling_epcis": len(straddling),
           "workers": workers, "cpu_seconds": round(total, 1), "cpu_seconds_in_parts": round(sum(seconds.values()), 1),
           "wall_seconds": round(time.perf_counter() - wall, 1),
           "peak_rss_mb": round(peak / 1024), "peak_rss_is": "largest process (ru_maxrss)",
           "slowest_parts": {p: round(s, 1) for p, s in sorted(seconds.items(), key=lambda x: -x[1])[:5]},
           "slowest_epci_parts": {p: round(s, 1) for p, s in sorted(
               ((p, s) for p, s in seconds.items() if p.startswith("epci:")), key=lambda x: -x[1])[:3]},
           "failed_parts": failed, "parts_not_built_after_a_failure": skipped}
    if sample > 1:
        by_kind = {k: sum(v for p, v in seconds.items() if p.startswith(k)) for k in ("departement:", "epci:")}
        out["cpu_seconds_departements"] = round(by_kind["departement:"], 1)
        out["cpu_seconds_epci"] = round(by_kind["epci:"], 1)
        # The parts' own CPU scaled to France, plus what is not in a part (data read, workers) as measured.
        france = (seconds.get(WIDE, 0.0) + by_kind["departement:"] * len(geography.communes) / communes
                  + by_kind["epci:"] * len(every_epci) / max(1, len(straddling)))
        out["france_cpu_seconds_extrapolated"] = round(france + total - sum(seconds.values()))
        out["france_wall_seconds_estimated"] = round(out["france_cpu_seconds_extrapolated"] / workers)
    label = "France entière" if sample == 1 else (
        f"un EPCI à cheval sur {sample} et leurs départements ({communes} communes), extrapolé à la France")
    print(f"Masque {year} en parties, {label}, cache vide, {workers} processus :")
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return out


def costs() -> None:
    """The costs issue 13 asks ``make bench`` to print, after :func:`linked_mask` and :func:`first_report`.

    The France-wide mask in parts: every part with ``BENCH_FRANCE=1`` (about 10 CPU-minutes),
    else one département in ``BENCH_FRANCE_SAMPLE`` (default 10), extrapolated; then the
    batch's CPU per report with and without the five-year series (:func:`series_cost`).
    """
    france_mask(YEAR, 1 if os.environ.get("BENCH_FRANCE") else int(os.environ.get("BENCH_FRANCE_SAMPLE", "10")))
    series_cost()


def linked_audit() -> dict:
    """Every year's parts a Grenoble and a Cœur de Chartreuse report read, protected, then attacked.

    The independent audit (:func:`abs_report.audit.audit_published`) reads all their cells as
    published, with the true values (pieces included), year by year: the failures must be 0.
    Uses the machine's mask cache (cold or not: the protection is not what is timed here).
    """
    from pathlib import Path

    from abs_report import secrecy
    from abs_report.audit import audit_published
    from abs_report.dataref import DataRef
    from abs_report.geography import load_geography
    from abs_report.paths import cache_dir

    geography = load_geography()
    zones = [geography.zone("commune", "38185"), geography.zone("epci", "200040111")]
    data = DataRef.parse("demo", Path(".")).load(secrecy.departements_needed(geography, zones))
    obs = data.observations
    out = {}
    for year in data.years():
        protection = secrecy.protect_zones("demo", obs, year, zones, geography, secrecy.load_rules(), cache_dir())
        cpu = time.process_time()
        result = audit_published([_published(protection.cells)], geography, truth=obs[obs["year"] == year])
        out[year] = {"cells": len(protection.cells), "audit_checked": result.n_checked,
                     "audit_cpu_seconds": round(time.process_time() - cpu, 1),
                     "audit_failures": [str(f) for f in result.failures][:5]}
    print("Audit indépendant des parties du masque lues par Grenoble et Cœur de Chartreuse, par année :")
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return out
