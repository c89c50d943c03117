"""``manifest.json``: where a report comes from, so that an auditor can reproduce it.

Everything that must reproduce (inputs, code, environment, output hashes) is
kept apart from what may differ between runs (the time of the run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__
from .paths import PROJECT_ROOT, project_file

HASHED_OUTPUTS = ("published.csv", "report.pdf", "report.html", "report.ipynb", "tables.xlsx")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _git() -> dict:
    def run(*args):
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    commit = run("rev-parse", "HEAD")
    return {"commit": commit or None, "dirty": bool(run("status", "--porcelain")) if commit else None}


def _packages() -> dict[str, str]:
    lock = project_file("requirements.lock")
    names = [line.split("==")[0] for line in lock.read_text().splitlines() if "==" in line]
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _tools() -> dict[str, str]:
    import pypandoc
    import typst

    return {"python": platform.python_version(), "pandoc": pypandoc.get_pandoc_version(),
            "typst": metadata.version("typst"), "abs_report": __version__,
            "typst_module": getattr(typst, "__version__", metadata.version("typst"))}


def build(folder: Path, prepared, renderer: str) -> dict:
    params, meta = prepared.params, prepared.dataset.meta
    return {
        "reproducible": {
            "parameters": {"file": str(params.source), "as_given": params.raw,
                           "resolved": {"territory": [params.territory.level, params.territory.code],
                                        "comparison_zones": [[z.level, z.code] for z in params.comparison_zones],
                                        "year": params.year, "formats": list(params.formats)}},
            "dataset": meta.to_json(),
            "secrecy": {"rules_version": prepared.protection.rules_version,
                        "mask_hash": prepared.protection.mask_hash},
            "code": {"version": __version__, **_git()},
            "environment": {**_tools(), "packages": _packages()},
            "renderer": renderer,
            "outputs": {name: sha256(folder / name) for name in HASHED_OUTPUTS if (folder / name).exists()},
        },
        "run": {"started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "host": platform.node(),
                "note": "varies between runs; not part of what must reproduce"},
    }


def write(folder: Path, prepared, renderer: str) -> Path:
    path = folder / "manifest.json"
    path.write_text(json.dumps(build(folder, prepared, renderer), ensure_ascii=False, indent=2,
                               sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path
