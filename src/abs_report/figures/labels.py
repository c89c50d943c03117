"""French labels, short labels and definitions of the measures a report prints."""

from __future__ import annotations

from ..catalogue import INDICATORS, MEASURES, label


def item_label(measure: str) -> str:
    """French label of a published measure, including evolution and index rows."""
    for prefix, name in (("evolution_", "Évolution"), ("indice_", "Indice")):
        if measure.startswith(prefix):
            text = label(measure[len(prefix):])
            return f"{name} : {text[:1].lower()}{text[1:]}"
    return label(measure)


def short_label(item: str) -> str:
    """``Part des foyers au RSA`` -> ``Au RSA``: a column header or an axis label."""
    text = label(item)
    for prefix in ("Part des foyers ", "Part des ", "Part du ", "Taux de ", "Taux d'"):
        if text.startswith(prefix):
            return text[len(prefix):][0].upper() + text[len(prefix):][1:]
    return text


def lower_first(text: str) -> str:
    """``Foyers au RSA`` -> ``foyers au RSA``; acronyms (``AAH``) stay as they are."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def definition(item: str) -> str:
    """The glossary's definition of a measure or an indicator (with its numerator and denominator)."""
    if item in MEASURES:
        return MEASURES[item].definition
    ind = INDICATORS[item]
    return (f"{ind.definition} Numérateur : {lower_first(label(ind.numerator))} ; "
            f"dénominateur : {lower_first(label(ind.denominator))}.")


def join(names: list[str]) -> str:
    """``a``, ``a et b``, ``a, b et c``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " et " + names[-1]
