"""INSEE populations légales by commune, to replace the COG population.

Accepted layouts: a commune code column (``COM``, ``CODGEO``, ``DEPCOM`` or
``CODE_COMMUNE``) and the population municipale (``PMUN``, or ``PMUN<YY>`` as
in INSEE's historical series), ``;`` or ``,`` separated, UTF-8. Former
commune codes are mapped to today's commune and summed.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from ..errors import Problem
from ..geography import Geography
from . import reading
from .reading import Text

CODE_COLUMNS = ("com", "codgeo", "depcom", "code_commune")
POPULATION_PREFIX = "pmun"


def looks_like(header: tuple[str, ...]) -> bool:
    lower = {h.lower() for h in header}
    return bool(lower & set(CODE_COLUMNS)) and any(h.startswith(POPULATION_PREFIX) for h in lower)


def population_column(header: tuple[str, ...]) -> str | None:
    """``pmun``, else the most recent ``pmunYY`` column."""
    if POPULATION_PREFIX in header:
        return POPULATION_PREFIX
    candidates = sorted(h for h in header if h.startswith(POPULATION_PREFIX) and h[4:].isdigit())
    return candidates[-1] if candidates else None


def read(source: Text, geography: Geography) -> tuple[pd.Series, list[str]]:
    """Commune code (today's) -> population municipale, and notes."""
    reading.require_separator(source, (";", ","), "de population Insee")
    frame = reading.read_csv(source)
    frame.columns = [c.lower() for c in frame.columns]
    header = tuple(frame.columns)
    code = next((c for c in CODE_COLUMNS if c in header), "com")
    pop = population_column(header) or "pmun"
    schema = pa.DataFrameSchema({
        code: pa.Column(str, checks=reading.commune_code_checks(geography)),
        pop: pa.Column(str, checks=pa.Check(lambda s: s != "", error="population manquante")),
    }, unique=[code], report_duplicates="all")
    problems = reading.validate(frame, schema, source.name, header)
    problems += reading.number_problems(frame, pop, source.name)
    reading.raise_if(sorted(problems, key=lambda p: (p.line or 0, p.field or "")))
    codes = frame[code].map(geography.current_commune_code)
    values = reading.to_number(frame[pop])
    merged = codes[codes != frame[code]]
    series = values.groupby(codes.to_numpy()).sum()
    series.index = series.index.astype(str)
    notes = [f"{source.name} : population municipale de {len(series)} communes (colonne "
             f"{pop.upper()}) ; les autres communes gardent celle du COG "
             f"{geography.meta.get('population_year', '')}".rstrip()]
    if len(merged):
        notes.append(f"{source.name} : {len(merged)} ancien(s) code(s) rattaché(s) à la commune "
                     f"actuelle et additionné(s) : " + ", ".join(
                         f"{old} -> {new}" for old, new in zip(frame.loc[merged.index, code], merged)))
    return series, notes


def combined(series: pd.Series, geography: Geography) -> pd.Series:
    """The file's population where given, the COG's elsewhere.

    Upper levels are summed from communes: a file covering only some communes
    must not shrink France to their sum.
    """
    base = geography.communes["population"].astype("float64").copy()
    base.loc[series.index] = series.astype("float64")
    return base
