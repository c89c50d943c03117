"""The versioned rules file of the secret statistique, read into a frozen object."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..errors import InputError, Problem


@dataclass(frozen=True)
class Rules:
    """Thresholds of the secret statistique (see ``rules/default.yml``)."""

    version: str
    threshold: int = 5
    zero_is_secret: bool = False
    infra_min_size: int = 100
    infra_size_measure: str = "foyers_allocataires"
    infra_min_qualifying: int = 2
    finest_level: str = "iris"
    iris_code_length: int = 9
    protection_level: int = 5
    max_rounds: int = 60


_SCHEMA = {
    "primary": {"threshold": ("threshold", int), "zero_is_secret": ("zero_is_secret", bool)},
    "infra_communal": {"min_size": ("infra_min_size", int),
                       "size_measure": ("infra_size_measure", str),
                       "min_qualifying_zones": ("infra_min_qualifying", int)},
    "floor": {"finest_level": ("finest_level", str), "iris_code_length": ("iris_code_length", int)},
    "secondary": {"protection_level": ("protection_level", int), "max_rounds": ("max_rounds", int)},
}


def default_rules_path() -> Path:
    """The rules file shipped with the package."""
    return Path(str(resources.files("abs_report").joinpath("rules", "default.yml")))


def load_rules(path: Path | None = None) -> Rules:
    """Read and validate a rules file (default: the packaged ``rules/default.yml``).

    Raises
    ------
    InputError
        Unknown section or key, wrong type, or a missing ``version``.
    """
    path = Path(path) if path is not None else default_rules_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(str(path), f"fichier de règles illisible : {exc}")) from exc
    return _parse_rules(str(path), text)


@functools.lru_cache(maxsize=8)
def _parse_rules(path: str, text: str) -> Rules:
    """The rules of one file's text: parsed once per process (each report asks for every year)."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(Problem(path, f"fichier de règles illisible : {exc}")) from exc
    if not isinstance(raw, dict):
        raise InputError(Problem(path, "le fichier de règles doit être un dictionnaire YAML"))
    problems: list[Problem] = []
    values: dict[str, object] = {}
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        problems.append(Problem(path, "version manquante (chaîne attendue)", field="version",
                                value=version))
    for section, content in raw.items():
        if section == "version":
            continue
        if section not in _SCHEMA or not isinstance(content, dict):
            problems.append(Problem(path, "section inconnue", field=section))
            continue
        for key, value in content.items():
            if key not in _SCHEMA[section]:
                problems.append(Problem(path, "clé inconnue", field=f"{section}.{key}"))
                continue
            name, kind = _SCHEMA[section][key]
            # bool is a subclass of int: refuse `threshold: true`.
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                problems.append(Problem(path, f"type attendu : {kind.__name__}",
                                        field=f"{section}.{key}", value=value))
                continue
            values[name] = value
    if problems:
        raise InputError(problems)
    return Rules(version=version, **values)
