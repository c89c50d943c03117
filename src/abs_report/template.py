"""Fill a text template from the command line with named values: no ``str.format``.

``str.format`` reaches attributes and items of its arguments
(``{year.__class__.__mro__}``) and fails on positional fields (``{0}``). A
template here may only hold the placeholders it is given (``{year}``,
``{annee}``), ``{{`` and ``}}`` for literal braces, and plain text; anything
else is refused with the option's name.
"""

from __future__ import annotations

import re

from .errors import InputError, Problem
from .safe_yaml import shown

_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z_]{1,20})\}|[{}]")


def fill(template: str, values: dict[str, object], option: str) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced by its text.

    Raises
    ------
    InputError
        A brace that opens no known placeholder (naming ``option`` and the template).
    """
    allowed = ", ".join("{" + name + "}" for name in values)

    def replace(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            return token[0]
        if name in values:
            return str(values[name])
        raise InputError(Problem(option, f"accolade ou champ non admis {shown(token)!s} ; champs possibles : "
                                 f"{allowed} (accolade seule : {{{{ ou }}}})", value=shown(template)))

    return _TOKEN.sub(replace, template)


def check(template: str, names: tuple[str, ...], option: str) -> None:
    """Refuse a template that :func:`fill` would refuse, before anything is built."""
    fill(template, {name: "" for name in names}, option)
