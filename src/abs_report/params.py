"""Parameter files: ``params/<territory>.yml`` validated into a frozen object.

A parameter file says which territory, compared with which zones, for which
year, for whom and why. Every mistake is reported with the file, the line,
the key and the value, and close matches for a mistyped code or name::

    territory:
      level: commune          # commune, epci, departement, region or aggregation
      code: "38185"
    year: 2024
    recipient: CCAS de Grenoble
    purpose: Analyse des besoins sociaux 2026-2032
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .dataref import DataRef
from .errors import InputError, Problem
from .geography import Geography, UnknownZone, Zone

Level = Literal["commune", "epci", "departement", "region", "aggregation"]
ComparisonLevel = Literal["commune", "epci", "departement", "region", "france", "aggregation"]
Format = Literal["pdf", "html"]
DEFAULT_FORMATS = ("pdf", "html")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ZoneSpec(_Strict):
    """A zone as written in a parameter file."""

    level: ComparisonLevel
    code: str
    name: str | None = None
    communes: tuple[str, ...] = ()

    @field_validator("code", mode="before")
    @classmethod
    def _code_is_text(cls, value):
        # YAML reads 38185 as an integer and 01001 as 1001: refuse the ambiguity.
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("le code doit être une chaîne, entre guillemets (\"38185\")")
        if isinstance(value, int):
            raise ValueError(f"le code {value} doit être écrit entre guillemets (\"{value}\") : "
                             "sans guillemets, 01001 serait lu 1001")
        return value

    @field_validator("communes", mode="before")
    @classmethod
    def _communes_are_text(cls, value):
        if value is None:
            return ()
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            raise ValueError(f"codes de communes à écrire entre guillemets : {bad[:5]}")
        return tuple(value)


class ParamsFile(_Strict):
    """The YAML schema of a parameter file."""

    territory: ZoneSpec
    year: int = Field(ge=2000, le=2100)
    comparison_zones: tuple[ZoneSpec, ...] | Literal["default"] = "default"
    title: str = "Analyse des besoins sociaux"
    recipient: str = Field(min_length=1)
    purpose: str = Field(min_length=1)
    formats: tuple[Format, ...] = DEFAULT_FORMATS
    data: str = "demo"
    """``demo`` for the embedded demonstration data, else a dataset folder
    built by ``abs-report data import`` (relative to the parameter file)."""
    output_dir: str | None = None
    geography: str | None = None
    """Map contours: a folder written by ``abs-report geo import`` (relative to the parameter
    file); the packaged contours of Isère by default."""


@dataclass(frozen=True)
class ReportParams:
    """Validated, resolved parameters of one report."""

    source: Path
    territory: Zone
    comparison_zones: tuple[Zone, ...]
    year: int
    title: str
    recipient: str
    purpose: str
    formats: tuple[str, ...]
    data: str
    output_dir: Path | None
    raw: dict
    geography: Path | None = None
    """The folder of imported map contours, if the parameter file names one."""

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The territory first, then its comparison zones."""
        return (self.territory, *self.comparison_zones)

    @property
    def data_ref(self) -> DataRef:
        """The ``data`` value, parsed: the demonstration data or a folder relative to this file."""
        return DataRef.parse(self.data, Path(self.source).parent)


def _line_index(text: str) -> dict[tuple, int]:
    """1-based line of every key path in a YAML document."""
    lines: dict[tuple, int] = {}

    def walk(node, path):
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[path + (key.value,)] = key.start_mark.line + 1
                walk(value, path + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    for end in range(len(loc), -1, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return None


def _value_at(raw, loc):
    for part in loc:
        try:
            raw = raw[part]
        except (KeyError, IndexError, TypeError):
            return None
    return raw


def read_params_file(path: Path) -> tuple[ParamsFile, dict, dict[tuple, int]]:
    """Parse and type-check a parameter file (no geography or data look-up yet)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(name, "fichier de paramètres introuvable")) from None
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, f"le fichier n'est pas en UTF-8 ({exc.reason})")) from None
    try:
        raw = yaml.safe_load(text)
        lines = _line_index(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(Problem(name, f"YAML invalide : {getattr(exc, 'problem', exc)}",
                                 line=mark.line + 1 if mark else None)) from None
    if not isinstance(raw, dict):
        raise InputError(Problem(name, "le fichier doit contenir un dictionnaire de paramètres"))
    try:
        return ParamsFile.model_validate(raw), raw, lines
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc)
            value = err.get("input") if err["type"] != "missing" else None
            message = _french_message(err)
            problems.append(Problem(name, message, line=_line_of(lines, loc), field=key,
                                    value=value if err["type"] != "extra_forbidden" else _value_at(raw, loc)))
        raise InputError(problems) from None


def _french_message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return ("clé inconnue ; clés possibles : territory, year, comparison_zones, title, recipient, "
                "purpose, formats, data, output_dir, geography")
    if kind == "missing":
        return "clé obligatoire absente"
    if kind == "literal_error":
        return f"valeur non reconnue ; attendu : {err['ctx']['expected']}"
    if kind.startswith("int_"):
        return "un nombre entier est attendu"
    if kind in ("greater_than_equal", "less_than_equal"):
        return "année hors de la plage admise (2000-2100)"
    if kind == "string_too_short":
        return "ne peut pas être vide"
    return err["msg"].removeprefix("Value error, ")


def _resolve_zone(spec: ZoneSpec, geography: Geography) -> Zone:
    if spec.level == "aggregation":
        if not spec.communes:
            raise ValueError("un regroupement doit lister ses communes (clé 'communes')")
        return geography.aggregation(spec.code, spec.name or spec.code, list(spec.communes))
    zone = geography.zone(spec.level, spec.code)
    return zone if not spec.name else Zone(zone.level, zone.code, spec.name, zone.members)


def load_params(path: Path | str, geography: Geography,
                available_years: tuple[int, ...] | None = None) -> ReportParams:
    """Read, validate and resolve a parameter file against the geography.

    Raises
    ------
    InputError
        With one :class:`Problem` per mistake, each naming file, line, key and value.
    """
    path = Path(path)
    parsed, raw, lines = read_params_file(path)
    problems: list[Problem] = []

    def resolve(spec: ZoneSpec, loc: tuple) -> Zone | None:
        try:
            return _resolve_zone(spec, geography)
        except UnknownZone as exc:
            field = loc + (("communes",) if spec.level == "aggregation" else ("code",))
            hint = f" ; vouliez-vous dire : {', '.join(exc.suggestions)} ?" if exc.suggestions else ""
            problems.append(Problem(str(path), f"code {exc.level} inconnu du COG{hint}",
                                    line=_line_of(lines, field), field=".".join(map(str, field)),
                                    value=exc.code))
        except ValueError as exc:
            problems.append(Problem(str(path), str(exc), line=_line_of(lines, loc),
                                    field=".".join(map(str, loc)), value=spec.level))
        return None

    territory = resolve(parsed.territory, ("territory",))
    if parsed.territory.level == "france":
        problems.append(Problem(str(path), "le territoire d'étude ne peut pas être la France entière",
                                line=_line_of(lines, ("territory", "level")), field="territory.level",
                                value="france"))
    if parsed.comparison_zones == "default":
        comparison = tuple(geography.parent_chain(territory)) if territory else ()
    else:
        comparison = tuple(z for i, spec in enumerate(parsed.comparison_zones)
                           if (z := resolve(spec, ("comparison_zones", i))) is not None)
    if available_years is not None and parsed.year not in available_years:
        problems.append(Problem(str(path), "année absente des données ; années disponibles : "
                                + ", ".join(map(str, available_years)),
                                line=_line_of(lines, ("year",)), field="year", value=parsed.year))
    geography_folder = _geography_folder(path, parsed.geography, lines, problems)
    if problems:
        raise InputError(problems)
    output_dir = (path.parent / parsed.output_dir) if parsed.output_dir else None
    return ReportParams(source=path, territory=territory, comparison_zones=comparison,
                        year=parsed.year, title=parsed.title, recipient=parsed.recipient,
                        purpose=parsed.purpose, formats=tuple(dict.fromkeys(parsed.formats)),
                        data=parsed.data, output_dir=output_dir, raw=raw, geography=geography_folder)


def _geography_folder(path: Path, value: str | None, lines: dict, problems: list) -> Path | None:
    """The ``geography:`` folder, checked: it must hold contours written by ``abs-report geo import``."""
    if value is None:
        return None
    from .geometry import PACKAGED_FILE, read_geometry

    folder = Path(value) if Path(value).is_absolute() else path.parent / value
    try:
        read_geometry(folder / PACKAGED_FILE)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = ("dossier sans fichier de contours (attendu : un dossier écrit par « abs-report geo import »)"
                  if isinstance(exc, FileNotFoundError) else
                  "fichier de contours illisible (attendu : un dossier écrit par « abs-report geo import »)")
        problems.append(Problem(str(path), reason, line=_line_of(lines, ("geography",)), field="geography",
                                value=value))
        return None
    return folder.resolve()
