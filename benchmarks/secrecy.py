"""Benchmark: protect and audit the whole Isère linked table for one year.

Run with ``.venv/bin/python -m benchmarks.secrecy`` (or call :func:`run`).
Target (issue 3): under 30 s each on a 2-core machine.
"""

from __future__ import annotations

import json
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


def _published(cells: pd.DataFrame) -> pd.DataFrame:
    from abs_report.catalogue import MEASURES

    shown = cells["status"] == "published"
    return pd.DataFrame({
        "table_id": "bench", "zone_code": cells["zone_code"], "zone_level": cells["zone_level"],
        "year": cells["year"].astype(str), "measure": cells["measure"],
        "unit": cells["measure"].map(lambda m: MEASURES[m].unit), "numerator": "", "denominator": "",
        "value": cells["value"].map(lambda v: format(v, ".15g")).where(shown, ""), "status": cells["status"]})


def run() -> dict:
    """Seconds to protect and to audit Isère, with the size of the table and cells hidden per pass."""
    from abs_report.audit import audit_published
    from abs_report.geography import load_geography
    from abs_report.secrecy import load_rules, protect, scope_zones

    geography = load_geography()
    obs = _observations(geography)
    zones = scope_zones(geography, DEPARTEMENT)
    # CPU seconds as well: on a shared machine the wall clock measures the neighbours.
    start, cpu = time.perf_counter(), time.process_time()
    protection = protect(obs, YEAR, zones, geography, load_rules())
    protect_s, protect_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    result = audit_published([_published(protection.cells)], geography)
    audit_s, audit_cpu = time.perf_counter() - start, time.process_time() - cpu
    out = {"protect_seconds": round(protect_s, 1), "audit_seconds": round(audit_s, 1),
           "protect_cpu_seconds": round(protect_cpu, 1), "audit_cpu_seconds": round(audit_cpu, 1),
           "cells": len(protection.cells), "audit_checked": result.n_checked,
           "audit_failures": [str(f) for f in result.failures], "mask_hash": protection.mask_hash,
           "passes": protection.passes}
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    run()


def linked_mask() -> dict:
    """Cold CPU seconds of the parts of the one mask a Grenoble report reads (issue 13), per year.

    ``BENCH_FRANCE=1`` also protects all of France in one piece (the alternative measured
    and rejected in docs/SECRECY.md: about a minute to read the data and far more to protect).
    """
    import os
    import tempfile
    from pathlib import Path

    from abs_report import secrecy
    from abs_report.dataref import DataRef
    from abs_report.geography import load_geography

    geography = load_geography()
    zones = [geography.zone("commune", "38185"), geography.zone("epci", "200040111")]
    data = DataRef.parse("demo", Path(".")).load(secrecy.departements_needed(geography, zones))
    out = {}
    for year in data.years():
        cpu = time.process_time()
        try:
            protection = secrecy.protect_zones("demo", data.observations, year, zones, geography,
                                               secrecy.load_rules(), Path(tempfile.mkdtemp()))
            hidden = int(protection.cells["status"].str.startswith("secret").sum())
        except secrecy.UnprotectedCells:
            hidden = None
        out[year] = {"cpu_seconds": round(time.process_time() - cpu, 1), "hidden_cells": hidden}
    print("Parties du masque lu par Grenoble et Cœur de Chartreuse (Isère, Savoie, EPCI), à froid :")
    print(json.dumps(out, indent=1))
    if os.environ.get("BENCH_FRANCE"):
        obs = DataRef.parse("demo", Path(".")).load().observations
        zones_fr = sorted({("commune", c) for c in geography.communes.index}
                          | {("epci", e) for e in geography.epcis.index}
                          | {("departement", d) for d in geography.departements.index}
                          | {("region", r) for r in geography.regions.index} | {("france", "FR")})
        cpu = time.process_time()
        secrecy.protect(obs, YEAR, zones_fr, geography, secrecy.load_rules())
        print(f"France entière, un seul masque {YEAR} : {time.process_time() - cpu:.0f} s de CPU")
    return out


def first_report() -> float:
    """Wall seconds of ``abs-report render params/grenoble.yml`` with no mask cached (demo data kept)."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from abs_report.sources.synthetic import demo_folder

    cache = Path(tempfile.mkdtemp())
    demo = demo_folder()
    (cache / demo.name).symlink_to(demo)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "abs_report.cli", "render", "params/grenoble.yml", "--outputs",
                    str(cache / "out")], check=True, env={**os.environ, "ABS_REPORT_CACHE": str(cache)},
                   stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - start
    print(f"Premier rapport (Grenoble, aucun masque en cache, 5 années) : {seconds:.0f} s (objectif ≤ 45 s)")
    return seconds
