"""Benchmark: protect and audit the whole Isère linked table for one year.

Run with ``.venv/bin/python -m benchmarks.secrecy`` (or call :func:`run`); the cost of the
QPV (issue 15): ``.venv/bin/python -c "import benchmarks.secrecy as b; b.qpv_cost()"``.
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
