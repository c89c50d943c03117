"""``manifest.json``: where a report comes from, so that an auditor can reproduce it.

Two parts. ``reproducible`` holds everything that must come out the same when
the report is built again from the same inputs: the parameter file (its text,
as given, and resolved), every input file with its SHA-256 and size (or the
synthetic generator's version and seed), the secrecy rules version and mask
hash, the code (git commit, dirty flag), the environment (Python, every pinned
package, pandoc, Typst), the renderer, the edition date, the erratum of a
re-issue, and the hashes of the outputs. ``run`` holds what differs from one
run to the next (when, where, how long) and is never compared.

Paths are relative to the report folder, so that a report folder copied to
another machine beside the same data files can still be verified.

The executed notebook carries papermill's execution timings; its hash is
computed with exactly those fields removed (listed under
``outputs["report.ipynb"]["excluded_fields"]``), see :func:`notebook_digest`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__
from .paths import PROJECT_ROOT, project_file

FORMAT = 2
"""Layout version of this file; bump when a field changes meaning."""
MANIFEST = "manifest.json"
HASHED_OUTPUTS = ("published.csv", "report.pdf", "report.html", "report.ipynb", "tables.xlsx")
DATASET_FILES = ("dataset.json", "observations.parquet")
"""The files of a dataset folder a report reads."""
INJECTED_CELL_ID = "injected-parameters"
"""papermill gives its injected cell a random id; we give it this one."""
TIMING_FIELDS = (
    "metadata.papermill.start_time",
    "metadata.papermill.end_time",
    "metadata.papermill.duration",
    "cells[*].metadata.papermill.start_time",
    "cells[*].metadata.papermill.end_time",
    "cells[*].metadata.papermill.duration",
    "cells[*].metadata.execution",
)
"""papermill's (and nbclient's) execution timings: the only fields left out of the notebook hash."""


# --- file names of a version -------------------------------------------------------------

def versioned(name: str, version: int) -> str:
    """``report.pdf`` of version 2 is ``report-v2.pdf``; version 1 keeps the plain name."""
    if version <= 1:
        return name
    stem, dot, ext = name.partition(".")
    return f"{stem}-v{version}{dot}{ext}"


def versions(folder: Path) -> list[int]:
    """Versions of the report in ``folder`` (those with a manifest), in order."""
    found = [1] if (Path(folder) / MANIFEST).exists() else []
    for path in Path(folder).glob("manifest-v*.json"):
        number = path.stem.removeprefix("manifest-v")
        if number.isdigit() and int(number) > 1:
            found.append(int(number))
    return sorted(found)


def read(folder: Path, version: int | None = None) -> dict:
    """The manifest of one version (default: the latest) of the report in ``folder``."""
    from .errors import InputError, Problem

    available = versions(folder)
    if not available:
        raise InputError(Problem(str(folder), f"pas de {MANIFEST} : ce dossier n'est pas un dossier de rapport"))
    version = available[-1] if version is None else version
    if version not in available:
        raise InputError(Problem(str(folder), f"version {version} absente ; versions présentes : "
                                 + ", ".join(map(str, available)), field="version", value=version))
    path = Path(folder) / versioned(MANIFEST, version)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"manifeste illisible : {exc}")) from None


# --- hashes ----------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (data files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: Path) -> dict:
    """``{"sha256", "size"}`` of a file."""
    return {"sha256": sha256(path), "size": Path(path).stat().st_size}


def _without_timings(notebook: dict) -> dict:
    """A copy of a notebook without the fields of :data:`TIMING_FIELDS`."""
    nb = json.loads(json.dumps(notebook))
    for key in ("start_time", "end_time", "duration"):
        nb.get("metadata", {}).get("papermill", {}).pop(key, None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
        for key in ("start_time", "end_time", "duration"):
            meta.get("papermill", {}).pop(key, None)
    return nb


def notebook_digest(path: Path) -> str:
    """SHA-256 of an executed notebook with papermill's execution timings removed.

    The notebook is serialised the way nbformat writes it (sorted keys,
    one-space indent, UTF-8), so the digest does not depend on how the file
    was indented, only on its content.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    text = json.dumps(_without_timings(nb), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def output_digest(path: Path) -> dict:
    """Hash entry of one output file (the notebook's without its timings)."""
    if Path(path).suffix == ".ipynb":
        # No size: the timings' digits change the file's length from run to run.
        return {"sha256": notebook_digest(path), "hash_of": "notebook without papermill's execution timings",
                "excluded_fields": list(TIMING_FIELDS)}
    return fingerprint(path)


def notebook_timings(path: Path) -> dict:
    """papermill's start, end and duration of a run (kept in the ``run`` part)."""
    meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {}).get("papermill", {})
    return {k: meta.get(k) for k in ("start_time", "end_time", "duration")}


def normalise_notebook(path: Path) -> None:
    """Make an executed notebook's bytes depend on its inputs only (timings aside).

    papermill records the absolute input and output paths (the output is a
    scratch folder with a random name) and gives the injected parameters cell
    a random id; both would change every run. They become the notebook's path
    in the project and ``report.ipynb``, and a fixed id.
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = _relative_to_project(meta.get("input_path"))
        meta["output_path"] = "report.ipynb"
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = INJECTED_CELL_ID
    nbformat.write(nb, str(path))


def _relative_to_project(path: str | None) -> str | None:
    if not path:
        return path
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return Path(path).name


# --- environment -----------------------------------------------------------------------------

def git_state() -> dict:
    """The checkout's commit and whether it had uncommitted changes."""
    def run(*args):
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    commit = run("rev-parse", "HEAD")
    return {"commit": commit or None, "dirty": bool(run("status", "--porcelain")) if commit else None}


def _packages() -> dict[str, str | None]:
    """Installed version of every package pinned in ``requirements.lock`` (a fresh copy)."""
    return dict(_installed_packages())


@functools.cache
def _installed_packages() -> dict[str, str | None]:
    # Looked up once per process: a batch worker writes hundreds of manifests.
    lock = project_file("requirements.lock")
    names = [line.split("==")[0].strip() for line in lock.read_text().splitlines()
             if "==" in line and not line.lstrip().startswith("#")]
    out = {}
    for name in sorted(names, key=str.lower):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _tools() -> dict[str, str]:
    import pypandoc

    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "pandoc": pypandoc.get_pandoc_version(), "typst": metadata.version("typst")}


def environment() -> dict:
    """Versions of Python, pandoc, Typst and every pinned package."""
    return {**_tools(), "packages": _packages()}


# --- inputs ----------------------------------------------------------------------------------

def relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators), for a folder that may move."""
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def input_files(params, meta, folder: Path) -> list[dict]:
    """Every input file of a report, with its hash, size and path relative to ``folder``.

    ``dataset`` files are what the report reads; ``source`` files are what the
    dataset was imported from (their fingerprints are also inside
    ``dataset.json``). The parameter file is under ``parameters``.
    """
    data = params.data_ref.folder_given
    if data is None:  # the demonstration data: regenerated, not read from a file
        return []
    files = [{"role": "dataset", "path": relative(data / name, folder), **fingerprint(data / name)}
             for name in DATASET_FILES]
    for source in meta.inputs:
        recorded = Path(source.path)
        located = recorded if recorded.is_absolute() else data / recorded
        files.append({"role": "source", "path": relative(located, folder), "recorded_path": source.path,
                      "sha256": source.sha256, "size": source.size})
    return files


def parameters(params, folder: Path) -> dict:
    """The parameter file: its text and hash, as given (parsed) and as resolved."""
    source = Path(params.source)
    return {
        "path": relative(source, folder),
        "name": source.name,
        "text": source.read_text(encoding="utf-8"),
        **fingerprint(source),
        "as_given": params.raw,
        "resolved": {
            "territory": _zone(params.territory),
            "comparison_zones": [_zone(z) for z in params.comparison_zones],
            "year": params.year, "title": params.title, "recipient": params.recipient,
            "purpose": params.purpose, "formats": list(params.formats), "data": params.data,
            "maps": params.maps,
            "dataset_folder": (None if params.data_ref.is_demo
                               else relative(params.data_ref.folder_given, folder)),
        },
    }


def _zone(zone) -> dict:
    out = {"level": zone.level, "code": zone.code, "name": zone.name}
    if zone.level == "aggregation":  # COG zones are known by their code; a user's group is not
        out["communes"] = list(zone.members)
    return out


# --- the manifest ----------------------------------------------------------------------------

def version_of(prepared) -> int:
    """1 for a first edition; a re-issue carries its version in its erratum."""
    return prepared.context.version


def build(folder: Path, prepared, renderer: str, edition: dt.date,
          started_at: dt.datetime | None = None) -> dict:
    """The manifest of the report whose files are in ``folder`` under their plain names.

    ``folder`` is where the files are now (the scratch folder); paths are made
    relative to it, which is also right for the final folder as long as the
    scratch folder sits beside it (same depth), as :mod:`pipeline` builds it.
    A re-issue's files are renamed ``<name>-v<n>`` when moved into place; each
    output entry names its final ``file``.
    """
    params, meta = prepared.params, prepared.dataset.meta
    version = version_of(prepared)
    finished = dt.datetime.now(dt.timezone.utc)
    notebook = Path(folder) / "report.ipynb"
    outputs = {name: {"file": versioned(name, version), **output_digest(Path(folder) / name)}
               for name in HASHED_OUTPUTS if (Path(folder) / name).exists()}
    return {
        "format": FORMAT,
        "reproducible": {
            "version": version,
            "parameters": parameters(params, folder),
            "edition": edition.isoformat(),
            "erratum": prepared.context.erratum.to_dict() if prepared.context.erratum else None,
            "inputs": input_files(params, meta, folder),
            "dataset": meta.to_json(),
            "secrecy": {"rules_version": prepared.protection.rules_version,
                        "mask_hash": prepared.protection.mask_hash},
            "code": {"abs_report": __version__, **git_state()},
            "environment": environment(),
            "renderer": renderer,
            "geometry": map_geometry(prepared.context),
            "outputs": outputs,
        },
        "run": {
            "note": "varie d'une exécution à l'autre ; ne fait pas partie de ce qui doit se reproduire",
            "started_at": (started_at or finished).isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "host": platform.node(),
            "notebook": ({**notebook_timings(notebook), "file": fingerprint(notebook)}
                         if notebook.exists() else None),
        },
    }


def map_geometry(ctx) -> dict | None:
    """The contours behind the report's maps (sources, vintage, projection); None without a map."""
    from .geometry import covers, geometry_of, record

    if not ctx.maps:  # ``maps: false``: no contour was drawn
        return None

    geometry = geometry_of(ctx.geometry_folder)
    territory = ctx.territory
    communes = tuple(z.code for z in ctx.communes)
    layers = {"communes": communes, "iris": tuple(z.code for z in ctx.iris)}
    mapped = any(codes and geometry.has_layer(layer) and set(codes) <= set(geometry.layer(layer).index)
                 for layer, codes in layers.items())
    if not (mapped or covers(geometry, territory.level, territory.code, communes)):
        return None
    return {**record(geometry), "origin": "imported" if ctx.geometry_folder else "packaged"}


def write(folder: Path, prepared, renderer: str, edition: dt.date,
          started_at: dt.datetime | None = None) -> Path:
    """Write ``manifest.json`` into ``folder`` (a re-issue renames it ``manifest-v<n>.json``)."""
    path = Path(folder) / MANIFEST
    data = build(folder, prepared, renderer, edition, started_at)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")
    return path
