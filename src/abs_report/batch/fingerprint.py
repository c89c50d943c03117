"""A report's fingerprint: everything its bytes depend on, so that an unchanged report is skipped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from .. import __version__
from ..manifest import sha256
from ..geography import Zone
from ..params import ReportParams
from ..paths import PACKAGE_DIR, project_file


FINGERPRINT_FILE = ".fingerprint.json"

NOT_REPORT_CODE = ("abs_report.batch", "abs_report.commands", "abs_report.catalog_page", "abs_report.cli")
"""Modules and packages a report's bytes do not depend on: how reports are scheduled and listed."""


def _module_of(path: Path) -> str:
    """``src/abs_report/batch/plan.py`` -> ``abs_report.batch.plan`` (data files keep their suffix)."""
    relative = path.relative_to(PACKAGE_DIR.parent)
    parts = relative.with_suffix("").parts if path.suffix == ".py" else relative.parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_report_code(path: Path) -> bool:
    module = _module_of(path)
    return not any(module == name or module.startswith(name + ".") for name in NOT_REPORT_CODE)


@cache
def code_identity() -> dict:
    """Hashes of the notebook, templates, format options and package code a report depends on.

    Code is named by package, not by file name: moving a module within
    ``abs_report.batch`` does not change a report's fingerprint, moving one into
    the report path does.
    """
    def hashes(paths: Iterable[Path], base: Path) -> dict[str, str]:
        return {str(p.relative_to(base)): sha256(p) for p in sorted(paths) if p.is_file()}

    package = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".yml", ".yaml", ".json", ".gz")
               and "__pycache__" not in p.parts and _is_report_code(p)]
    return {
        "version": __version__,
        "notebook": hashes([project_file("notebooks", "report.ipynb")], project_file()),
        "templates": hashes(project_file("templates").glob("*"), project_file()),
        "format_options": hashes([project_file("_quarto.yml")], project_file()),
        "package": hashlib.sha256(json.dumps(hashes(package, PACKAGE_DIR), sort_keys=True)
                                  .encode()).hexdigest(),
    }


def parameter_values(params: ReportParams) -> dict:
    """What a parameter file says, resolved (a file and the defaults giving the same values agree)."""
    def zone(z: Zone) -> list:
        # Members by hash: France has 35,000 of them.
        return [z.level, z.code, z.name, hashlib.sha256(",".join(z.members).encode()).hexdigest()[:16]]

    return {"territory": zone(params.territory),
            "comparison_zones": [zone(z) for z in params.comparison_zones],
            "year": params.year, "title": params.title, "recipient": params.recipient,
            "purpose": params.purpose, "formats": list(params.formats), "data": params.data}


def fingerprint_components(params: ReportParams, renderer: str) -> dict:
    """Everything a report's bytes depend on.

    The secrecy masks are not read here: a mask is a function of the data
    (identified here), of the rules and of the suppression code (both in the
    package hash) and of the scope (the COG, in the package too), so it cannot
    change while these stay the same. The mask hashes a report was built with
    are recorded beside the fingerprint, for the audit trail.
    """
    from ..pipeline import default_edition

    return {
        "parameters": parameter_values(params),
        "dataset": params.data_ref.identity(),
        "code": code_identity(),
        "renderer": renderer,
        "edition": default_edition(params).isoformat(),  # SOURCE_DATE_EPOCH is read there, once
    }


def digest(components: dict) -> str:
    return hashlib.sha256(json.dumps(components, sort_keys=True, default=str).encode()).hexdigest()


def expected_files(params: ReportParams) -> list[str]:
    from ..pipeline import OUTPUT_FILES

    return [name for name in OUTPUT_FILES
            if not name.startswith("report.") or name == "report.ipynb" or name[7:] in params.formats]


def is_up_to_date(folder: Path, fingerprint: str, params: ReportParams) -> bool:
    """The folder holds every expected file and was built from these very inputs."""
    try:
        stored = json.loads((folder / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stored.get("digest") == fingerprint and all((folder / n).is_file() for n in expected_files(params))


def write_fingerprint(folder: Path, fingerprint: str, components: dict, masks: dict | None = None) -> None:
    """``.fingerprint.json``: the digest, what it was computed from, the mask hashes used."""
    payload = {"digest": fingerprint, "components": components, "secrecy_mask_hashes": masks or {}}
    (folder / FINGERPRINT_FILE).write_text(json.dumps(payload,
                                                      ensure_ascii=False, indent=2, sort_keys=True,
                                                      default=str) + "\n", encoding="utf-8")
