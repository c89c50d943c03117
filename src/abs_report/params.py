"""Parameter files: ``params/<territory>.yml`` validated into a frozen object.

A parameter file says which territory, compared with which zones, for which
year, for whom and why. Every mistake is reported with the file, the line,
the key and the value, and close matches for a mistyped code or name::

    territory:
      level: commune          # commune, epci, departement, region, aggregation or qpv
      code: "38185"
    year: 2024
    recipient: CCAS de Grenoble
    purpose: Analyse des besoins sociaux 2026-2032
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError,
                      field_validator)

from . import safe_yaml
from .dataref import DataRef
from .errors import InputError, Problem
from .geography import FRANCE_CODE, LEVEL_LABELS, QPV_LEVELS, Geography, UnknownZone, Zone, _fold

Level = Literal["commune", "epci", "departement", "region", "aggregation", "qpv"]
ComparisonLevel = Literal["commune", "epci", "departement", "region", "france", "aggregation", "qpv", "hors_qpv",
                          "qpv_departement"]
Format = Literal["pdf", "html"]
DEFAULT_FORMATS = ("pdf", "html")

AGGREGATION_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}", re.ASCII)
"""An aggregation's code names its output folder: an ASCII letter, then up to 39 ASCII letters,
digits, ``_`` or ``-``. No dot, slash or space; it cannot look like a COG code (those start with a
digit) and may not equal one, whatever the case (``FR`` is France)."""
LIMITS = {"title": 200, "recipient": 300, "purpose": 1000, "name": 150, "code": 40, "data": 500,
          "communes": 6000, "comparison_zones": 20}
"""Longest text (characters) or list (items) accepted per field of a parameter file."""

CommuneCode = Annotated[str, StringConstraints(min_length=1, max_length=10)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ZoneSpec(_Strict):
    """A zone as written in a parameter file."""

    level: ComparisonLevel
    code: str = Field(max_length=LIMITS["code"])
    name: str | None = Field(default=None, min_length=1, max_length=LIMITS["name"])
    communes: tuple[CommuneCode, ...] = Field(default=(), max_length=LIMITS["communes"])

    @field_validator("communes", mode="before")
    @classmethod
    def _communes_are_a_list(cls, value):
        if value is None:
            return ()
        if isinstance(value, str | int | dict):
            # A string is a sequence of characters: say what is wrong, not which character.
            raise ValueError('une liste de codes de communes est attendue, p. ex. ["38185", "38151"]')
        return value


class ParamsFile(_Strict):
    """The YAML schema of a parameter file."""

    territory: ZoneSpec
    year: int = Field(ge=2000, le=2100)
    comparison_zones: tuple[ZoneSpec, ...] | None = Field(default=None, max_length=LIMITS["comparison_zones"])
    """``None`` (written ``default`` or left out): every level above the territory."""
    title: str = Field(default="Analyse des besoins sociaux", min_length=1, max_length=LIMITS["title"])
    recipient: str = Field(min_length=1, max_length=LIMITS["recipient"])
    purpose: str = Field(min_length=1, max_length=LIMITS["purpose"])
    formats: tuple[Format, ...] = Field(default=DEFAULT_FORMATS, min_length=1)
    data: str = Field(default="demo", min_length=1, max_length=LIMITS["data"])
    """``demo`` for the embedded demonstration data, else a dataset folder
    built by ``abs-report data import`` (relative to the parameter file)."""
    geography: str | None = Field(default=None, min_length=1, max_length=LIMITS["data"])
    """Map contours: a folder written by ``abs-report geo import`` (absolute, or relative to the
    parameter file, as ``data``); the packaged contours of Isère when absent."""
    maps: StrictBool = True
    """``false``: a report without its maps (locator and choropleths); their values stay in
    ``published.csv`` and ``tables.xlsx``. For a text-only edition, and to measure what maps cost."""

    @field_validator("comparison_zones", mode="before")
    @classmethod
    def _default_or_list(cls, value):
        if value == "default":
            return None
        if isinstance(value, str | int | dict):
            raise ValueError("une liste de zones (level, code) ou « default » est attendue")
        return value


TOP_KEYS = tuple(ParamsFile.model_fields)
ZONE_KEYS = tuple(ZoneSpec.model_fields)


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
    raw: dict
    geography: Path | None = None
    """The folder of imported map contours, if the parameter file names one."""
    maps: bool = True
    """Whether the report draws its maps (``maps: false`` in the parameter file drops them)."""

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The territory first, then its comparison zones."""
        return (self.territory, *self.comparison_zones)

    @property
    def data_ref(self) -> DataRef:
        """The ``data`` value, parsed: the demonstration data or a folder relative to this file."""
        return DataRef.parse(self.data, Path(self.source).parent)


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


def _shown_value(value):
    """A value as a message may print it: text escaped and cut, containers not dumped whole."""
    if isinstance(value, str):
        return safe_yaml.shown(value)
    if isinstance(value, dict | list | tuple):
        return safe_yaml.shown(repr(value))
    return value


def validation_problems(raw: dict, name: str, lines: dict[tuple, int] | None = None,
                        source: dict[tuple, str] | None = None, prefix: str = "",
                        found: list[Problem] | None = None) -> tuple[ParamsFile | None, list[Problem]]:
    """Type-check parsed parameters; every problem in French, naming ``name``, line and field.

    ``prefix`` is put before field names (a manifest's ``reproducible.parameters.as_given.``);
    ``found`` are the problems the YAML reading found (characters, repeated keys), with their
    lines; without it, strings are checked here.
    """
    lines, source = lines or {}, source or {}
    problems = list(found) if found is not None else _text_problems(raw, name, prefix)
    try:
        parsed = ParamsFile.model_validate(raw)
        return (parsed, []) if not problems else (None, problems)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            value = _value_at(raw, loc) if err["type"] != "missing" else None
            written = source.get(loc)
            problems.append(Problem(name, _french_message(err, written), line=_line_of(lines, loc),
                                    field=safe_yaml.shown(prefix + ".".join(str(p) for p in loc), 150),
                                    value=written if _unquoted(err, written) else _shown_value(value)))
        return None, problems


def _text_problems(raw, name: str, prefix: str, path: tuple = ()) -> list[Problem]:
    """Control and bidirectional characters in any string (a manifest has no YAML pass)."""
    if isinstance(raw, dict):
        return [p for k, v in raw.items() for p in _text_problems(k, name, prefix, path)
                + _text_problems(v, name, prefix, path + (k,))]
    if isinstance(raw, list):
        return [p for i, v in enumerate(raw) for p in _text_problems(v, name, prefix, path + (i,))]
    if isinstance(raw, str) and (char := safe_yaml.bad_character(raw)) is not None:
        return [Problem(name, f"caractère interdit U+{ord(char):04X}",
                        field=safe_yaml.shown(prefix + ".".join(map(str, path)), 150),
                        value=safe_yaml.shown(raw))]
    return []


def read_params_file(path: Path) -> tuple[ParamsFile, dict, dict[tuple, int]]:
    """Parse and type-check a parameter file (no geography or data look-up yet)."""
    name = str(path)
    doc = safe_yaml.load(Path(path))
    if not isinstance(doc.data, dict):
        raise InputError(Problem(name, "le fichier doit contenir un dictionnaire de paramètres"))
    parsed, problems = validation_problems(doc.data, name, doc.lines, doc.source, found=doc.problems)
    if problems:
        raise InputError(problems)
    return parsed, doc.data, doc.lines


def _unquoted(err: dict, written: str | None) -> bool:
    """A code YAML read as a number (``01001`` is 513 in YAML 1.1, ``38185`` is 38185)."""
    loc = err["loc"]
    return (written is not None and err["type"] == "string_type" and isinstance(err.get("input"), int | float)
            and ("code" in loc or "communes" in loc))


def _french_message(err: dict, written: str | None = None) -> str:
    kind, ctx, loc = err["type"], err.get("ctx") or {}, err["loc"]
    if _unquoted(err, written):
        return (f'un code s\'écrit entre guillemets : "{written}" (sans guillemets, YAML le lit comme un '
                "nombre, et 01001 y perdrait son zéro ou deviendrait un autre nombre)")
    if kind == "extra_forbidden":
        keys = ZONE_KEYS if len(loc) > 1 and loc[0] in ("territory", "comparison_zones") else TOP_KEYS
        return "clé inconnue ; clés possibles ici : " + ", ".join(keys)
    messages = {
        "missing": "clé obligatoire absente",
        "string_type": "un texte est attendu",
        "int_type": "un nombre entier est attendu",
        "int_parsing": "un nombre entier est attendu",
        "int_from_float": "un nombre entier est attendu",
        "tuple_type": "une liste est attendue",
        "list_type": "une liste est attendue",
        "model_type": "un dictionnaire de clés est attendu (" + ", ".join(ZONE_KEYS) + ")",
        "model_attributes_type": "un dictionnaire de clés est attendu (" + ", ".join(ZONE_KEYS) + ")",
        "dict_type": "un dictionnaire de clés est attendu",
        "literal_error": f"valeur non reconnue ; attendu : {ctx.get('expected', '')}".replace("'", "")
        .replace(" or ", " ou "),
        "greater_than_equal": f"valeur trop petite ; au moins {ctx.get('ge')}",
        "less_than_equal": f"valeur trop grande ; au plus {ctx.get('le')}",
        "string_too_short": "ne peut pas être vide",
        "string_too_long": f"texte trop long ; au plus {ctx.get('max_length')} caractères",
        "too_short": f"liste trop courte ; au moins {ctx.get('min_length')} élément(s)",
        "too_long": f"liste trop longue ; au plus {ctx.get('max_length')} éléments",
        "bool_type": "oui ou non (true, false) est attendu",
    }
    if kind == "value_error":
        return str(ctx.get("error", "valeur refusée"))
    if kind in ("greater_than_equal", "less_than_equal") and loc == ("year",):
        return "année hors de la plage admise (2000-2100)"
    return messages.get(kind, "valeur refusée (type ou forme inattendus)")


def _resolve_zone(spec: ZoneSpec, geography: Geography) -> Zone:
    if spec.level == "aggregation":
        if not spec.communes:
            raise ValueError("un regroupement doit lister ses communes (clé 'communes')")
        return geography.aggregation(spec.code, spec.name or spec.code, list(spec.communes))
    if spec.level == "qpv":
        return _resolve_qpv(spec, geography)
    if spec.level == "hors_qpv" and spec.code in geography.communes.index and not geography.qpv_of_commune(spec.code):
        raise WrongCommune(f"{geography.communes.at[spec.code, 'name']} ({spec.code}) n'a aucun quartier prioritaire "
                           "de la politique de la ville : pas de zone « hors QPV »", "code")
    zone = geography.zone(spec.level, spec.code)
    return zone if not spec.name else Zone(zone.level, zone.code, spec.name, zone.members)


class WrongCommune(ValueError):
    """A QPV zone that does not fit its commune: a QPV elsewhere, or « hors QPV » of a commune without QPV."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _resolve_qpv(spec: ZoneSpec, geography: Geography) -> Zone:
    """A QPV by its code; its ``communes`` key, when given, must name communes it lies in."""
    try:
        zone = geography.zone("qpv", spec.code)
    except UnknownZone as exc:
        raise UnknownZone("qpv", exc.code, qpv_suggestions(spec.code, geography)) from None
    names = geography.communes["name"]
    wrong = [c for c in spec.communes if c not in zone.members]
    if wrong:
        where = " et ".join(f"{names.get(c, c)} ({c})" for c in zone.members)
        given = ", ".join(f"{names.get(c, c)} ({c})" if c in names.index else c for c in wrong)
        raise WrongCommune(f"le QPV {zone.code} ({zone.name}) n'est pas dans {given} : il est à {where}",
                           "communes")
    return zone if not spec.name else Zone(zone.level, zone.code, spec.name, zone.members)


def qpv_suggestions(text: str, geography: Geography, n: int = 3) -> list[str]:
    """QPV close to a mistyped code or a name (a part of the name is enough), as ``code (name)``."""
    table = geography.qpv_table
    folded = "".join(c for c in _fold(text) if c.isalnum())
    by_name = [code for code, name in table["name"].items()
               if folded and folded in "".join(c for c in _fold(name) if c.isalnum())]
    found = list(dict.fromkeys(by_name + geography.suggest("qpv", text, n)))[:n]
    return [f"{c} ({table.at[c, 'name']})" if c in table.index else c for c in found]


def qpv_comparison_zones(zone: Zone, geography: Geography) -> tuple[Zone, ...]:
    """A QPV's default comparison zones: its commune(s), its EPCI, its département, all QPV of the département."""
    communes = [geography.zone("commune", c) for c in zone.members]
    epcis = dict.fromkeys(geography.communes.at[c.code, "epci"] for c in communes)
    departement = str(geography.qpv_table.at[zone.code, "departement"])
    return (*communes, *(geography.zone("epci", e) for e in epcis if e),
            geography.zone("departement", departement), geography.zone("qpv_departement", departement))


def _list_of(level: str) -> str:
    """Where a code of ``level`` is looked up, for an error message."""
    if level == "hors_qpv":
        return "(commune sans QPV ou inconnue)"
    return "de la liste des QPV 2024" if level in QPV_LEVELS else "du COG"


def _cog_codes(geography: Geography) -> frozenset[str]:
    """Every code of every level of the packaged geography, case-folded."""
    cached = getattr(geography, "_all_codes_folded", None)
    if cached is None:
        codes = [*geography.communes.index, *geography.epcis.index, *geography.departements.index,
                 *geography.regions.index, *geography.former_codes, FRANCE_CODE,
                 *geography.qpv_table.index]  # a QPV code names a report folder too (issue 15)
        cached = frozenset(str(c).casefold() for c in codes)
        geography._all_codes_folded = cached
    return cached


def aggregation_code_problem(code: str, geography: Geography) -> str | None:
    """Why an aggregation code cannot name an output folder, or ``None`` when it can."""
    if not AGGREGATION_CODE.fullmatch(code):
        return ("code de regroupement invalide : une lettre puis au plus 39 lettres, chiffres, « _ » ou « - » "
                "(sans accent, point, barre oblique ni espace), p. ex. « vercors-nord »")
    if code.casefold() in _cog_codes(geography):
        return "code de regroupement déjà pris par une zone du COG : choisissez un autre code"
    return None


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

    def add(message: str, field: tuple, value) -> None:
        problems.append(Problem(str(path), message, line=_line_of(lines, field),
                                field=".".join(map(str, field)), value=_shown_value(value)))

    def resolve(spec: ZoneSpec, loc: tuple) -> Zone | None:
        if spec.level == "aggregation" and (why := aggregation_code_problem(spec.code, geography)):
            add(why, loc + ("code",), spec.code)
            return None
        try:
            return _resolve_zone(spec, geography)
        except UnknownZone as exc:
            field = loc + (("communes",) if spec.level == "aggregation" else ("code",))
            hint = f" ; vouliez-vous dire : {', '.join(exc.suggestions)} ?" if exc.suggestions else ""
            add(f"code {LEVEL_LABELS.get(exc.level, exc.level)} inconnu {_list_of(exc.level)}{hint}", field,
                exc.code)
        except WrongCommune as exc:
            add(str(exc), loc + (exc.field,), list(spec.communes) if exc.field == "communes" else spec.code)
        except ValueError as exc:
            add(str(exc), loc, spec.level)
        return None

    territory = resolve(parsed.territory, ("territory",))
    if parsed.territory.level == "france":
        add("le territoire d'étude ne peut pas être la France entière", ("territory", "level"), "france")
    if parsed.comparison_zones is None and territory is not None and territory.level == "qpv":
        comparison = qpv_comparison_zones(territory, geography)
    elif parsed.comparison_zones is None:
        comparison = tuple(geography.parent_chain(territory)) if territory else ()
    else:
        comparison = _comparison_zones(parsed.comparison_zones, territory, resolve, add)
    if available_years is not None and parsed.year not in available_years:
        add("année absente des données ; années disponibles : " + ", ".join(map(str, available_years)),
            ("year",), parsed.year)
    geography_folder = _geography_folder(path, parsed.geography, add)
    if problems:
        raise InputError(problems)
    return ReportParams(source=path, territory=territory, comparison_zones=comparison,
                        year=parsed.year, title=parsed.title, recipient=parsed.recipient,
                        purpose=parsed.purpose, formats=tuple(dict.fromkeys(parsed.formats)),
                        data=parsed.data, raw=raw, geography=geography_folder, maps=parsed.maps)


def _geography_folder(path: Path, value: str | None, add) -> Path | None:
    """The ``geography:`` folder, checked: it must hold contours written by ``abs-report geo import``."""
    if value is None:
        return None
    from .geometry import PACKAGED_FILE, read_geometry

    folder = Path(value) if Path(value).is_absolute() else path.parent / value
    try:
        read_geometry(folder / PACKAGED_FILE)
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        what = "dossier sans fichier de contours" if isinstance(exc, FileNotFoundError) else \
            "fichier de contours illisible"
        add(f"{what} (attendu : un dossier écrit par « abs-report geo import »)", ("geography",), value)
        return None
    return folder.resolve()


def _comparison_zones(specs, territory: Zone | None, resolve, add) -> tuple[Zone, ...]:
    """The listed comparison zones, refusing the territory itself and a zone listed twice."""
    zones, seen = [], {}
    for i, spec in enumerate(specs):
        zone = resolve(spec, ("comparison_zones", i))
        if zone is None:
            continue
        if territory is not None and zone.key == territory.key:
            add("zone de comparaison identique au territoire étudié", ("comparison_zones", i, "code"), zone.code)
        elif zone.key in seen:
            add(f"zone de comparaison listée deux fois (aussi en position {seen[zone.key]})",
                ("comparison_zones", i, "code"), zone.code)
        else:
            seen[zone.key] = i
            zones.append(zone)
    return tuple(zones)


def write_params(values: dict, path: Path) -> Path:
    """Write already validated parameter ``values`` as a parameter file at ``path`` (chosen by the caller)."""
    path.write_text(yaml.safe_dump(values, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
