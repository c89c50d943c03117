"""The documented tidy CSV for the CAF's internal extracts, and its mapping file.

One row per zone, year, measure (and category)::

    zone_level,zone_code,year,measure,value,category
    commune,38185,2024,foyers_allocataires,51234,
    commune,38185,2024,foyers_allocataires,1830,qf_0_399

``category`` is optional. When set, it names a part of a catalogue relation
whose total is ``measure`` (``foyers_rsa`` + ``foyers_rsa_majore``,
``foyers_allocataires`` + ``qf_0_399`` or ``couples_1_enfant``...), and the row
holds that part. A blank value is unknown (never zero). Separator ``,`` (or
``;``), UTF-8.

A mapping file (YAML) adapts an extract with other names; see
:func:`load_mapping` and ``docs/DATA.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from ..catalogue import MEASURES, RELATIONS
from ..errors import InputError, Problem
from ..geography import Geography
from ..observations import SOURCE_LEVELS
from ..paths import checked_input_file
from . import reading
from .reading import SourceRows, Text

COLUMNS = ("zone_level", "zone_code", "year", "measure", "value")
OPTIONAL = ("category",)
MAPPING_KEYS = ("columns", "measures", "categories", "levels")
LEVEL_ALIASES = {"com": "commune", "communes": "commune", "dep": "departement", "département": "departement",
                 "reg": "region", "région": "region", "fr": "france", "nat": "france",
                 "national": "france", "epcis": "epci"}
CATEGORY_PARTS = {(r.total, part) for r in RELATIONS for part in r.parts}
"""``(measure, category)`` pairs a tidy row may use: the category is a part of the measure."""


@dataclass(frozen=True)
class Mapping:
    """How an extract's names translate to the tidy format."""

    columns: dict[str, str] = field(default_factory=dict)
    """Source column -> tidy column."""
    measures: dict[str, str] = field(default_factory=dict)
    """Source measure name -> catalogue measure id."""
    categories: dict[str, str] = field(default_factory=dict)
    """Source category -> catalogue measure id."""
    levels: dict[str, str] = field(default_factory=dict)
    """Source level name -> tidy zone level."""


def load_mapping(path: Path | None) -> Mapping:
    """Read and check a mapping file; raises :class:`InputError` naming every bad key."""
    if path is None:
        return Mapping()
    name = str(path)
    checked_input_file(Path(path), "fichier de correspondance")
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem(name, f"fichier de correspondance illisible : {exc}"))
    if not isinstance(raw, dict):
        raise InputError(Problem(name, "un dictionnaire YAML est attendu (columns, measures, categories, levels)"))
    problems = [Problem(name, "clé inconnue." + reading.suggest(str(k), MAPPING_KEYS), field=str(k))
                for k in raw if k not in MAPPING_KEYS]
    sections = {}
    for key in MAPPING_KEYS:
        section = raw.get(key) or {}
        if not isinstance(section, dict):
            problems.append(Problem(name, "une table 'nom source: nom attendu' est attendue", field=key))
            section = {}
        sections[key] = {str(k): str(v) for k, v in section.items()}
    problems += mapping_target_problems(name, sections)
    reading.raise_if(problems)
    return Mapping(**sections)


def mapping_target_problems(name: str, sections: dict[str, dict[str, str]]) -> list[Problem]:
    """Every target of the mapping must be a tidy column, a catalogue measure or a level."""
    allowed = {"columns": set(COLUMNS + OPTIONAL), "measures": set(MEASURES),
               "categories": set(MEASURES), "levels": set(SOURCE_LEVELS)}
    problems = []
    for key, targets in allowed.items():
        for source, target in sections[key].items():
            if target not in targets:
                problems.append(Problem(name, "cible inconnue." + reading.suggest(target, targets),
                                        field=f"{key}.{source}", value=target))
    return problems


def looks_like(header: tuple[str, ...], mapping: Mapping) -> bool:
    renamed = {mapping.columns.get(h, h) for h in header}
    return {"zone_code", "measure"} <= renamed or {"zone_code", "value"} <= renamed


def schema(geography: Geography, has_category: bool) -> pa.DataFrameSchema:
    level_ok = pa.Check(lambda s: s.isin(SOURCE_LEVELS),
                        error=f"niveau inconnu (attendu : {', '.join(SOURCE_LEVELS)})")
    measure_ok = pa.Check(lambda s: s.isin(MEASURES), error="mesure inconnue du catalogue")
    columns = {
        "zone_level": pa.Column(str, checks=level_ok),
        "zone_code": pa.Column(str),
        "year": pa.Column(str, checks=reading.year_checks()),
        "measure": pa.Column(str, checks=measure_ok),
        "value": pa.Column(str),  # checked by value_problems: the unit depends on the measure
    }
    keys = ["zone_level", "zone_code", "year", "measure"] + (["category"] if has_category else [])
    checks = []
    if has_category:
        checks.append(pa.Check(category_ok, error="modalité qui n'est pas une partie de la mesure "
                               "(voir docs/DATA.md)"))
    return pa.DataFrameSchema(columns, checks=checks, unique=keys, report_duplicates="all")


def value_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Each value checked as its measure's unit: an integer count, or euros with cents."""
    if "measure" not in frame.columns:
        return reading.number_problems(frame, "value", file)
    units = frame["measure"].map(lambda m: MEASURES[m].unit if m in MEASURES else "count")
    return reading.number_problems(frame, "value", file, units)


def category_ok(frame: pd.DataFrame) -> pd.Series:
    pairs = zip(frame["measure"], frame["category"])
    return pd.Series([c == "" or (m, c) in CATEGORY_PARTS for m, c in pairs], index=frame.index)


def code_problems(frame: pd.DataFrame, geography: Geography, file: str) -> list[Problem]:
    """Zone codes checked against the geography of their own level."""
    problems = []
    for level, rows in frame.groupby("zone_level", sort=True):
        if level not in SOURCE_LEVELS:
            continue  # already reported as an unknown level
        level_schema = pa.DataFrameSchema(
            {"zone_code": pa.Column(str, checks=reading.zone_code_checks(level, geography))})
        problems += reading.validate(rows[["zone_code"]], level_schema, file)
    return problems


def rename(frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    out = frame.rename(columns=mapping.columns)
    if "zone_level" in out:
        out["zone_level"] = out["zone_level"].map(lambda v: mapping.levels.get(v, LEVEL_ALIASES.get(v.lower(), v)))
    if "measure" in out:
        out["measure"] = out["measure"].map(lambda v: mapping.measures.get(v, v))
    if "category" in out:
        out["category"] = out["category"].map(lambda v: mapping.categories.get(v, v))
    return out


def read(source: Text, geography: Geography, mapping: Mapping | None = None) -> SourceRows:
    """Canonical rows of a tidy CSV (after applying ``mapping``)."""
    mapping = mapping or Mapping()
    reading.require_separator(source, (",", ";"), "tidy")
    frame = rename(reading.read_csv(source), mapping)
    header = tuple(frame.columns)
    notes = []
    extra = [c for c in header if c not in COLUMNS + OPTIONAL]
    if extra:
        notes.append(f"{source.name} : colonnes ignorées : {', '.join(extra)}")
    has_category = "category" in header
    problems = reading.validate(frame, schema(geography, has_category), source.name, header)
    problems = [category_cell(p, frame) for p in problems]
    problems += value_problems(frame, source.name)
    if {"zone_level", "zone_code"} <= set(header):
        problems += code_problems(frame, geography, source.name)
    reading.raise_if(sorted(problems, key=lambda p: (p.line or 0, p.field or "")))
    rows = pd.DataFrame({
        "zone_level": frame["zone_level"], "zone_code": frame["zone_code"],
        "year": frame["year"].astype("int64"), "measure": frame["measure"],
        "value": reading.to_number(frame["value"]), "line": frame.index})
    if has_category:
        part = frame["category"] != ""
        rows.loc[part, "measure"] = frame.loc[part, "category"]
    rows.loc[rows["zone_level"] == "france", "zone_code"] = "FR"
    return SourceRows(source.name, "tidy", rows.reset_index(drop=True), notes, None)


def category_cell(problem: Problem, frame: pd.DataFrame) -> Problem:
    """The frame-wide category check reports a row: point at its category cell instead.

    Unknown measures get the catalogue's closest id as a suggestion.
    """
    if problem.field == "measure" and problem.message.startswith("mesure inconnue"):
        hint = reading.suggest(str(problem.value), MEASURES)
        return Problem(problem.file, problem.message + "." + hint, problem.line, problem.field, problem.value)
    if problem.message.startswith("modalité") and problem.line in frame.index:
        cell = f"{frame.at[problem.line, 'measure']} / {frame.at[problem.line, 'category']}"
        return Problem(problem.file, problem.message, problem.line, "measure, category", cell)
    return problem
