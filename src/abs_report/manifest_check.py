"""A manifest read back from a report folder is untrusted: check it before ``verify`` or ``reissue`` use it.

A report folder may have been sent by anyone. Its ``manifest.json`` says which
parameters, data and files make the report; nothing it says may choose where a
command writes, nor make it read outside the folders the user named:

- the structure and types of every field a command reads are checked
  (:func:`checked`), each problem naming the manifest file, the field and the value;
- the recorded parameters are validated as a parameter file would be; the file
  the re-run reads is written under a fixed name in the command's scratch folder
  (:data:`PARAMS_NAME`), never under the recorded ``parameters.name``;
- paths (``inputs[].path``, ``parameters.resolved.dataset_folder``,
  ``outputs[].file``) are relative; outputs are plain file names in the report
  folder; inputs, once symbolic links are followed, stay inside the folder that
  holds the outputs root (``<project>/outputs/<code>/<year>/`` -> ``<project>``),
  or, with ``--data-dir``, are looked up by file name in that folder
  (:func:`check_input_paths`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path, PurePosixPath

from . import manifest as mf
from .dataref import DEMO
from .errors import InputError, Problem
from .safe_yaml import bad_character, shown

PARAMS_NAME = "params.yml"
"""The only name under which a command writes a manifest's parameters (in its scratch folder)."""
MAX_VERSION = 999
SHA256 = re.compile(r"[0-9a-f]{64}")
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", re.ASCII)
RENDERERS = ("builtin", "quarto")
ROLES = ("dataset", "source")
MAX_PATH = 1000
MAX_INPUTS = 1000
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""A manifest holds a parameter file (64 Kio at most), hashes and versions: far less than this."""


class _Checker:
    """Collects the problems of one manifest, each naming its file and field."""

    def __init__(self, path: Path):
        self.path, self.problems = str(path), []

    def bad(self, field: str, message: str, value=None) -> None:
        self.problems.append(Problem(self.path, message, field=shown(field, 150),
                                     value=shown(value) if isinstance(value, str) else _short(value)))

    def get(self, node: dict, key: str, field: str, kinds, message: str, optional: bool = False):
        """``node[key]`` when it has one of ``kinds`` (bool never counts as int), else a problem."""
        if not isinstance(node, dict):
            return None
        if key not in node:
            if not optional:
                self.bad(f"{field}.{key}".lstrip("."), "champ obligatoire absent du manifeste")
            return None
        value = node[key]
        if value is None and optional:
            return None
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            self.bad(f"{field}.{key}".lstrip("."), message, value)
            return None
        return value


def _short(value):
    text = repr(value)
    return value if len(text) <= 80 else text[:80] + "…"


def relative_path_problem(text: str) -> str | None:
    """Why a recorded path cannot be used as a relative path, or ``None``."""
    if not text or len(text) > MAX_PATH or bad_character(text) or "\\" in text:
        return "chemin vide, trop long ou contenant un caractère interdit"
    if PurePosixPath(text).is_absolute() or re.match(r"[A-Za-z]:", text):
        return "chemin absolu refusé : un manifeste ne donne que des chemins relatifs"
    return None


def checked(manifest, path: Path) -> dict:
    """The ``reproducible`` part of a manifest, once every field a command reads is well formed.

    Raises
    ------
    InputError
        One problem per malformed field, naming ``path``, the field and the value.
    """
    from .params import validation_problems

    c = _Checker(path)
    recorded = c.get({"r": manifest.get("reproducible") if isinstance(manifest, dict) else None}, "r",
                     "reproducible", (dict,), "un dictionnaire est attendu")
    if recorded is None:
        raise InputError(c.problems or Problem(str(path), "champ 'reproducible' absent du manifeste"))
    root = "reproducible"
    version = c.get(recorded, "version", root, (int,), "un nombre entier est attendu")
    if version is not None and not 1 <= version <= MAX_VERSION:
        c.bad(f"{root}.version", f"version hors de la plage admise (1-{MAX_VERSION})", version)
    _check_parameters(c, recorded, root, validation_problems)
    edition = c.get(recorded, "edition", root, (str,), "une date AAAA-MM-JJ est attendue")
    if edition is not None:
        try:
            dt.date.fromisoformat(edition)
        except ValueError:
            c.bad(f"{root}.edition", "une date AAAA-MM-JJ est attendue", edition)
    c.get(recorded, "erratum", root, (dict,), "un dictionnaire est attendu", optional=True)
    renderer = c.get(recorded, "renderer", root, (str,), "un texte est attendu")
    if renderer is not None and renderer not in RENDERERS:
        c.bad(f"{root}.renderer", "moteur de rendu inconnu ; attendu : " + ", ".join(RENDERERS), renderer)
    _check_inputs(c, recorded, root)
    _check_outputs(c, recorded, root)
    dataset = c.get(recorded, "dataset", root, (dict,), "un dictionnaire est attendu")
    if dataset is not None:
        c.get(dataset, "synthetic", f"{root}.dataset", (bool,), "vrai ou faux est attendu", optional=True)
        c.get(dataset, "generator", f"{root}.dataset", (dict,), "un dictionnaire est attendu", optional=True)
    secrecy = c.get(recorded, "secrecy", root, (dict,), "un dictionnaire est attendu")
    if secrecy is not None:
        c.get(secrecy, "mask_hash", f"{root}.secrecy", (str,), "un texte est attendu")
    _check_context(c, recorded, root)
    if c.problems:
        raise InputError(c.problems)
    return recorded


def _check_parameters(c: _Checker, recorded: dict, root: str, validation_problems) -> None:
    field = f"{root}.parameters"
    params = c.get(recorded, "parameters", root, (dict,), "un dictionnaire est attendu")
    if params is None:
        return
    name = c.get(params, "name", field, (str,), "un nom de fichier est attendu")
    if name is not None and (len(name) > 255 or "/" in name or "\\" in name or name in ("", ".", "..")
                             or bad_character(name)):
        c.bad(f"{field}.name", "nom de fichier de paramètres refusé : un nom simple, sans dossier, est attendu",
              name)
    as_given = c.get(params, "as_given", field, (dict,), "un dictionnaire de paramètres est attendu")
    if as_given is not None:
        c.problems += validation_problems(as_given, c.path, prefix=f"{field}.as_given.")[1]
    resolved = c.get(params, "resolved", field, (dict,), "un dictionnaire est attendu")
    if resolved is None:
        return
    sub = f"{field}.resolved"
    year = c.get(resolved, "year", sub, (int,), "un nombre entier est attendu")
    if year is not None and not 2000 <= year <= 2100:
        c.bad(f"{sub}.year", "année hors de la plage admise (2000-2100)", year)
    c.get(resolved, "recipient", sub, (str,), "un texte est attendu")
    territory = c.get(resolved, "territory", sub, (dict,), "un dictionnaire est attendu")
    for key in ("level", "code", "name"):
        c.get(territory, key, f"{sub}.territory", (str,), "un texte est attendu")
    folder = c.get(resolved, "dataset_folder", sub, (str,), "un chemin relatif est attendu", optional=True)
    if folder is not None and (why := relative_path_problem(folder)):
        c.bad(f"{sub}.dataset_folder", why, folder)


def _check_context(c: _Checker, recorded: dict, root: str) -> None:
    """What ``verify`` prints (code, environment) and what a re-run shows (erratum) is well formed."""
    c.get(recorded, "code", root, (dict,), "un dictionnaire est attendu", optional=True)
    environment = c.get(recorded, "environment", root, (dict,), "un dictionnaire est attendu", optional=True)
    c.get(environment, "packages", f"{root}.environment", (dict,), "un dictionnaire est attendu", optional=True)
    erratum = recorded.get("erratum")
    if isinstance(erratum, dict):
        c.get(erratum, "version", f"{root}.erratum", (int,), "un nombre entier est attendu")
        items = c.get(erratum, "items", f"{root}.erratum", (list,), "une liste est attendue")
        if items is not None and not all(isinstance(i, dict) for i in items):
            c.bad(f"{root}.erratum.items", "une liste de dictionnaires est attendue")
    # Every string a command may print or render: no terminal escape, no bidirectional trick.
    # The parameter file's own text is kept for the record only (never read back, multi-line).
    for field, value in _strings(recorded, root, skip=(f"{root}.parameters.text",)):
        if (char := bad_character(value)) is not None:
            c.bad(field, f"caractère interdit U+{ord(char):04X} (caractère de contrôle ou de direction du texte)",
                  value)


def _strings(node, field: str, skip: tuple[str, ...]):
    """``(field, text)`` of every string (keys included) under ``node``."""
    if field in skip:
        return
    if isinstance(node, str):
        yield field, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(str(key), field, skip)
            yield from _strings(value, f"{field}.{key}", skip)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{field}.{i}", skip)


def _check_inputs(c: _Checker, recorded: dict, root: str) -> None:
    inputs = c.get(recorded, "inputs", root, (list,), "une liste est attendue")
    if inputs is None:
        return
    if len(inputs) > MAX_INPUTS:
        c.bad(f"{root}.inputs", f"au plus {MAX_INPUTS} fichiers d'entrée", len(inputs))
        return
    for i, item in enumerate(inputs):
        field = f"{root}.inputs.{i}"
        if not isinstance(item, dict):
            c.bad(field, "un dictionnaire est attendu", item)
            continue
        role = c.get(item, "role", field, (str,), "un texte est attendu")
        if role is not None and role not in ROLES:
            c.bad(f"{field}.role", "rôle inconnu ; attendu : " + ", ".join(ROLES), role)
        path = c.get(item, "path", field, (str,), "un chemin relatif est attendu")
        if path is not None and (why := relative_path_problem(path)):
            c.bad(f"{field}.path", why, path)
        digest = c.get(item, "sha256", field, (str,), "une empreinte SHA-256 est attendue")
        if digest is not None and not SHA256.fullmatch(digest):
            c.bad(f"{field}.sha256", "une empreinte SHA-256 (64 chiffres hexadécimaux) est attendue", digest)
        size = c.get(item, "size", field, (int,), "un nombre entier est attendu")
        if size is not None and size < 0:
            c.bad(f"{field}.size", "une taille positive est attendue", size)


def _check_outputs(c: _Checker, recorded: dict, root: str) -> None:
    outputs = c.get(recorded, "outputs", root, (dict,), "un dictionnaire est attendu")
    if outputs is not None and "published.csv" not in outputs:
        c.bad(f"{root}.outputs.published.csv", "champ obligatoire absent du manifeste")
    for name, entry in (outputs or {}).items():
        field = f"{root}.outputs.{name}"
        if name not in mf.HASHED_OUTPUTS:
            c.bad(field, "fichier de sortie inconnu ; attendu : " + ", ".join(mf.HASHED_OUTPUTS), name)
            continue
        file = c.get(entry, "file", field, (str,), "un nom de fichier est attendu")
        if file is not None and not PLAIN_NAME.fullmatch(file):
            c.bad(f"{field}.file", "un nom de fichier simple du dossier du rapport est attendu", file)
        c.get(entry, "sha256", field, (str,), "une empreinte est attendue")
        if not isinstance(entry, dict):
            c.bad(field, "un dictionnaire est attendu", entry)


# --- paths, on this machine ----------------------------------------------------------------

def inside(path: Path, base: Path) -> bool:
    """``path``, symbolic links followed, is ``base`` or below it."""
    resolved, base = path.resolve(), base.resolve()
    return resolved == base or base in resolved.parents


def project_of(folder: Path) -> Path:
    """The folder holding the outputs root of a report folder ``<project>/outputs/<code>/<year>/``."""
    folder = Path(folder).resolve()
    parents = folder.parents
    # Never the file system's root: a report folder outside the layout keeps its inputs to itself.
    return parents[2] if len(parents) > 2 and len(parents[2].parts) > 1 else folder


def outside(manifest_path: Path, field: str, value: str, where: Path) -> Problem:
    return Problem(str(manifest_path), f"chemin hors de {where} : refusé (pour des données ailleurs, "
                   "donnez leur dossier avec --data-dir)", field=field, value=shown(value))


def check_output_paths(folder: Path, recorded: dict, manifest_path: Path) -> None:
    """Every recorded output file of the report folder, if present, is really in it (no link out)."""
    problems = [Problem(str(manifest_path), "fichier de sortie hors du dossier du rapport (lien symbolique)",
                        field=f"reproducible.outputs.{name}.file", value=entry["file"])
                for name, entry in recorded["outputs"].items()
                if (folder / entry["file"]).exists() and not inside(folder / entry["file"], folder)]
    if problems:
        raise InputError(problems)


def recorded_params(recorded: dict, dataset: Path | None, folder_of_data: Path | None = None) -> dict:
    """The recorded parameters (as given), pointed at ``dataset`` (relative to ``folder_of_data`` if given).

    ``recorded`` must have passed :func:`checked`: its parameters are data,
    validated like a parameter file; nothing in it names a file to write.
    """
    raw = dict(recorded["parameters"]["as_given"])
    if dataset is None:
        raw["data"] = DEMO
    elif folder_of_data is not None:
        raw["data"] = mf.relative(dataset, folder_of_data)
    else:
        raw["data"] = str(Path(dataset).resolve())
    return raw


def read_checked(folder: Path, version: int | None = None) -> tuple[dict, Path]:
    """The ``reproducible`` part of a report folder's manifest, checked, and the manifest's path."""
    available = mf.versions(folder)
    number = version if version is not None or not available else available[-1]
    path = Path(folder) / mf.versioned(mf.MANIFEST, number or 1)
    if path.is_file() and path.stat().st_size > MAX_MANIFEST_BYTES:
        raise InputError(Problem(str(path), f"manifeste trop grand (plus de {MAX_MANIFEST_BYTES >> 20} Mio)"))
    try:
        manifest = mf.read(folder, version)
    except RecursionError:
        raise InputError(Problem(str(path), "manifeste illisible : imbrication trop profonde")) from None
    recorded = checked(manifest, path)
    check_output_paths(Path(folder), recorded, path)
    return recorded, path
