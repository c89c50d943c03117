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
