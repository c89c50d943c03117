"""``data import``: files in any supported layout -> one canonical dataset folder.

Everything is read and validated before anything is written: problems of
every file are collected and raised together (:class:`InputError`, exit 2),
and the dataset folder is then written atomically (a temporary folder renamed
into place), so a failed import leaves an earlier dataset at ``into`` as it
was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import publish_folder, scratch_folder
from ..errors import InputError, Problem
from ..geography import Geography, load_geography
from ..observations import DataError, Dataset, DatasetMeta, InputFile, assemble, save
from . import cafdata, legacy, population, reading, tidy
from .reading import SourceRows, Text

NOTES_FILE = "import-notes.txt"
SOURCES_FOLDER = "sources"
KEY = ["zone_level", "zone_code", "year", "measure"]
WIDE_LEVELS = ("epci", "departement", "region", "france")
FORMAT_LABELS = {"cafdata": "export Cafdata (data.caf.fr, Cnaf)",
                 "legacy": "fichiers annuels data.caf.fr (ancien format)",
                 "tidy": "extrait tabulaire de la Caf"}


def detect(source: Text, mapping: tidy.Mapping) -> str:
    """The format of a file from its header: ``cafdata``, ``legacy``, ``tidy`` or ``population``."""
    header = tuple(h.lower() for h in source.header)
    if tidy.looks_like(source.header, mapping):
        return "tidy"
    if cafdata.looks_like(header):
        return "cafdata"
    if legacy.looks_like(header):
        return "legacy"
    if population.looks_like(header):
        return "population"
    hint = ""
    if len(source.header) == 1:
        hint = (" L'en-tête ne contient qu'une colonne : séparateur attendu ';' (Cafdata, data.caf.fr) "
                "ou ',' (format tabulaire).")
    raise InputError(Problem(
        source.name, "format non reconnu : ni export Cafdata (dtreffre, numcomdo, indfoy_...), ni fichier "
        "data.caf.fr (Communes;Codes_Insee;...), ni format tabulaire (zone_level,zone_code,year,measure,"
        "value) ; voir docs/DATA.md." + hint, line=1, value=";".join(source.header)[:120]))


def read_source(path: Path, geography: Geography, mapping: tidy.Mapping) -> SourceRows:
    """Read one data file in whichever supported layout it is."""
    source = reading.open_text(path)
    kind = detect(source, mapping)
    if kind == "population":
        raise InputError(Problem(source.name, "fichier de population Insee : passez-le avec "
                                 "--population, pas comme fichier de données", line=1))
    if kind == "tidy":
        return tidy.read(source, geography, mapping)
    return {"cafdata": cafdata.read, "legacy": legacy.read}[kind](source, geography)


def read_all(files, geography: Geography, mapping: tidy.Mapping) -> tuple[list[SourceRows], list[Problem]]:
    """Every file read; the problems of all of them, not only the first one's."""
    sources, problems = [], []
    for path in files:
        try:
            sources.append(read_source(Path(path), geography, mapping))
        except InputError as exc:
            problems += exc.problems
    return sources, problems


def import_files(files, into, geography: Geography | None = None, population_file=None,
                 mapping_file=None, keep_sources: bool = False) -> Dataset:
    """Build the canonical dataset from ``files`` and write it to ``into``.

    Parameters
    ----------
    files : list of path-like
        Cafdata exports, legacy data.caf.fr files and tidy CSVs, in any mix.
    into : path-like
        The dataset folder to (re)write; untouched when anything is wrong.
    geography : Geography, optional
        The COG (default: the packaged one).
    population_file : path-like, optional
        INSEE populations légales by commune, replacing the COG population.
    mapping_file : path-like, optional
        YAML mapping for tidy files with other column or measure names.
    keep_sources : bool
        Copy the input files into ``into/sources/`` (what ``data fetch`` does).

    Returns
    -------
    Dataset
        The dataset written. The notes (skipped rows, ignored columns, merged
        communes...) are in ``into/import-notes.txt``; see :func:`read_notes`.

    Raises
    ------
    InputError
        Every problem found in every input, before anything is written.
    """
    geography = geography or load_geography()
    into = Path(into)
    files = [Path(f) for f in files]
    problems = target_problems(into)
    if not files:
        problems.append(Problem(str(into), "aucun fichier de données à importer"))
    mapping = safe(lambda: tidy.load_mapping(Path(mapping_file) if mapping_file else None), problems,
                   tidy.Mapping())
    sources, read_problems = read_all(files, geography, mapping)
    problems += read_problems
    pop, pop_notes = None, []
    if population_file:
        pop, pop_notes = safe(lambda: population.read(reading.open_text(Path(population_file)), geography),
                              problems, (None, []))
    reading.raise_if(problems)
    rows, notes = combine(sources, geography)
    notes = [n for s in sources for n in s.notes] + notes + pop_notes
    meta = dataset_meta(sources, files, population_file, mapping_file, into, keep_sources)
    try:
        dataset = assemble(rows, meta, geography, population.combined(pop, geography) if pop is not None else None)
    except DataError as exc:
        raise InputError(Problem(", ".join(map(str, files)), str(exc)))
    dataset, coverage_notes = mask_partial_zones(dataset, rows, geography)
    notes += coverage_notes
    sources_to_copy = files + [Path(p) for p in (population_file, mapping_file) if p] if keep_sources else []
    write_atomically(dataset, into, notes, sources_to_copy)
    return dataset


def read_notes(folder) -> list[str]:
    """The notes an import left in a dataset folder."""
    path = Path(folder) / NOTES_FILE
    if not path.exists():
        return []
    return [line[2:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]


def safe(call, problems: list[Problem], default):
    """``call()``, or ``default`` with its problems appended (to report them all at once)."""
    try:
        return call()
    except InputError as exc:
        problems += exc.problems
        return default


def target_problems(into: Path) -> list[Problem]:
    """Refuse to replace something that is not a dataset folder."""
    if into.exists() and not into.is_dir():
        return [Problem(str(into), "--into désigne un fichier, pas un dossier de données")]
    if into.is_dir() and any(into.iterdir()) and not (into / "dataset.json").exists():
        return [Problem(str(into), "--into désigne un dossier non vide qui n'est pas un jeu de données "
                        "(pas de dataset.json) : refus de le remplacer")]
    return []


# --- combining files -------------------------------------------------------------------

def combine(sources: list[SourceRows], geography: Geography) -> tuple[pd.DataFrame, list[str]]:
    """All files' rows: cross-file duplicates checked, former commune codes merged."""
    frames = [s.rows.assign(file=s.file) for s in sources if len(s.rows)]
    if not frames:
        reading.raise_if([Problem(", ".join(s.file for s in sources), "aucune valeur à importer")])
    rows = pd.concat(frames, ignore_index=True)
    rows, notes = drop_identical_duplicates(rows)
    rows, merge_notes = merge_former_codes(rows, geography)
    return rows[KEY + ["value"]], notes + merge_notes


def drop_identical_duplicates(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The same figure given by two files: kept once if equal, an error if not.

    Legacy theme files repeat ``NB_Allocataires``; two files disagreeing on
    one figure leave no way to choose.
    """
    dup = rows.duplicated(KEY, keep=False)
    if not dup.any():
        return rows, []
    problems = []
    for key, group in rows[dup].groupby(KEY, sort=False):
        values = group["value"]
        if values.isna().all() or (values.notna().all() and values.nunique() == 1):
            continue
        first = group.iloc[0]
        for other in group.iloc[1:].itertuples():
            problems.append(Problem(other.file, f"valeur différente de celle de {first.file}, ligne "
                                    f"{first.line} ({first.value:g}) pour la même zone, année et mesure",
                                    line=int(other.line), field=str(key[3]),
                                    value=f"{key[0]} {key[1]} {key[2]} : {other.value:g}"))
    reading.raise_if(problems)
    kept = rows.drop_duplicates(KEY, keep="first")
    note = f"{int(dup.sum()) - int(rows[dup].drop_duplicates(KEY).shape[0])} valeur(s) présentes à " \
           "l'identique dans plusieurs fichiers, gardées une fois"
    return kept, [note]


def merge_former_codes(rows: pd.DataFrame, geography: Geography) -> tuple[pd.DataFrame, list[str]]:
    """Former commune codes (``anciensCodes``) -> today's commune; merged communes summed.

    A sum is unknown as soon as one of its parts is: the producer blanked it.
    """
    rows = rows.copy()
    original = rows["zone_code"].copy()
    is_commune = rows["zone_level"] == "commune"
    is_iris = rows["zone_level"] == "iris"
    rows.loc[is_commune, "zone_code"] = original[is_commune].map(geography.current_commune_code)
    rows.loc[is_iris, "zone_code"] = [geography.current_commune_code(c[:5]) + c[5:] for c in original[is_iris]]
    changed = rows["zone_code"] != original
    if not changed.any():
        return rows, []
    mapped = sorted({(o, n) for o, n in zip(original[changed], rows.loc[changed, "zone_code"])})
    grouped = rows.groupby(KEY, sort=False)
    summed = grouped["value"].sum(min_count=1)
    summed[grouped["value"].apply(lambda v: v.isna().any())] = np.nan
    out = summed.reset_index()
    merged = rows.loc[changed].groupby(KEY)["value"].size()
    shown = ", ".join(f"{o} -> {n}" for o, n in mapped[:20]) + (" ..." if len(mapped) > 20 else "")
    note = (f"{len(mapped)} ancien(s) code(s) commune rattaché(s) à la commune actuelle (COG), valeurs "
            f"additionnées quand plusieurs communes ont fusionné ({len(merged)} valeur(s)) : {shown}")
    return out, [note]


# --- metadata and coverage ------------------------------------------------------------------

def dataset_meta(sources, files, population_file, mapping_file, into: Path, keep_sources: bool) -> DatasetMeta:
    formats = sorted({s.format for s in sources})
    rounded = max((s.rounded_to for s in sources if s.rounded_to), default=None)
    inputs = []
    for path in files + [Path(p) for p in (population_file, mapping_file) if p]:
        fingerprint = InputFile.of(path)
        if keep_sources:
            fingerprint = InputFile(str(into / SOURCES_FOLDER / path.name), fingerprint.sha256, fingerprint.size)
        inputs.append(fingerprint)
    description = " + ".join(FORMAT_LABELS[f] for f in formats)
    if population_file:
        description += " ; population municipale : fichier Insee fourni"
    return DatasetMeta(name=formats[0] if len(formats) == 1 else "import", synthetic=False,
                       rounded_to=rounded, description=description, inputs=tuple(inputs))


def mask_partial_zones(dataset: Dataset, rows: pd.DataFrame,
                       geography: Geography) -> tuple[Dataset, list[str]]:
    """Unknown (NaN) for wide zones summed from communes the files only partly cover.

    ``assemble`` sums the communes present into EPCI, région and France; from a
    file of one département that would pass Isère off as France. A zone is kept
    only when every département it touches has communes in the files.
    """
    provided = set(rows["zone_level"])
    summed_levels = [lv for lv in WIDE_LEVELS if lv not in provided]
    if "commune" not in provided or not summed_levels:
        return dataset, []
    communes = geography.communes
    codes = rows.loc[rows["zone_level"] == "commune", "zone_code"].unique()
    covered = set(communes.loc[communes.index.intersection(codes), "departement"])
    partial = partial_zones(geography, covered, summed_levels)
    obs = dataset.observations
    hide = (pd.Series(list(zip(obs["zone_level"], obs["zone_code"])), index=obs.index).isin(partial)
            & (obs["measure"] != "population_municipale"))
    if not hide.any():
        return dataset, []
    obs = obs.copy()
    obs.loc[hide, "value"] = np.nan
    levels = sorted({lv for lv, _ in partial})
    note = (f"{len(partial)} zone(s) ({', '.join(levels)}) seulement en partie couvertes par les communes "
            f"importées (départements {', '.join(sorted(covered))}) : valeurs inconnues plutôt que sous-estimées")
    return Dataset(dataset.meta, obs), [note]


def partial_zones(geography: Geography, covered: set[str], levels) -> set[tuple[str, str]]:
    communes = geography.communes
    outside = ~communes["departement"].isin(covered)
    partial = set()
    if "epci" in levels:
        partial |= {("epci", e) for e in communes.loc[outside, "epci"].unique() if e}
    if "departement" in levels:
        partial |= {("departement", d) for d in communes.loc[outside, "departement"].unique()}
    if "region" in levels:
        partial |= {("region", r) for r in communes.loc[outside, "region"].unique()}
    if "france" in levels and outside.any():
        partial.add(("france", "FR"))
    return partial


# --- writing --------------------------------------------------------------------------------

def write_atomically(dataset: Dataset, into: Path, notes: list[str], sources: list[Path]) -> None:
    """Build the folder beside ``into`` and rename it into place (the old one stays on failure)."""
    scratch = scratch_folder(into)  # named after this process: the next run removes it after a kill
    try:
        save(dataset, scratch)
        (scratch / NOTES_FILE).write_text("".join(f"- {n}\n" for n in notes), encoding="utf-8")
        if sources:
            (scratch / SOURCES_FOLDER).mkdir()
            for path in sources:
                shutil.copy2(path, scratch / SOURCES_FOLDER / path.name)
        swap_into_place(scratch, into)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def swap_into_place(scratch: Path, into: Path) -> None:
    """Replace ``into`` by ``scratch`` in one step (see :func:`abs_report.atomic.publish_folder`)."""
    publish_folder(scratch, into)