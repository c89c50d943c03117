"""French formatting of numbers and dates, as a reader of a report expects them.

``1 234`` (narrow no-break space as thousands separator), ``57,1 %``,
``12 345 €``, ``31 décembre 2024``. Secret figures print as ``s`` (INSEE
convention), unavailable ones as ``nd``.
"""

from __future__ import annotations

import datetime as dt
import math

THIN = "\u202f"  # narrow no-break space: French thousands separator and before % and €
MINUS = "\u2212"  # typographic minus: Typst would turn a hyphen before a digit into one anyway
SECRET = "s"
MISSING = "nd"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")

DECIMALS = {"count": 0, "euro": 0, "percent": 1, "ratio": 2}


def number(value: float, decimals: int = 0) -> str:
    """``1234.5`` -> ``1 234,5`` (rounded half away from zero, like a reader would)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    scaled = abs(value) * 10 ** decimals
    rounded = math.floor(scaled + 0.5) / 10 ** decimals
    text = f"{rounded:,.{decimals}f}".replace(",", THIN).replace(".", ",")
    return (MINUS if value < 0 and rounded != 0 else "") + text


def axis_tick(v: float) -> str:
    """A chart's tick label: ``22.5`` -> ``22,5``, ``1600`` -> ``1 600``, ``20.0`` -> ``20``."""
    for decimals in range(3):
        if abs(v * 10 ** decimals - round(v * 10 ** decimals)) < 1e-6:
            return number(v, decimals)
    return number(v, 2)


def value(v: float | None, unit: str) -> str:
    """A value in its unit: count, euro, percent (already scaled to 100) or ratio."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    text = number(v, DECIMALS[unit])
    if unit == "percent":
        return f"{text}{THIN}%"
    if unit == "euro":
        return f"{text}{THIN}€"
    return text


def signed_percent(v: float) -> str:
    """An evolution rate: ``+3,2 %`` / ``-1,0 %``."""
    text = value(v, "percent")
    return text if text.startswith(MINUS) or text == MISSING else "+" + text


def french_date(day: dt.date) -> str:
    """``2024-12-31`` -> ``31 décembre 2024`` (``1er`` for the first of a month)."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def reference_date(year: int) -> str:
    """CAF statistics describe the situation at the end of December."""
    return french_date(dt.date(year, 12, 31))
