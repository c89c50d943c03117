"""Re-run a report from its manifest and say whether every figure comes out the same.

The order matters to an auditor. Inputs first: a data file that is missing or
no longer matches its recorded hash makes any comparison meaningless, so it
stops here (:class:`InputError`, exit 2) naming the file and both hashes.
Then the report is built again in a scratch folder, from the parameters,
data, edition date and erratum the manifest records, and compared with the
report folder: ``published.csv`` cell by cell, every output by its hash, and
the secrecy mask by its hash.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import manifest as mf
from . import manifest_check as mc
from .context import Erratum
from .errors import InputError, Problem
from .params import write_params
from .published import CellChange, compare_published, published_rows

# --- inputs -----------------------------------------------------------------------------------

def locate_inputs(folder: Path, recorded: dict, data_dir: Path | None,
                  manifest_path: Path | None = None) -> tuple[Path | None, list[tuple[dict, Path]]]:
    """The dataset folder and each recorded input file's location on this machine.

    Without ``data_dir``, paths are relative to the report folder, as recorded,
    and must stay (symbolic links followed) inside the folder holding the
    outputs root. With it, the dataset files are looked for in ``data_dir`` and
    the source files (what the dataset was imported from) in ``data_dir/sources/``,
    ``data_dir`` and its parent, by name only.

    Raises
    ------
    InputError
        A recorded path leads outside those folders (naming the manifest, field and path).
    """
    manifest_path = manifest_path or folder / mf.MANIFEST
    rel = recorded["parameters"]["resolved"].get("dataset_folder")
    if rel is None:
        return None, []
    base = mc.project_of(folder)
    problems = []
    if data_dir is None and not mc.inside(folder / rel, base):
        problems.append(mc.outside(manifest_path, "reproducible.parameters.resolved.dataset_folder", rel, base))
    dataset = Path(data_dir) if data_dir else (folder / rel)
    located = []
    for i, item in enumerate(recorded["inputs"]):
        field = f"reproducible.inputs.{i}.path"
        if data_dir is None:
            if not mc.inside(folder / item["path"], base):
                problems.append(mc.outside(manifest_path, field, item["path"], base))
            located.append((item, folder / item["path"]))
            continue
        name = Path(item["path"]).name
        candidates = ([dataset / name] if item["role"] == "dataset"
                      else [dataset / "sources" / name, dataset / name, dataset.parent / name])
        allowed = dataset if item["role"] == "dataset" else dataset.parent
        if name in ("", ".", "..") or not all(mc.inside(c, allowed) for c in candidates if c.exists()):
            problems.append(mc.outside(manifest_path, field, item["path"], allowed))
        located.append((item, next((c for c in candidates if c.exists()), candidates[0])))
    if problems:
        raise InputError(problems)
    return dataset, located


def check_inputs(folder: Path, recorded: dict, data_dir: Path | None = None,
                 manifest_path: Path | None = None) -> Path | None:
    """Every input file present and unchanged; returns the dataset folder (``None``: demo data).

    Raises
    ------
    InputError
        One problem per missing or changed file, naming it with the recorded
        and the current SHA-256; or the synthetic generator's version changed.
    """
    dataset, located = locate_inputs(folder, recorded, data_dir, manifest_path)
    problems = []
    for item, path in located:
        if not path.is_file():
            problems.append(Problem(str(path), f"fichier d'entrée ({_role(item)}) introuvable ; attendu : "
                                    f"SHA-256 {item['sha256']}, {item['size']} octets"))
            continue
        now = mf.sha256(path)
        if now != item["sha256"]:
            problems.append(Problem(str(path), f"fichier d'entrée ({_role(item)}) modifié depuis le rapport : "
                                    f"SHA-256 enregistré {item['sha256']}, actuel {now}"))
    problems += _generator_problems(folder, recorded)
    if problems:
        raise InputError(problems)
    return dataset


def _role(item: dict) -> str:
    return {"dataset": "jeu de données", "source": "fichier source importé"}.get(item["role"], item["role"])


def _generator_problems(folder: Path, recorded: dict) -> list[Problem]:
    """Demonstration data are regenerated: the generator must be the one recorded."""
    generator = recorded["dataset"].get("generator")
    if not generator or not recorded["dataset"].get("synthetic"):
        return []
    from .sources import synthetic

    now = {"version": synthetic.GENERATOR_VERSION, "seed": synthetic.SEED}
    was = {"version": str(generator.get("version")), "seed": generator.get("seed")}
    if was == now:
        return []
    return [Problem(str(folder / mf.MANIFEST), f"générateur des données de démonstration différent : "
                    f"enregistré version {was['version']} graine {was['seed']}, actuel version "
                    f"{now['version']} graine {now['seed']}", field="dataset.generator")]


# --- re-execution -----------------------------------------------------------------------------

def _private_cache(work: Path, reuse_cache: bool) -> Path | None:
    """Where the re-run reads and stores masks and demonstration data.

    By default a throw-away folder inside ``work``: ``verify`` must not trust the
    cache it is checking (a report built from a modified mask would otherwise be
    "reproduced" from the same modified mask). ``None`` (the machine's cache)
    only when the user asks for it, knowing it is unsafe.
    """
    if reuse_cache:
        return None
    folder = Path(work) / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def rebuild(recorded: dict, dataset: Path | None, scratch: Path, work: Path, geography=None,
            cache: Path | None = None):
    """Build the report again into ``scratch`` exactly as the manifest says; returns the preparation.

    The recorded parameter file is written into ``work``, pointed at ``dataset``;
    masks and demonstration data are read from and stored into ``cache``
    (default: the machine's cache), passed down rather than set in ``os.environ``.
    """
    import datetime as dt

    from .geography import load_geography
    from .pipeline import build_report, prepare, read_report_params

    geography = geography or load_geography()
    scratch.mkdir(parents=True, exist_ok=True)
    params_path = write_params(mc.recorded_params(recorded, dataset), Path(work) / mc.PARAMS_NAME)
    params, data = read_report_params(params_path, geography, cache)
    prepared = prepare(params, data, geography, cache=cache)
    if recorded.get("erratum"):
        erratum = Erratum.from_dict(recorded["erratum"])
        prepared = replace(prepared, context=prepared.context.with_erratum(erratum))
    build_report(prepared, scratch, renderer=recorded["renderer"],
                 edition=dt.date.fromisoformat(recorded["edition"]))
    return prepared


# --- the verdict ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HashCheck:
    """One output: its hash in the manifest, in the report folder and in the re-run."""

    name: str
    file: str
    recorded: str | None
    in_folder: str | None
    rerun: str | None

    @property
    def identical(self) -> bool:
        return self.recorded is not None and self.recorded == self.in_folder == self.rerun


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found for one report version."""

    folder: Path
    version: int
    cells: list[CellChange]
    hashes: list[HashCheck]
    mask: tuple[str, str]
    """Secrecy mask hash: recorded, re-run."""
    rows: int
    zone_names: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Where this machine differs from the recorded one (code, versions): context for a difference."""

    @property
    def identical(self) -> bool:
        return not self.cells and all(h.identical for h in self.hashes) and self.mask[0] == self.mask[1]


def environment_notes(recorded: dict) -> list[str]:
    """How the code and the environment here differ from those the manifest records."""
    notes = []
    code_then, code_now = recorded.get("code", {}), {"commit": mf.git_state()["commit"]}
    if code_then.get("commit") != code_now["commit"]:
        notes.append(f"code : commit enregistré {code_then.get('commit')}, actuel {code_now['commit']}")
    if code_then.get("dirty"):
        notes.append("code : l'arbre de travail avait des modifications non enregistrées lors du rapport")
    then, now = recorded.get("environment", {}), mf.environment()
    for tool in ("python", "pandoc", "typst"):
        if then.get(tool) != now.get(tool):
            notes.append(f"{tool} : version enregistrée {then.get(tool)}, actuelle {now.get(tool)}")
    packages_then, packages_now = then.get("packages", {}), now.get("packages", {})
    for name in sorted(set(packages_then) | set(packages_now)):
        if packages_then.get(name) != packages_now.get(name):
            notes.append(f"paquet {name} : version enregistrée {packages_then.get(name)}, "
                         f"actuelle {packages_now.get(name)}")
    return notes


def _hash_of(path: Path, name: str) -> str | None:
    if not path.is_file():
        return None
    return mf.notebook_digest(path) if name.endswith(".ipynb") else mf.sha256(path)


def verify(folder: Path | str, data_dir: Path | str | None = None, version: int | None = None,
           keep: Path | str | None = None, reuse_cache: bool = False) -> Verdict:
    """Check inputs, re-run, compare.

    Parameters
    ----------
    folder
        A report folder (``outputs/<code>/<year>/``), possibly copied from elsewhere.
    data_dir
        The dataset folder on this machine, when it is not where the manifest says
        (relative to the report folder).
    version
        Which version of the report (default: the latest, e.g. 2 after a re-issue).
    keep
        Keep the re-built files in this folder (default: a scratch folder, removed).
    reuse_cache
        UNSAFE: read masks and demonstration data from this machine's cache instead of
        recomputing them in a private throw-away cache (the default). A modified cache
        would then reproduce a report built from it.

    Raises
    ------
    InputError
        No manifest, or an input missing or changed (exit 2): nothing is re-run.
    """
    folder = Path(folder)
    recorded, manifest_path = mc.read_checked(folder, version)
    dataset = check_inputs(folder, recorded, Path(data_dir) if data_dir else None, manifest_path)
    work = Path(tempfile.mkdtemp(prefix="abs-report-verify-"))
    scratch = Path(keep) if keep else work / "report"
    if keep and scratch.exists() and any(scratch.iterdir()):
        raise InputError(Problem(str(scratch), "--keep désigne un dossier non vide : refus de l'écraser",
                                 field="--keep"))
    try:
        prepared = rebuild(recorded, dataset, scratch, work, cache=_private_cache(work, reuse_cache))
        outputs = recorded["outputs"]
        published_file = folder / outputs.get("published.csv", {}).get("file", "published.csv")
        before = published_rows(published_file) if published_file.exists() else {}
        after = published_rows(scratch / "published.csv")
        hashes = [HashCheck(name, entry["file"], entry["sha256"], _hash_of(folder / entry["file"], name),
                            _hash_of(scratch / name, name)) for name, entry in sorted(outputs.items())]
        return Verdict(folder, recorded["version"], compare_published(before, after), hashes,
                       (recorded["secrecy"]["mask_hash"], prepared.protection.mask_hash), len(after),
                       prepared.context.zone_names(), environment_notes(recorded))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- printing ---------------------------------------------------------------------------------

def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda row: "  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def _shown(value: str, status: str) -> str:
    """A cell as an auditor should read it: the value, or its status when not published."""
    if status == "published":
        return value
    return status if not value else f"{value} ({status})"


def report_text(verdict: Verdict) -> str:
    """The differences table, the hash table and the conclusion, in French."""
    out = [f"Vérification de {verdict.folder} (version {verdict.version})"]
    if verdict.cells:
        rows = [(f"{verdict.zone_names.get((c.zone_level, c.zone_code), c.zone_code)} ({c.zone_code})",
                 c.measure, str(c.year), c.table_id, _shown(c.before, c.before_status),
                 _shown(c.after, c.after_status)) for c in verdict.cells]
        out += [f"\nChiffres publiés : {len(verdict.cells)} différence(s) sur {verdict.rows} ligne(s) "
                "(avant : dossier du rapport ; après : ré-exécution)",
                _table(("zone", "mesure", "année", "tableau", "avant", "après"), rows)]
    else:
        out.append(f"\nChiffres publiés : {verdict.rows} ligne(s), toutes identiques.")
    short = lambda h: h[:12] if h else "absent"  # noqa: E731
    rows = [(h.file, short(h.recorded), short(h.in_folder), short(h.rerun),
             "identique" if h.identical else "DIFFÉRENT") for h in verdict.hashes]
    rows.append(("masque du secret", short(verdict.mask[0]), "", short(verdict.mask[1]),
                 "identique" if verdict.mask[0] == verdict.mask[1] else "DIFFÉRENT"))
    out += ["\nEmpreintes SHA-256 :", _table(("fichier", "manifeste", "dossier", "ré-exécution", ""), rows)]
    if verdict.notes:
        out += ["\nDifférences d'environnement (à considérer si un chiffre diffère) :",
                *(f"- {note}" for note in verdict.notes)]
    out.append("\nRésultat : " + ("rapport reproduit à l'identique." if verdict.identical
                                  else "le rapport n'est PAS reproduit à l'identique."))
    return "\n".join(out)
