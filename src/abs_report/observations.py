"""The canonical observations table: every source ends here, validated once.

One tidy row per zone, year and measure::

    zone_level  zone_code  year  measure              value
    commune     38185      2024  foyers_allocataires  51234.0
    iris        381850101  2024  foyers_allocataires  1320.0

``value`` is a float; ``NaN`` means unknown (missing in the source or blanked
by the producer) and is never read as zero. A :class:`Dataset` couples the
table with its metadata (what it is, where it comes from, whether it is
synthetic, whether the producer rounded counts) and lives on disk as a folder
holding ``observations.parquet`` and ``dataset.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import MEASURES, RELATIONS
from .errors import EXIT_BAD_INPUT, AbsReportError
from .geography import PIECE_LEVEL, QPV_LEVELS, Geography

COLUMNS = ("zone_level", "zone_code", "year", "measure", "value")
ROW_GROUP = 20_000
SOURCE_LEVELS = ("iris", "commune", "epci", "departement", "region", "france", *QPV_LEVELS)
"""Levels a source may give (an import, the demonstration data)."""
MODEL_LEVELS = (*SOURCE_LEVELS, "aggregation", PIECE_LEVEL)
"""Levels a dataset may hold: QPV ∩ IRIS pieces come from the demonstration model only (issue 15)."""


class DataError(AbsReportError, ValueError):
    """Invalid observations or dataset folder (bad input, exit status 2); the message names where and what."""

    exit_status = EXIT_BAD_INPUT
    label = "erreur"


@dataclass(frozen=True)
class InputFile:
    """A file a dataset was built from, with its fingerprint."""

    path: str
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path) -> "InputFile":
        data = Path(path).read_bytes()
        return cls(str(path), hashlib.sha256(data).hexdigest(), len(data))


@dataclass(frozen=True)
class DatasetMeta:
    """What a dataset is; drives banners, source lines and provenance."""

    name: str
    """Short id, e.g. ``demonstration`` or ``cafdata``."""
    synthetic: bool
    """Fictitious data: every page of every report says so."""
    producer: str = "Caf de l'Isère"
    """Attribution printed under every table for zones the producer covers."""
    reference_producer: str = "Cnaf"
    """Attribution for reference zones outside the producer's territory."""
    producer_departement: str = "38"
    rounded_to: int | None = None
    """Open-data counts come rounded (to 5) by the Cnaf: the source line says so."""
    description: str = ""
    inputs: tuple[InputFile, ...] = ()
    generator: dict | None = None
    """For synthetic data: ``{"name", "version", "seed"}``."""
    years: tuple[int, ...] = ()

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict, origin: str = "dataset.json") -> "DatasetMeta":
        """Metadata from ``dataset.json``, every field checked: a dataset folder may come from anyone.

        Raises
        ------
        DataError
            Not a dictionary, an unknown key, or a field of the wrong type (named).
        """
        problems = _meta_problems(raw)
        if problems:
            raise DataError(f"{origin} : métadonnées invalides : " + " ; ".join(problems))
        raw = dict(raw)
        raw["inputs"] = tuple(InputFile(**f) for f in raw.get("inputs", ()))
        raw["years"] = tuple(raw.get("years", ()))
        return cls(**raw)


_META_TYPES = {"name": str, "synthetic": bool, "producer": str, "reference_producer": str,
               "producer_departement": str, "rounded_to": (int, type(None)), "description": str,
               "inputs": list, "generator": (dict, type(None)), "years": list}
_INPUT_TYPES = {"path": str, "sha256": str, "size": int}


def _meta_problems(raw) -> list[str]:
    """What is wrong with a ``dataset.json`` document (empty when nothing)."""
    if not isinstance(raw, dict):
        return ["un dictionnaire JSON est attendu"]
    problems = [f"clé inconnue {k!r}" for k in raw if k not in _META_TYPES]
    problems += [f"clé {k!r} absente" for k in ("name", "synthetic") if k not in raw]
    for key, kind in _META_TYPES.items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        value = raw.get(key)
        # bool is an int to isinstance: refuse ``rounded_to: true``.
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if key in raw and not ok:
            problems.append(f"clé {key!r} de type inattendu ({type(value).__name__})")
    if isinstance(raw.get("years"), list) and not all(type(y) is int for y in raw["years"]):
        problems.append("clé 'years' : des années entières sont attendues")
    for item in raw.get("inputs") if isinstance(raw.get("inputs"), list) else ():
        if not (isinstance(item, dict) and set(item) == set(_INPUT_TYPES)
                and all(type(item[k]) is t for k, t in _INPUT_TYPES.items())):
            problems.append("clé 'inputs' : chaque entrée doit avoir path, sha256 et size")
            break
    return problems


@dataclass(frozen=True)
class Dataset:
    """Observations plus their metadata."""

    meta: DatasetMeta
    observations: pd.DataFrame = field(repr=False)

    def years(self) -> tuple[int, ...]:
        return tuple(sorted(int(y) for y in self.observations["year"].unique()))

    def measures(self) -> frozenset[str]:
        """Measures with at least one known value."""
        obs = self.observations
        return frozenset(obs.loc[obs["value"].notna(), "measure"].unique())


def validate(frame: pd.DataFrame, origin: str = "observations", check_duplicates: bool = True) -> pd.DataFrame:
    """Check the canonical invariants; raises :class:`DataError` listing every problem."""
    problems: list[str] = []
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{origin} : colonne(s) absente(s) {missing}")
    # unique() first: set() over millions of strings costs seconds.
    bad_level = sorted(set(frame["zone_level"].unique()) - set(MODEL_LEVELS))
    if bad_level:
        problems.append(f"niveau(x) de zone inconnu(s) {bad_level[:10]}")
    unknown = sorted(set(frame["measure"].unique()) - set(MEASURES))
    if unknown:
        problems.append(f"mesure(s) inconnue(s) du catalogue {unknown[:10]}")
    negative = frame[frame["value"] < 0]
    for row in negative.head(10).itertuples():
        problems.append(f"valeur négative {row.value} pour {row.zone_level} {row.zone_code} "
                        f"{row.year} {row.measure}")
    if check_duplicates:
        problems += _duplicate_problems(frame)
    if problems:
        raise DataError(f"{origin} : " + " ; ".join(problems))
    return frame


def _duplicate_problems(frame: pd.DataFrame) -> list[str]:
    dup = frame.duplicated(list(COLUMNS[:4]), keep=False)
    return [f"duplicated key {row.zone_level} {row.zone_code} {row.year} {row.measure}"
            for row in frame[dup].head(10).itertuples()]


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Observations as one row per (zone_level, zone_code, year), one column per measure."""
    # pivot (not pivot_table with dropna=False): only (zone, year) pairs the source has become rows,
    # so a commune absent one year is not read as a commune with every value unknown.
    try:
        table = frame.pivot(index=["zone_level", "zone_code", "year"], columns="measure", values="value")
    except ValueError:
        raise DataError("observations: " + "; ".join(_duplicate_problems(frame))) from None
    return table.sort_index().sort_index(axis=1)


def long(table: pd.DataFrame) -> pd.DataFrame:
    """Inverse of :func:`wide`, already in canonical order (index and columns sorted)."""
    table = table.sort_index().sort_index(axis=1)
    n_rows, n_cols = table.shape
    index = table.index
    return pd.DataFrame({
        "zone_level": np.repeat(index.get_level_values("zone_level").astype(str).to_numpy(), n_cols),
        "zone_code": np.repeat(index.get_level_values("zone_code").astype(str).to_numpy(), n_cols),
        "year": np.repeat(index.get_level_values("year").to_numpy(dtype="int64"), n_cols),
        "measure": np.tile(table.columns.astype(str).to_numpy(), n_rows),
        "value": table.to_numpy(dtype="float64").ravel(),
    })


def complete_derived(table: pd.DataFrame) -> pd.DataFrame:
    """Add derived totals (``familles_monoparentales``...) to a wide table.

    A derived total is unknown as soon as one of its parts is unknown. Relations
    are applied in catalogue order, which lists components before compounds.
    """
    out = table.copy()
    for rel in RELATIONS:
        if rel.derived and all(p in out.columns for p in rel.parts):
            out[rel.total] = out[list(rel.parts)].sum(axis=1, min_count=len(rel.parts))
            out.loc[out[list(rel.parts)].isna().any(axis=1), rel.total] = np.nan
    return out


def aggregate_communes(table: pd.DataFrame, geography: Geography,
                       levels=("epci", "departement", "region", "france")) -> pd.DataFrame:
    """Sum commune rows of a wide table into the wider COG levels.

    A zone total is unknown for a measure when any member commune with a row
    lacks it; communes without any row count as zero (no allocataire). Returns
    only the new rows, in the same wide layout.
    """
    communes = table.xs("commune", level="zone_level")
    keys = {
        "epci": geography.communes["epci"],
        "departement": geography.communes["departement"],
        "region": geography.communes["region"],
        "france": pd.Series("FR", index=geography.communes.index),
    }
    frames = []
    codes = communes.index.get_level_values("zone_code")
    for level in levels:
        group = keys[level].reindex(codes).to_numpy()
        keep = pd.notna(group) & (group != "")
        sub = communes[keep]
        by = [group[keep], sub.index.get_level_values("year")]
        sums = sub.groupby(by).sum(min_count=1)
        sums = sums.mask(sub.isna().groupby(by).any())
        sums.index = pd.MultiIndex.from_tuples([(level, c, y) for c, y in sums.index],
                                               names=["zone_level", "zone_code", "year"])
        frames.append(sums)
    return pd.concat(frames)


def assemble(frame: pd.DataFrame, meta: DatasetMeta, geography: Geography,
             population: pd.Series | None = None) -> Dataset:
    """Build a complete dataset from source rows (long layout, any levels).

    Derived totals are computed, COG levels the source does not provide are
    summed from its communes, and ``population_municipale`` is attached to
    every COG zone from ``population`` (commune code -> inhabitants, e.g. an
    INSEE file) or else from the geography. IRIS rows keep no population.
    """
    # Duplicates are caught by the pivot in wide(), cheaper than a four-key duplicated().
    table = wide(validate(frame.loc[:, list(COLUMNS)], meta.name, check_duplicates=False))
    return assemble_wide(table, meta, geography, population)


def validate_wide(table: pd.DataFrame, origin: str = "observations") -> pd.DataFrame:
    """The invariants of :func:`validate` for a table already in the wide layout."""
    problems = []
    if list(table.index.names) != ["zone_level", "zone_code", "year"]:
        problems.append(f"index must be (zone_level, zone_code, year), not {list(table.index.names)}")
    else:
        levels = set(table.index.get_level_values("zone_level").unique())
        if levels - set(MODEL_LEVELS):
            problems.append(f"unknown zone_level value(s) {sorted(levels - set(MODEL_LEVELS))}")
        if not table.index.is_unique:
            problems.append("duplicated (zone_level, zone_code, year) rows")
    unknown = sorted(set(table.columns) - set(MEASURES))
    if unknown:
        problems.append(f"unknown measure(s) {unknown[:10]}")
    if (table.to_numpy(dtype="float64") < 0).any():
        problems.append("negative values")
    if problems:
        raise DataError(f"{origin}: " + "; ".join(problems))
    return table


def assemble_wide(table: pd.DataFrame, meta: DatasetMeta, geography: Geography,
                  population: pd.Series | None = None) -> Dataset:
    """:func:`assemble` for source rows already in the wide layout (no pivot to pay)."""
    table = complete_derived(validate_wide(table, meta.name))
    provided = set(table.index.get_level_values("zone_level"))
    missing_levels = tuple(lv for lv in ("epci", "departement", "region", "france") if lv not in provided)
    if "commune" in provided and missing_levels:
        table = pd.concat([table, aggregate_communes(table, geography, missing_levels)])
    pop = geography.communes["population"] if population is None else population
    pop_table = pd.DataFrame({"population_municipale": pop.astype("float64")})
    pop_table.index = pd.MultiIndex.from_arrays([["commune"] * len(pop), pop.index.astype(str),
                                                 [0] * len(pop)], names=["zone_level", "zone_code", "year"])
    pop_levels = aggregate_communes(pop_table, geography)
    all_pop = pd.concat([pop_table, pop_levels]).droplevel("year")["population_municipale"]
    keys = pd.MultiIndex.from_arrays([table.index.get_level_values(0), table.index.get_level_values(1)])
    table["population_municipale"] = all_pop.reindex(keys).to_numpy()
    years = tuple(sorted(int(y) for y in table.index.get_level_values("year").unique()))
    meta = DatasetMeta(**{**meta.__dict__, "years": years})
    return Dataset(meta, long(table))


def save(dataset: Dataset, folder: Path) -> None:
    """Write ``observations.parquet`` and ``dataset.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    # Small row groups over rows sorted by level and code let a report read its own
    # département only (see load); the file stays one file.
    dataset.observations.to_parquet(folder / "observations.parquet", index=False, row_group_size=ROW_GROUP)
    (folder / "dataset.json").write_text(
        json.dumps(dataset.meta.to_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8")


def load_meta(folder: Path) -> DatasetMeta:
    """Read only a dataset folder's metadata (cheap: years, provenance).

    Raises
    ------
    DataError
        Not a folder, no ``dataset.json``, or one that does not parse or check.
    """
    meta_path = Path(folder) / "dataset.json"
    if not Path(folder).is_dir() or not meta_path.is_file():
        raise DataError(f"{folder} : pas un dossier de jeu de données (pas de dataset.json) ; "
                        "construisez-en un avec 'abs-report data import FICHIERS --into DOSSIER'")
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{meta_path} : métadonnées illisibles ({type(exc).__name__}) : "
                        "JSON UTF-8 attendu") from None
    return DatasetMeta.from_json(raw, str(meta_path))


def _scope_filter(departements):
    """Rows of wide zones, plus communes and IRIS of the given départements (codes start with them)."""
    import pyarrow.compute as pc

    field = pc.field("zone_code")
    # Pieces and communes hors QPV carry commune-prefixed codes: cut like communes.
    local = pc.field("zone_level").isin(["commune", "iris", "hors_qpv", PIECE_LEVEL])
    in_deps = None
    for dep in sorted(set(departements)):
        # A code range, not starts_with: row-group statistics of the sorted file then skip
        # every other département without decoding it. 38 -> [38, 39), 2A -> [2A, 2B).
        upper = dep[:-1] + chr(ord(dep[-1]) + 1)
        test = (field >= dep) & (field < upper)
        in_deps = test if in_deps is None else (in_deps | test)
    return ~local if in_deps is None else (~local | in_deps)


def load(folder: Path, departements=None) -> Dataset:
    """Read a dataset folder written by :func:`save`.

    ``departements`` restricts communes and IRIS to those départements (wider
    zones are always kept): a report needs its own batch scope, not all France,
    and reading 35,000 communes for one report costs seconds and a gigabyte.
    """
    folder = Path(folder)
    meta = load_meta(folder)
    import pyarrow as pa
    import pyarrow.dataset as pads

    path = folder / "observations.parquet"
    if not path.is_file():
        raise DataError(f"{path} : fichier absent du jeu de données")
    try:
        source = pads.dataset(path)
        _check_schema(source.schema, path)
        table = source.to_table(filter=_scope_filter(departements) if departements is not None else None)
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise DataError(f"{path} : observations illisibles ({type(exc).__name__}) : fichier Parquet "
                        "écrit par 'abs-report data import' attendu") from None
    obs = table.to_pandas()
    obs["zone_code"] = obs["zone_code"].astype(str)
    validate(obs, str(path), check_duplicates=False)
    return Dataset(meta, obs)


def _check_schema(schema, path: Path) -> None:
    """The canonical columns with their types, before any row is read."""
    import pyarrow.types as pt

    expected = {"zone_level": pt.is_string, "zone_code": pt.is_string, "year": pt.is_integer,
                "measure": pt.is_string, "value": pt.is_floating}
    names = set(schema.names)
    problems = [f"colonne {c!r} absente" for c in COLUMNS if c not in names]
    problems += [f"colonne {c!r} de type {schema.field(c).type} inattendu" for c, ok in expected.items()
                 if c in names and not (ok(schema.field(c).type) or pt.is_large_string(schema.field(c).type)
                                        and ok is pt.is_string)]
    if problems:
        raise DataError(f"{path} : " + " ; ".join(problems))
