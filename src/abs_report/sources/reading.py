"""What every CSV source shares: reading text safely, pandera failures as problems.

The format modules (:mod:`.cafdata`, :mod:`.legacy`, :mod:`.tidy`,
:mod:`.population`) read a file with :func:`read_csv`, declare a pandera
schema built from the checks below and turn its failures into
:class:`~abs_report.errors.Problem` with :func:`validate`. Every value is read
as text first (``dtype=str``): commune codes keep their leading zeros, and the
checks can name the exact cell that is not a number.

Line numbers are 1-based lines of the file, the header being line 1, so the
first data row is line 2 (blank lines are kept while reading so that the
numbering never drifts).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..errors import InputError, Problem
from ..geography import Geography
from ..paths import checked_input_file

MIN_YEAR = 2000
"""Oldest year accepted: data.caf.fr series start in the late 2000s."""

BOM = "\ufeff"
SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tabulation"}

COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
IRIS_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})\d{4}$")


def max_year() -> int:
    """Latest year accepted: the current one (December data of year N comes in N+1)."""
    return date.today().year


@dataclass
class SourceRows:
    """Canonical rows read from one file, plus what the user should know about it.

    ``rows`` holds ``zone_level, zone_code, year, measure, value`` and ``line``
    (the line of the file each value comes from, for messages).
    """

    file: str
    format: str
    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rounded_to: int | None = None


@dataclass(frozen=True)
class Text:
    """A decoded CSV file: its text, separator and header fields."""

    path: Path
    text: str
    separator: str
    header: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.path)


def decode(path: Path) -> str:
    """The file as text: UTF-8 with or without BOM, else a problem naming the line."""
    checked_input_file(path, "fichier de données")  # /dev/zero would be read for ever
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(str(path), f"lecture impossible : {exc.strerror or exc}"))
    if not raw.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError(Problem(str(path), "fichier vide : aucune ligne d'en-tête ni de données"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start: exc.start + 1]
        raise InputError(Problem(
            str(path), "fichier non encodé en UTF-8 (octet %s, probablement Latin-1/Windows-1252) : "
            "réenregistrez-le en UTF-8" % bad.hex(" ").upper(), line=line, value=bad.decode("latin-1")))
    return text[1:] if text.startswith(BOM) else text


def sniff(path: Path, text: str) -> Text:
    """Find the separator from the header (the one that splits it into most fields)."""
    header_line = text.splitlines()[0] if text.strip() else ""
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        # One column only: either a wrong separator (e.g. '|') or not a table at all.
        return Text(path, text, ";", (header_line.strip(),))
    header = tuple(h.strip().strip('"').strip() for h in header_line.split(sep))
    return Text(path, text, sep, header)


def open_text(path: Path) -> Text:
    """Decode and sniff a CSV file."""
    path = Path(path)
    return sniff(path, decode(path))


def require_separator(source: Text, allowed: tuple[str, ...], what: str) -> None:
    """Refuse a file whose separator is not one its format allows."""
    if source.separator not in allowed:
        expected = " ou ".join(SEPARATOR_NAMES[s] for s in allowed)
        raise InputError(Problem(
            source.name, f"séparateur {SEPARATOR_NAMES[source.separator]} trouvé dans l'en-tête, "
            f"{expected} attendu pour un fichier {what}", line=1,
            value=source.separator.join(source.header)[:120]))


def field_count_problems(source: Text) -> list[Problem]:
    """Rows whose number of fields differs from the header's.

    pandas fills a short row with blanks (read as unknown values) and, when
    every row is one field longer, silently takes the first column as the index:
    both shift figures into the wrong columns. Blank lines are allowed.
    """
    reader = csv.reader(io.StringIO(source.text, newline=""), delimiter=source.separator,
                        skipinitialspace=True)
    expected, problems, line = None, [], 1
    try:
        for fields in reader:
            if expected is None:
                expected = len(fields)
            elif len(fields) > 1 or (fields and fields[0].strip()):
                if len(fields) != expected:
                    problems.append(_width_problem(source, line, fields, expected))
            line = reader.line_num + 1
    except csv.Error:
        return problems  # an unclosed quote: pandas names it below
    return problems


def _width_problem(source: Text, line: int, fields: list[str], expected: int) -> Problem:
    shown = source.separator.join(fields)
    value = shown if len(shown) <= 120 else shown[:117] + "..."
    if len(fields) < expected:
        missing = source.header[len(fields)] if len(fields) < len(source.header) else None
        return Problem(source.name, f"ligne trop courte : {_fields(len(fields))} au lieu des {expected} "
                       "de l'en-tête (colonne manquante, ou séparateur oublié)", line=line, field=missing,
                       value=value)
    hint = " ; un effectif s'écrit sans séparateur de milliers (1260, pas 1,260)" if source.separator == "," else ""
    return Problem(source.name, f"ligne trop longue : {_fields(len(fields))} au lieu des {expected} de "
                   f"l'en-tête (séparateur {SEPARATOR_NAMES[source.separator]} dans une valeur non "
                   f"entre guillemets ?){hint}", line=line, value=value)


def _fields(n: int) -> str:
    return f"{n} champ" + ("s" if n > 1 else "")


def read_csv(source: Text) -> pd.DataFrame:
    """Every cell as text ("" when blank); index = line number in the file.

    Raises :class:`InputError` naming every row whose width differs from the header's.
    """
    raise_if(field_count_problems(source))
    try:
        frame = pd.read_csv(io.StringIO(source.text), sep=source.separator, dtype=str,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False,
                            skipinitialspace=True)
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise InputError(Problem(source.name, f"ligne mal formée ({exc}) : nombre de champs différent "
                                 f"de l'en-tête ou guillemet non fermé", line=line))
    except pd.errors.EmptyDataError:
        raise InputError(Problem(source.name, "fichier vide : aucune ligne d'en-tête ni de données"))
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip())
    frame.index = frame.index + 2  # header is line 1
    blank = (frame == "").all(axis=1)
    frame = frame[~blank]
    if frame.empty:
        raise InputError(Problem(source.name, "aucune ligne de données après l'en-tête", line=1))
    return frame


# --- value parsing -------------------------------------------------------------

MAX_COUNT = 100_000_000
"""Largest count accepted: more than the population of France (a count above it is a misread)."""
MAX_AMOUNT = 10 ** 12
"""Largest amount accepted, in euros (a month of a benefit for all France is about 10^9)."""
COUNT = re.compile(r"^\d+$")
AMOUNT = re.compile(r"^\d+(?:\.\d{1,2})?$")
"""Euros may have cents after a point; ``1.260`` (three decimals) could be a thousands separator."""


def to_number(values: pd.Series) -> pd.Series:
    """Text cells already checked by :func:`number_problems` as floats; blank is NaN (unknown)."""
    return pd.to_numeric(values.replace("", None), errors="coerce")


def number_problem(text: str, unit: str) -> str | None:
    """Why ``text`` is not a valid cell of ``unit`` (``count`` or ``euro``); None when it is.

    A blank cell is valid (unknown). Counts are integers written with digits
    only: a separator (``1,260``, ``1.260``, ``1 260``) is ambiguous between
    thousands and decimals, and an exponent, ``inf`` or ``NaN`` text is never
    an export of a count. Nothing is guessed.
    """
    if text == "":
        return None
    if text.startswith("-"):
        return NEGATIVE
    pattern, limit = (AMOUNT, MAX_AMOUNT) if unit == "euro" else (COUNT, MAX_COUNT)
    if not pattern.match(text):
        return AMOUNT_TEXT if unit == "euro" else NUMERIC
    if float(text) > limit:
        return f"nombre démesuré (au plus {limit:,} attendu) : valeur mal lue ?".replace(",", "\u202f")
    return None


def number_problems(frame: pd.DataFrame, column: str, file: str, units: pd.Series | str = "count") -> list[Problem]:
    """One problem per bad cell of ``column`` (line = the frame's index), naming its value."""
    if column not in frame.columns:
        return []  # a missing column is reported by the schema
    values = frame[column]
    units = pd.Series(units, index=frame.index) if isinstance(units, str) else units
    problems = []
    for line, text, unit in zip(frame.index, values, units):
        why = number_problem(text, unit)
        if why:
            problems.append(Problem(file, why, line=int(line), field=column, value=text))
    return problems


# --- pandera checks ---------------------------------------------------------------

NUMERIC = ("valeur non numérique ou non entière : un effectif s'écrit en chiffres seuls, sans séparateur "
           "de milliers, décimale ni exposant (ex. 1260) ; cellule vide si inconnu")
AMOUNT_TEXT = ("montant mal écrit : des chiffres, au plus deux décimales après un point (ex. 1260.50), sans "
               "séparateur de milliers ni exposant ; cellule vide si inconnu")
NEGATIVE = "nombre négatif : un effectif ou un montant est positif ou nul"
NOT_A_CODE = "code commune mal formé (5 caractères attendus, ex. 01001 ou 2A004)"
LOST_ZERO = "code commune à 4 chiffres : zéro initial perdu (tableur ?) ; écrivez-le sur 5 caractères"
UNKNOWN_COMMUNE = "commune inconnue du Code officiel géographique (ni code actuel ni ancien code)"
YEAR_RANGE = f"année hors de la plage acceptée ({MIN_YEAR} à l'année en cours)"


def commune_code_checks(geography: Geography) -> list[pa.Check]:
    """A commune code: well formed, five characters, known today or as a former code."""
    known = set(geography.communes.index) | set(geography.former_codes)
    return [
        pa.Check(lambda s: ~s.str.fullmatch(r"\d{4}"), error=LOST_ZERO),
        pa.Check(lambda s: s.str.fullmatch(r"\d{4}") | s.str.match(COMMUNE_CODE), error=NOT_A_CODE),
        pa.Check(lambda s: ~s.str.match(COMMUNE_CODE) | s.isin(known), error=UNKNOWN_COMMUNE),
    ]


def iris_code_checks(geography: Geography) -> list[pa.Check]:
    """An IRIS code: nine characters, the first five a known commune."""
    known = set(geography.communes.index) | set(geography.former_codes)
    return [
        pa.Check(lambda s: s.str.match(IRIS_CODE), error="code IRIS mal formé (9 caractères attendus, "
                 "code commune + 4 chiffres, ex. 381850101)"),
        pa.Check(lambda s: ~s.str.match(IRIS_CODE) | s.str[:5].isin(known),
                 error="IRIS d'une commune inconnue du Code officiel géographique"),
    ]


def qpv_code_checks(level: str, geography: Geography) -> list[pa.Check]:
    """A QPV code of the packaged list, a commune that has QPV, a département that has QPV."""
    table = geography.qpv_table
    if level == "qpv":
        return [pa.Check(lambda s: s.isin(set(table.index)),
                         error="code QPV inconnu de la liste des QPV 2024 (ANCT), ex. QN03806M")]
    if level == "hors_qpv":
        with_qpv = {c for communes in table["communes"] for c in communes}
        return [pa.Check(lambda s: s.isin(with_qpv),
                         error="commune sans QPV (ou inconnue) : elle n'a pas de partie « hors QPV »")]
    return [pa.Check(lambda s: s.isin(set(table["departement"])),
                     error="département sans QPV dans la liste des QPV 2024 (ANCT)")]


def year_checks() -> list[pa.Check]:
    def in_range(s: pd.Series) -> pd.Series:
        y = pd.to_numeric(s, errors="coerce")
        return y.between(MIN_YEAR, max_year())
    return [pa.Check(lambda s: s.str.fullmatch(r"\d{4}"), error="année mal formée (AAAA attendu)"),
            pa.Check(lambda s: ~s.str.fullmatch(r"\d{4}") | in_range(s), error=YEAR_RANGE)]


# --- failures to problems ----------------------------------------------------------

def suggest(name: str, candidates) -> str:
    """' Vouliez-vous dire X ?' for a close match, else ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    if not close:
        folded = {c.lower(): c for c in candidates}
        close = [folded[m] for m in difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.75)]
    return f" Vouliez-vous dire '{close[0]}' ?" if close else ""


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str,
             header: tuple[str, ...] = ()) -> list[Problem]:
    """Run ``schema`` lazily; every failure becomes one :class:`Problem`."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return failures_to_problems(err.failure_cases, frame, file, header)
    return []


def failures_to_problems(cases: pd.DataFrame, frame: pd.DataFrame, file: str,
                         header: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    seen_dups: set[int] = set()
    for case in cases.itertuples(index=False):
        if case.check == "column_in_dataframe":
            missing = str(case.failure_case)
            problems.append(Problem(file, "colonne obligatoire absente de l'en-tête." +
                                    suggest(missing, header), line=1, field=missing))
        elif case.check == "multiple_fields_uniqueness":
            line = int(case.index)
            if line in seen_dups:
                continue
            seen_dups.add(line)
            key_cols = [c for c in cases.loc[cases["check"] == "multiple_fields_uniqueness", "column"].unique()]
            value = " / ".join(str(frame.at[line, c]) for c in key_cols)
            others = ", ".join(map(str, same_key_lines(frame, key_cols, line)))
            problems.append(Problem(file, f"clé en double ({', '.join(key_cols)}) : même clé qu'en "
                                    f"ligne {others}", line=line, field=", ".join(key_cols), value=value))
        else:
            line = None if pd.isna(case.index) else int(case.index)
            problems.append(Problem(file, str(case.check), line=line, field=str(case.column),
                                    value=case.failure_case))
    return sorted(problems, key=lambda p: (p.line or 0, p.field or ""))


def same_key_lines(frame: pd.DataFrame, key_cols: list[str], line: int) -> list[int]:
    """The other lines holding the same key as ``line``."""
    key = frame.loc[line, key_cols]
    same = (frame[key_cols] == key).all(axis=1)
    return [int(i) for i in same[same].index if i != line]


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)


def misspelt_columns(file: str, header: tuple[str, ...], expected: set[str],
                     looks_like) -> tuple[list[Problem], list[str]]:
    """Unknown columns: an error when misspelt, else ignored (returned for a note).

    A column is taken as misspelt when it looks like a measure column
    (``looks_like(name)``) and closely matches an expected column that the
    header lacks. Other unknown columns are returned so the caller notes that
    they were ignored: real exports carry more columns than the catalogue uses.
    """
    problems, ignored = [], []
    present = set(header)
    for name in header:
        if name in expected:
            continue
        close = difflib.get_close_matches(name, sorted(expected - present), n=1, cutoff=0.85)
        if close and looks_like(name):
            problems.append(Problem(file, f"colonne inconnue. Vouliez-vous dire '{close[0]}' ?",
                                    line=1, field=name))
        else:
            ignored.append(name)
    return problems, ignored


def melt(frame: pd.DataFrame, level: str, codes: pd.Series, years: pd.Series,
         measures: dict[str, str]) -> pd.DataFrame:
    """Wide source rows to canonical long rows, keeping each value's line.

    ``measures`` maps a source column to a catalogue measure id.
    """
    parts = []
    # One level for the file, or one per row (a QPV file may give "hors QPV" rows).
    level = level if isinstance(level, str) else pd.Series(level).to_numpy()
    for column, measure in measures.items():
        parts.append(pd.DataFrame({
            "zone_level": level, "zone_code": codes.to_numpy(), "year": years.astype("int64").to_numpy(),
            "measure": measure, "value": to_number(frame[column]).to_numpy(),
            "line": frame.index.to_numpy()}))
    if not parts:
        return empty_rows()
    return pd.concat(parts, ignore_index=True)


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({"zone_level": pd.Series(dtype=str), "zone_code": pd.Series(dtype=str),
                         "year": pd.Series(dtype="int64"), "measure": pd.Series(dtype=str),
                         "value": pd.Series(dtype="float64"), "line": pd.Series(dtype="int64")})


def zone_code_checks(level: str, geography: Geography) -> list[pa.Check]:
    """Checks on the code column of rows at ``level``."""
    if level == "commune":
        return commune_code_checks(geography)
    if level == "iris":
        return iris_code_checks(geography)
    if level == "france":
        return [pa.Check(lambda s: s.str.upper().isin(["FR", "FRANCE", "FRA", ""]),
                         error="code France attendu : FR")]
    if level in ("qpv", "hors_qpv", "qpv_departement"):
        return qpv_code_checks(level, geography)
    known = {"epci": geography.epcis.index, "departement": geography.departements.index,
             "region": geography.regions.index}[level]
    names = {"epci": "EPCI (SIREN à 9 chiffres)", "departement": "département", "region": "région"}
    return [pa.Check(lambda s: s.isin(set(known)),
                     error=f"code {names[level]} inconnu du Code officiel géographique "
                     f"{geography.meta.get('package_version', '')}".rstrip())]
