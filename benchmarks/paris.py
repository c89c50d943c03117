"""Benchmark: Paris (commune 75056, about 950 IRIS) against Grenoble, time per report.

Run with ``.venv/bin/python -m benchmarks.paris`` (or call :func:`run`; ``make bench``
does after the other benchmarks unless ``BENCH_SKIP_PARIS`` is set).

Each report is rendered twice with ``abs-report render``: first with no secrecy
mask in the cache (the masks of the report's scope are computed: Paris's scope is
the Métropole du Grand Paris, 131 communes and about 3,200 IRIS), then again with
the masks cached. Prints seconds and the Paris / Grenoble ratio of each; a ratio
near the size ratio of the two scopes is the goal (issue 18, item 10: Paris never
finished before, see docs/SECURITY-faults.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPORTS = {
    "Grenoble": {"level": "commune", "code": "38185"},
    "Paris": {"level": "commune", "code": "75056"},
}
YEAR = 2024


def _params(folder: Path, name: str, territory: dict) -> Path:
    import yaml

    path = folder / f"{name.lower()}.yml"
    path.write_text(yaml.safe_dump({"territory": territory, "year": YEAR, "title": "Banc d'essai",
                                    "recipient": "Banc d'essai", "purpose": "Mesure",
                                    "formats": ["pdf", "html"], "data": "demo"}, allow_unicode=True),
                    encoding="utf-8")
    return path


def _render(params: Path, outputs: Path, cache: Path) -> float:
    env = {**os.environ, "ABS_REPORT_CACHE": str(cache)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "abs_report.cli", "render", str(params), "--outputs", str(outputs)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def run() -> dict[str, float]:
    """Render each report cold (masks computed) then warm; print the seconds and the ratios."""
    from abs_report.paths import cache_dir
    from abs_report.sources.synthetic import demo_folder

    demo_folder()  # generated once into the project's cache, untimed
    work = Path(tempfile.mkdtemp(prefix="abs-bench-paris-"))
    try:
        # A private cache holding the demo data but no mask: every first render computes its masks.
        cache = work / "cache"
        cache.mkdir()
        for entry in Path(cache_dir()).iterdir():
            if entry.name != "masks":
                (cache / entry.name).symlink_to(entry.resolve())
        times = {}
        for name, territory in REPORTS.items():
            params = _params(work, name, territory)
            times[f"{name} cold"] = _render(params, work / "out", cache)
            times[f"{name} warm"] = _render(params, work / "out", cache)
        for kind in ("cold", "warm"):
            ratio = times[f"Paris {kind}"] / times[f"Grenoble {kind}"]
            label = "masques calculés" if kind == "cold" else "masques en cache"
            print(f"  {label} : Paris {times[f'Paris {kind}']:.1f} s, Grenoble {times[f'Grenoble {kind}']:.1f} s, "
                  f"ratio Paris / Grenoble {ratio:.2f}", flush=True)
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run()
