"""What to build: one job per territory, from a département's zones or a folder of parameter files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_file
from ..errors import InputError, Problem
from ..geography import Geography, UnknownZone, Zone
from ..params import DEFAULT_FORMATS, read_params_file
from ..paths import outputs_dir
from ..template import fill


LEVELS = ("commune", "epci", "departement")
"""The levels a batch builds by default."""
ALL_LEVELS = (*LEVELS, "qpv")
"""Every level ``--levels`` accepts: ``qpv`` builds the département's quartiers prioritaires (issue 15)."""
DEFAULT_RECIPIENT = "Caf de l'Isère : analyse des besoins sociaux du territoire"
DEFAULT_PURPOSE = "Analyse des besoins sociaux {year} : diagnostic des familles allocataires du territoire"



@dataclass(frozen=True)
class Defaults:
    """Parameters of territories that have no parameter file."""

    recipient: str = DEFAULT_RECIPIENT
    purpose: str = DEFAULT_PURPOSE
    title: str = "Analyse des besoins sociaux"
    formats: tuple[str, ...] = DEFAULT_FORMATS
    data: str = "demo"
    maps: bool = True
    """``False`` (``--no-maps``): the parameter files written say ``maps: false``."""


@dataclass(frozen=True)
class Job:
    """One territory to build: picklable, so it travels to pool and Dask workers."""

    level: str
    code: str
    name: str
    year: int
    root: str
    """Root of the output folders (``outputs/``)."""
    params_file: str | None = None
    defaults: Defaults = Defaults()
    renderer: str = "builtin"
    fingerprint: str = ""

    @property
    def label(self) -> str:
        return f"{self.level} {self.code} {self.name}"


@dataclass(frozen=True)
class JobResult:
    """What became of one territory."""

    level: str
    code: str
    name: str
    year: int
    status: str
    """``built``, ``skipped`` (up to date) or ``failed``."""
    seconds: float = 0.0
    reason: str = ""
    folder: str = ""
    attempts: int = 0
    timings: dict = field(default_factory=dict)


def _zone_codes(geography: Geography, departement: str, levels: Sequence[str]) -> list[tuple[str, str]]:
    """Territories of a département, largest first (the pool then ends on small reports)."""
    zones = []
    if "departement" in levels:
        zones.append(("departement", departement))
    if "epci" in levels:
        zones += [("epci", e) for e in geography.epcis_of_departement(departement)]
    if "commune" in levels:
        zones += [("commune", c) for c in geography.member_communes_of("departement", departement)]
    if "qpv" in levels:
        zones += [("qpv", q) for q in geography.qpv_of_departement(departement)]
    return zones


def _in_departement(geography: Geography, zone: Zone, departement: str) -> bool:
    if zone.level == "departement":
        return zone.code == departement
    codes = [zone.code] if zone.level == "commune" else list(zone.members)
    return bool((geography.communes.loc[codes, "departement"] == departement).any())


def plan(geography: Geography, departement: str, year: int, *, levels: Sequence[str] = LEVELS,
         zones: Sequence[str] = (), params_dir: Path | None = None, limit: int | None = None,
         root: Path | None = None, defaults: Defaults = Defaults(), renderer: str = "builtin") -> list[Job]:
    """The territories of a batch, narrowed by level, codes, parameter files and ``limit``.

    Raises
    ------
    InputError
        Unknown département, level or zone code (with close matches).
    """
    root = Path(root or outputs_dir()).resolve()
    _check_selection(geography, departement, levels, zones)
    if params_dir is not None:
        jobs = _jobs_from_files(geography, Path(params_dir), departement, year, levels, root, renderer)
    else:
        jobs = [Job(level, code, geography.zone(level, code).name, year, str(root), defaults=defaults,
                    renderer=renderer) for level, code in _zone_codes(geography, departement, levels)]
    if zones:
        wanted = set(zones)
        jobs = [j for j in jobs if j.code in wanted]
    return jobs[:limit] if limit is not None else jobs


def _check_selection(geography: Geography, departement: str, levels: Sequence[str],
                     zones: Sequence[str]) -> None:
    problems = []
    if departement not in geography.departements.index:
        hint = ", ".join(geography.suggest("departement", departement))
        problems.append(Problem("--departement", "département inconnu du COG"
                                + (f" ; vouliez-vous dire : {hint} ?" if hint else ""), value=departement))
    for level in levels:
        if level not in ALL_LEVELS:
            problems.append(Problem("--levels", f"niveau inconnu ; niveaux possibles : {', '.join(ALL_LEVELS)}",
                                    value=level))
    if not problems:
        known = {code for _, code in _zone_codes(geography, departement, ALL_LEVELS)}
        for code in zones:
            if code not in known:
                problems.append(Problem("--zones", f"territoire absent du département {departement}",
                                        value=code))
    if problems:
        raise InputError(problems)


def _jobs_from_files(geography: Geography, folder: Path, departement: str, year: int,
                     levels: Sequence[str], root: Path, renderer: str) -> list[Job]:
    """One job per parameter file of ``folder`` for a territory of the département and year."""
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    if not files:
        raise InputError(Problem(str(folder), "aucun fichier de paramètres (*.yml) dans ce dossier"))
    jobs, problems = [], []
    for path in files:
        try:
            parsed, _, _ = read_params_file(path)
        except InputError as exc:  # every file checked: all the problems at once
            problems += exc.problems
            continue
        spec = parsed.territory
        if parsed.year != year or spec.level not in levels:
            continue
        try:
            zone = (geography.aggregation(spec.code, spec.name or spec.code, list(spec.communes))
                    if spec.level == "aggregation" else geography.zone(spec.level, spec.code))
        except UnknownZone:
            zone = None  # load_params reports it, with the line, when the job runs
        if zone is not None and not _in_departement(geography, zone, departement):
            continue
        jobs.append(Job(spec.level, spec.code, spec.name or (zone.name if zone else spec.code), year,
                        str(root), params_file=str(path.resolve()), renderer=renderer))
    if problems:
        raise InputError(problems)
    return jobs


def params_text(zone: Zone, year: int, defaults: Defaults = Defaults()) -> str:
    """The parameter file of a territory that has none: its code, the year and the defaults.

    Comparison zones are the default chain above the territory.
    """
    import yaml

    raw = {"territory": {"level": zone.level, "code": zone.code}, "year": int(year), "title": defaults.title,
           "recipient": defaults.recipient,
           "purpose": fill(defaults.purpose, purpose_values(year), "--purpose"),
           "formats": list(defaults.formats), "data": defaults.data}
    if not defaults.maps:  # written only when off: the files (and fingerprints) of a usual batch stay
        raw["maps"] = False
    header = f"# Écrit par abs-report batch pour {zone.name} ({zone.level} {zone.code}).\n"
    return header + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def purpose_values(year: int) -> dict[str, int]:
    """What ``--purpose`` may hold: ``{year}`` or ``{annee}``, the year of the batch."""
    return {"year": int(year), "annee": int(year)}


def params_file_for(zone: Zone, year: int, root: Path, defaults: Defaults = Defaults()) -> Path:
    """Write (only when its text changes) the parameter file of a territory that has none.

    Every report, even one planned from a département, is built from a file
    that its manifest records and an auditor can re-run:
    ``outputs/.params/<level>-<code>-<year>.yml``.
    """
    path = Path(root) / ".params" / f"{zone.level}-{zone.code}-{year}.yml"
    text = params_text(zone, year, defaults)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file(path, text)
