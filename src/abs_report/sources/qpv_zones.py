"""Which quartier prioritaire each row of a Cafdata QPV export is about (issue 15).

Cafdata's QPV datasets (``ndur_s_qf_400_qpv_f``...) name the quartier in
``nomqpv``, beside its commune ``numcomdo``; some exports also carry the QPV
code. The code is used when there is a code column; otherwise the name is
matched to the packaged list (ANCT, QP2024) ignoring case, accents, hyphens
and spacing, and the commune settles a name two QPV share. A row naming an
unknown QPV, an ambiguous name or a QPV outside the row's commune is an
error naming the file, line, column and value. ``Hors QPV`` rows of a commune
become ``hors_qpv`` rows; totals over the commune's QPV are left out (the
model has no such zone).
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from ..errors import Problem
from ..geography import Geography
from . import reading

CODE_COLUMNS = ("codeqpv", "code_qpv", "code_qp", "codeqp", "numqpv", "cod_qpv", "qp")
"""QPV code columns seen in exports, in order of preference."""
NAME_COLUMNS = ("nomqpv", "nom_qpv", "libqpv", "lib_qp")
COMMUNE_COLUMN = "numcomdo"
TOTAL_WORDS = ("ensemble", "total", "tous", "toutes")
OUTSIDE_WORDS = ("hors qpv", "hors quartier", "hors qp")


def _fold(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in norm if not unicodedata.combining(c)).lower().replace("-", " ")
    return " ".join(bare.split())


def columns(header: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The file's QPV code column and QPV name column (either may be None)."""
    code = next((c for c in CODE_COLUMNS if c in header), None)
    name = next((c for c in NAME_COLUMNS if c in header), None)
    return code, name


def is_qpv_file(header: tuple[str, ...]) -> bool:
    """A file with a QPV code or name column is read at the QPV level."""
    return columns(header) != (None, None)


def resolve(frame: pd.DataFrame, header: tuple[str, ...], geography: Geography, file: str,
            key: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The rows kept, their zone (``level``, ``code`` by line) and notes.

    Parameters
    ----------
    frame
        The file's cells as text, indexed by line.
    key
        Columns that, with the zone, identify a row (date, category).

    Raises
    ------
    InputError
        Every unknown, ambiguous or misplaced QPV and every duplicated row, at once.
    """
    code_col, name_col = columns(header)
    commune_col = COMMUNE_COLUMN if COMMUNE_COLUMN in header else None
    zones, problems, totals = {}, [], 0
    for line, row in frame.iterrows():
        label = row[name_col] if name_col else ""
        if name_col and _fold(label).startswith(TOTAL_WORDS):
            totals += 1
            continue
        commune = geography.current_commune_code(row[commune_col]) if commune_col else None
        found = _row_zone(row, label, commune, code_col, name_col, commune_col, geography, file, int(line))
        if isinstance(found, Problem):
            problems.append(found)
        else:
            zones[line] = found
    zone_frame = pd.DataFrame.from_dict(zones, orient="index", columns=["level", "code"])
    problems += _duplicates(frame.loc[zone_frame.index], zone_frame, key, code_col or name_col, file)
    reading.raise_if(sorted(problems, key=lambda p: (p.line or 0, p.field or "")))
    notes = [f"{file} : {totals} ligne(s) d'ensemble des QPV d'une commune ignorées "
             "(« Ensemble des QPV de la commune » : chaque QPV a ses propres lignes)"] if totals else []
    return frame.loc[zone_frame.index], zone_frame, notes


def _row_zone(row, label, commune, code_col, name_col, commune_col, geography, file, line):
    """``(level, code)`` of one row, or the :class:`Problem` that prevents it."""
    blank_code = not code_col or not row[code_col].strip()
    if name_col and blank_code and any(_fold(label).startswith(w) for w in OUTSIDE_WORDS):
        return _outside(row, label, commune, name_col, commune_col, geography, file, line)
    if code_col:
        code = row[code_col].strip().upper()
        if code not in geography.qpv_table.index:
            return Problem(file, _unknown(geography, row[code_col]), line=line, field=code_col,
                           value=row[code_col])
    else:
        if not label:
            return Problem(file, "nom de QPV vide : chaque ligne nomme son quartier prioritaire", line=line,
                           field=name_col, value=label)
        code = _by_name(label, commune, geography)
        if isinstance(code, str) and code.startswith("!"):
            return Problem(file, code[1:], line=line, field=name_col, value=label)
    communes = geography.qpv_table.at[code, "communes"]
    if commune is not None and commune not in communes:
        name = geography.qpv_table.at[code, "name"]
        where = ", ".join(f"{c} ({geography.communes.at[c, 'name']})" for c in communes)
        return Problem(file, f"le QPV {code} ({name}) n'est pas dans la commune {commune} "
                       f"({geography.communes.at[commune, 'name']}) : il est dans {where}", line=line,
                       field=commune_col, value=row[commune_col])
    return ("qpv", code)


def _by_name(label, commune, geography) -> str:
    """The QPV code of a name, or ``"!"`` + why it cannot be chosen."""
    candidates = geography.qpv_by_name(label)
    if commune is not None and len(candidates) > 1:
        here = tuple(c for c in candidates if commune in geography.qpv_table.at[c, "communes"])
        candidates = here or candidates
    if not candidates:
        return "!" + _unknown(geography, label)
    if len(candidates) > 1:
        listed = ", ".join(f"{c} ({geography.qpv_table.at[c, 'name']})" for c in candidates)
        return (f"!nom de QPV ambigu : {listed} ; donnez le code du QPV dans une colonne codeqpv "
                "(ou la commune dans numcomdo)")
    return candidates[0]


def _unknown(geography, text) -> str:
    close = geography.suggest("qpv", str(text).strip())
    hint = f" Vouliez-vous dire : {', '.join(close)} ?" if close else ""
    return f"QPV inconnu de la liste des QPV 2024 (ANCT).{hint}"


def _outside(row, label, commune, name_col, commune_col, geography, file, line):
    """A commune's part outside its QPV: needs the commune, which must have QPV."""
    if commune_col is None:
        return Problem(file, f"ligne « hors QPV » sans commune : il faut la colonne {COMMUNE_COLUMN}",
                       line=line, field=name_col, value=label)
    if commune is None:
        return Problem(file, reading.UNKNOWN_COMMUNE, line=line, field=commune_col, value=row[commune_col])
    if not geography.qpv_of_commune(commune):
        return Problem(file, f"ligne « hors QPV » d'une commune qui n'a aucun QPV "
                       f"({geography.communes.at[commune, 'name']})", line=line, field=commune_col,
                       value=row[commune_col])
    return ("hors_qpv", commune)


def _duplicates(frame, zones, key, column, file) -> list[Problem]:
    """Two rows of the same zone, date and category (e.g. one QPV spelt two ways)."""
    keyed = pd.concat([frame[key], zones], axis=1)
    seen, problems = {}, []
    for line, values in zip(keyed.index, keyed.itertuples(index=False)):
        first = seen.setdefault(tuple(values), line)
        if first != line:
            problems.append(Problem(file, f"clé en double : même QPV, date et modalité qu'en ligne {first}",
                                    line=int(line), field=column, value=" / ".join(map(str, values))))
    return problems
