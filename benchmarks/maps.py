"""Benchmark: drawing maps (figure + SVG) from the packaged geometry.

Run with ``.venv/bin/python -m benchmarks.maps`` (not part of ``make bench`` yet:
maps are not in the reports). Prints the one-off cost a process pays (imports,
reading the geometry, the first map that builds the cached paths) and the median
CPU seconds of each kind of map once the base layers are prepared.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pandas as pd

REPEAT = 5


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


if __name__ == "__main__":
    run()
