"""Benchmark: what maps cost, in a batch and map by map.

``make bench`` calls :func:`batch_cost`: the same batch (``BENCH_N`` communes, then
a couple of EPCI, whose reports carry commune choropleths) built with and without
maps (``abs-report batch --no-maps``, that is ``maps: false``), in the same run; it
prints the CPU seconds per report of the batch's whole process tree, their ratio,
and the bytes of map SVG each report carries. ``BENCH_ONLY=maps`` runs only that.

``.venv/bin/python -m benchmarks.maps`` prints the one-off cost a process pays
(imports, reading the geometry, the first map that builds the cached paths) and
the median CPU seconds of each kind of map once the base layers are prepared.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPEAT = 5
EPCI = ("200040715", "243800984")
"""Grenoble-Alpes-Métropole (49 communes) and the Pays Voironnais (31): their reports map communes."""
TARGET = 0.15
"""The issue's bound on the increase of a batch's CPU per report due to maps."""


def _frame(codes, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"zone_code": list(codes), "value": np.round(rng.uniform(2, 40, len(codes)), 1),
                          "status": "published"})
    frame.loc[frame.index % 13 == 0, "status"] = "secret_primary"
    frame.loc[frame.index % 29 == 0, "status"] = "missing"
    return frame


def _cpu(action) -> float:
    start = time.process_time()
    action()
    return time.process_time() - start


def run() -> dict[str, float]:
    """Time each kind of map; returns median CPU seconds by kind."""
    warnings.filterwarnings("ignore", message="Numba not installed")
    start = time.process_time()
    from abs_report import maps
    from abs_report.geometry import load_geometry

    geometry = load_geometry()
    import mapclassify  # noqa: F401: its import (scikit-learn) is a one-off cost of a process

    setup = time.process_time() - start
    grenoble = _frame([c for c in geometry.iris.index if c.startswith("38185")], 1)
    communes = _frame(geometry.communes.index, 2)
    epci = _frame(geometry.communes.index[geometry.communes["epci"] == "200040715"], 3)
    kinds = {
        "locator (commune)": lambda: maps.to_svg(maps.locator_map("commune", "38185")),
        "IRIS of Grenoble + 4 QPV": lambda: maps.to_svg(maps.choropleth(
            grenoble, "iris", "Taux", "percent", qpv=["QN03806M", "QN03807M", "QN03808M", "QN03809M"])),
        "communes of an EPCI (49)": lambda: maps.to_svg(maps.choropleth(epci, "commune", "Taux", "percent")),
        "communes of Isère (512)": lambda: maps.to_svg(maps.choropleth(communes, "commune", "Taux", "percent")),
    }
    first = {name: _cpu(action) for name, action in kinds.items()}
    medians = {name: statistics.median(_cpu(action) for _ in range(REPEAT)) for name, action in kinds.items()}
    print(f"one-off per process: imports + geometry {setup:.2f} s CPU")
    for name in kinds:
        print(f"{name:28s} first {first[name]:.3f} s, then median {medians[name]:.3f} s CPU per map")
    sizes = {name: len(action()) for name, action in list(kinds.items())[1:2]}
    for name, size in sizes.items():
        print(f"SVG size, {name}: {size / 1024:.0f} KiB")
    return medians


def _batch(level: str, codes, outputs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "abs_report.cli", "batch", "--departement", "38", "--year", "2024",
            "--levels", level, "--zones", ",".join(codes), "--outputs", str(outputs), "--force", *extra]


def map_svg_bytes(notebook: Path) -> int:
    """Bytes of the map figures (``Carte : ...`` captions) in an executed report notebook."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    total = 0
    for output in (o for c in cells for o in c.get("outputs", ())):
        caption = output.get("metadata", {}).get("image/svg+xml", {}).get("abs_report", {}).get("caption", "")
        if "Carte" in caption:
            svg = output["data"]["image/svg+xml"]  # nbformat may store text as a list of lines
            total += len(("".join(svg) if isinstance(svg, list) else svg).encode("utf-8"))
    return total


def _sizes(outputs: Path) -> dict[str, float]:
    """Mean bytes per report: map SVG, notebook, PDF, HTML."""
    folders = [p.parent for p in outputs.glob("*/2024/report.ipynb")]
    mean = lambda values: statistics.mean(values) if values else 0.0  # noqa: E731
    return {"svg": mean([map_svg_bytes(f / "report.ipynb") for f in folders]),
            "ipynb": mean([(f / "report.ipynb").stat().st_size for f in folders]),
            "pdf": mean([(f / "report.pdf").stat().st_size for f in folders]),
            "html": mean([(f / "report.html").stat().st_size for f in folders])}


def batch_cost(communes, work: Path, timed_cpu, workers: str | None = None) -> dict[str, float]:
    """CPU per report of the same batch with and without maps; returns the increases by level.

    Each batch runs twice, without, with, with, without maps (means): the dataset cut and
    the masks are already cached (``make bench`` prepared them), so every run only builds
    reports. Each run pays the same fixed cost (start-up, the kernels' zygote, which also
    reads the geometry and prepares the base layers, maps or not).
    """
    from abs_report import batch
    from abs_report.geography import load_geography

    extra = ("--workers", workers) if workers else ()
    geography = load_geography()
    batch.prewarm(batch.plan(geography, "38", 2024, levels=["epci"], zones=list(EPCI), root=work / "prewarm"))
    increases = {}
    for level, codes in (("commune", list(communes)), ("epci", list(EPCI))):
        cpu, sizes = {"sans": [], "avec": []}, {}
        # Without, with, with, without: a drift of the machine's load weighs on both alike.
        for label in ("sans", "avec", "avec", "sans"):
            folder = work / f"maps-{level}-{label}"
            switch = ("--no-maps",) if label == "sans" else ()
            cpu[label].append(timed_cpu(_batch(level, codes, folder, *switch, *extra))[1] / len(codes))
            sizes[label] = _sizes(folder)
        runs = {label: ", ".join(f"{v:.2f}" for v in values) for label, values in cpu.items()}
        cpu = {label: statistics.mean(values) for label, values in cpu.items()}
        increase = cpu["avec"] / cpu["sans"] - 1
        increases[level] = increase
        print(f"  {len(codes)} {level}(s) : {cpu['sans']:.2f} s CPU par rapport sans cartes, {cpu['avec']:.2f} s avec, "
              f"soit {increase:+.1%} (objectif < +{TARGET:.0%}) ; mesures : sans {runs['sans']}, avec {runs['avec']}")
        print(f"    par rapport : cartes {sizes['avec']['svg'] / 1024:.0f} Kio de SVG ; notebook "
              f"{sizes['sans']['ipynb'] / 1024:.0f} -> {sizes['avec']['ipynb'] / 1024:.0f} Kio, PDF "
              f"{sizes['sans']['pdf'] / 1024:.0f} -> {sizes['avec']['pdf'] / 1024:.0f} Kio, HTML "
              f"{sizes['sans']['html'] / 1024:.0f} -> {sizes['avec']['html'] / 1024:.0f} Kio")
    return increases


if __name__ == "__main__":
    run()
