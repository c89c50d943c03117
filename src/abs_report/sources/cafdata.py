"""Cafdata exports (data.caf.fr, the Cnaf's open-data portal, Explore API v2.1).

One CSV per dataset, ``;`` separated, UTF-8 with or without BOM, one row per
zone and month of reference (``dtreffre`` = ``YYYY-MM``). Measure columns are
named ``ind<foy|nbp|mtt>_<benefit>``: foyers, personnes couvertes, December
amount. The zone level is the finest geography column present (``numirisd``
IRIS, ``numcomdo`` commune, ``numepci`` EPCI, ``numdep`` département,
``numregi`` région, none: France). Two datasets split a measure by category:
``rsa_s_type_com_f`` (``rsa_type``) and ``ndur_s_qf_400_com_f`` (``qf_400``).

Counts are rounded to 5 by the Cnaf before publication ("floutage"):
:data:`ROUNDED_TO` goes into the dataset metadata so reports say so.

QPV datasets (``*_qpv_f``, e.g. ``ndur_s_qf_400_qpv_f``) give one row per
quartier prioritaire, named in ``nomqpv`` beside its commune ``numcomdo``;
their rows are read at the ``qpv`` level (:mod:`.qpv_zones`).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pandera.pandas as pa

from ..errors import Problem
from ..geography import Geography
from . import qpv_zones, reading
from .reading import SourceRows, Text

ROUNDED_TO = 5
DATE_COLUMN = "dtreffre"
GEO_COLUMNS = {"numirisd": "iris", "numcomdo": "commune", "numepci": "epci",
               "numdep": "departement", "numregi": "region"}
"""Geography columns from the finest to the widest."""
NAME_COLUMNS = ("nomcom", "nomepci", "nomdep", "nomreg", "nomregi", "libiris", "nomiris")
BENEFITS = ("ndur", "ndurpaje", "ab", "cmg", "prepare", "ndurej", "af", "cf", "ars", "asf",
            "ndurhd", "aah", "aeeh", "ndural", "apl", "alf", "als", "ndurins", "rsa", "ppa")
KINDS = ("foy", "nbp", "mtt")

FOYERS = {
    "ndur": "foyers_allocataires", "rsa": "foyers_rsa", "ppa": "foyers_ppa",
    "ndural": "foyers_aides_logement", "apl": "foyers_apl", "alf": "foyers_alf", "als": "foyers_als",
    "af": "foyers_af", "cf": "foyers_cf", "ars": "foyers_ars", "asf": "foyers_asf",
    "ndurpaje": "foyers_paje", "ab": "foyers_paje_base", "cmg": "foyers_cmg", "prepare": "foyers_prepare",
    "aah": "foyers_aah", "aeeh": "foyers_aeeh",
}
PERSONNES = {"ndur": "personnes_couvertes"}
MONTANTS = {"rsa": "montant_rsa", "ppa": "montant_ppa", "ndural": "montant_aides_logement",
            "af": "montant_af", "ndurpaje": "montant_paje", "aah": "montant_aah"}
COLUMN_MEASURES = {
    **{f"indfoy_{b}": m for b, m in FOYERS.items()},
    **{f"indnbp_{b}": m for b, m in PERSONNES.items()},
    **{f"indmtt_{b}": m for b, m in MONTANTS.items()},
}
"""Every Cafdata measure column that feeds a catalogue measure."""
ALL_MEASURE_COLUMNS = frozenset(f"ind{k}_{b}" for k in KINDS for b in BENEFITS)

CATEGORY_TOTALS = {"rsa_type": ("indfoy_rsa", "foyers_rsa"), "qf_400": ("indfoy_ndur", "foyers_allocataires")}
"""Category column -> (the column split by category, the total it sums to)."""
QF_BANDS = {0: "qf_0_399", 400: "qf_400_599", 600: "qf_600_799", 800: "qf_800_999",
            1000: "qf_1000_1499", 1500: "qf_1500_plus"}
QF_UPPER = {0: 399, 400: 599, 600: 799, 800: 999, 1000: 1499}
TOTAL_WORDS = ("ensemble", "total", "tous", "toutes")


def looks_like(header: tuple[str, ...]) -> bool:
    """A Cafdata export has ``dtreffre`` or ``ind..._...`` measure columns."""
    return DATE_COLUMN in header or any(h.lower() in ALL_MEASURE_COLUMNS for h in header)


def _fold(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if not unicodedata.combining(c)).lower().strip()


def rsa_type_measure(label: str) -> str | None:
    """``RSA majoré`` -> foyers_rsa_majore; totals -> ``total``; else None."""
    folded = _fold(label)
    if folded.startswith(TOTAL_WORDS):
        return "total"
    if "major" in folded:
        return "foyers_rsa_non_majore" if re.search(r"\bnon\b|non[ -_]?major", folded) else "foyers_rsa_majore"
    return None


def qf_band_measure(label: str) -> str | None:
    """A quotient familial band label (``400-599``, ``< 400``, ``1500 et plus``) -> catalogue id."""
    folded = _fold(label).replace("\u202f", "").replace(" ", "")
    if folded.startswith(TOTAL_WORDS):
        return "total"
    if any(w in folded for w in ("inconnu", "nonconnu", "nondetermine", "nc", "sansqf")):
        return "qf_inconnu"
    numbers = [int(n) for n in re.findall(r"\d+", folded)]
    if not numbers:
        return None
    if folded.startswith(("<", "moinsde", "inf")) and numbers[0] == 400:
        return "qf_0_399"
    low = numbers[0]
    if low not in QF_BANDS:
        return None
    if len(numbers) > 1 and low in QF_UPPER and numbers[1] not in (QF_UPPER[low], QF_UPPER[low] + 1):
        return None
    return QF_BANDS[low]


CATEGORY_PARSERS = {"rsa_type": rsa_type_measure, "qf_400": qf_band_measure}


def unit_of(column: str) -> str:
    """``indmtt_*`` columns hold amounts in euros; the others count foyers or persons."""
    return "euro" if column.startswith("indmtt_") else "count"


def level_and_code_column(header: tuple[str, ...]) -> tuple[str, str | None]:
    for column, level in GEO_COLUMNS.items():
        if column in header:
            return level, column
    return "france", None


def schema(source: Text, geography: Geography, measures: list[str]) -> pa.DataFrameSchema:
    """Columns, checks and keys of a Cafdata file.

    A QPV file's key holds its QPV, known only once names are matched: its
    duplicates are found by :func:`abs_report.sources.qpv_zones.resolve`.
    """
    level, code_column = level_and_code_column(source.header)
    category = next((c for c in CATEGORY_PARSERS if c in source.header), None)
    columns = {DATE_COLUMN: pa.Column(str, checks=[
        pa.Check(lambda s: s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])"),
                 error="date de référence mal formée (AAAA-MM attendu, ex. 2024-12)"),
        pa.Check(lambda s: ~s.str.fullmatch(r"\d{4}-\d{2}") | _in_year_range(s.str[:4]),
                 error=reading.YEAR_RANGE)])}
    if code_column:
        columns[code_column] = pa.Column(str, checks=reading.zone_code_checks(level, geography))
    if category:
        parse = CATEGORY_PARSERS[category]
        columns[category] = pa.Column(str, checks=pa.Check(
            lambda s: s.map(parse).notna(), error=f"modalité de '{category}' non reconnue"))
    for m in measures:
        columns[m] = pa.Column(str)  # values: reading.number_problems
    keys = [DATE_COLUMN] + ([code_column] if code_column else []) + ([category] if category else [])
    if qpv_zones.is_qpv_file(source.header):
        return pa.DataFrameSchema(columns)
    return pa.DataFrameSchema(columns, unique=keys, report_duplicates="all")


def _in_year_range(years: pd.Series) -> pd.Series:
    y = pd.to_numeric(years, errors="coerce")
    return y.between(reading.MIN_YEAR, reading.max_year())


def read(source: Text, geography: Geography) -> SourceRows:
    """Canonical rows of a Cafdata export; raises :class:`InputError` listing every problem."""
    reading.require_separator(source, (";",), "Cafdata")
    frame = reading.read_csv(source)
    frame.columns = [c.lower() for c in frame.columns]
    header = tuple(frame.columns)
    notes: list[str] = []
    measure_cols = [c for c in header if c in ALL_MEASURE_COLUMNS]
    known = set(ALL_MEASURE_COLUMNS) | {DATE_COLUMN} | set(GEO_COLUMNS) | set(CATEGORY_PARSERS) \
        | set(qpv_zones.CODE_COLUMNS) | set(qpv_zones.NAME_COLUMNS)
    problems, unknown = reading.misspelt_columns(source.name, header, known,
                                                 lambda c: c.startswith(("ind", "dt", "num")))
    unknown = [c for c in unknown if c not in NAME_COLUMNS]
    if unknown:
        notes.append(f"{source.name} : colonnes inconnues ignorées : {', '.join(unknown)}")
    if not measure_cols and not problems:
        problems.append(Problem(source.name, "aucune colonne de mesure ind<foy|nbp|mtt>_<prestation> "
                                "dans l'en-tête", line=1))
    text = Text(source.path, source.text, source.separator, header)
    problems += reading.validate(frame, schema(text, geography, measure_cols), source.name, header)
    for column in measure_cols:
        problems += reading.number_problems(frame, column, source.name, unit_of(column))
    problems.sort(key=lambda p: (p.line or 0, p.field or ""))
    reading.raise_if(problems)
    zones = None
    if qpv_zones.is_qpv_file(header):
        category = next((c for c in CATEGORY_PARSERS if c in header), None)
        frame, zones, qpv_notes = qpv_zones.resolve(frame, header, geography, source.name,
                                                    [DATE_COLUMN] + ([category] if category else []))
        notes += qpv_notes
    frame, month_notes = december_rows(frame, source.name)
    notes += month_notes
    rows, used = to_rows(frame, header, measure_cols, source.name, notes, zones)
    ignored = sorted(set(measure_cols) - used)
    if ignored:
        notes.append(f"{source.name} : colonnes sans mesure au catalogue, ignorées : {', '.join(ignored)}")
    notes.append(f"{source.name} : effectifs arrondis à {ROUNDED_TO} par la Cnaf (données ouvertes)")
    return SourceRows(source.name, "cafdata", rows, notes, ROUNDED_TO)


def december_rows(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[str]]:
    """Keep the December rows (year N = December of N); a file without any is refused."""
    month = frame[DATE_COLUMN].str[5:7]
    december = frame[month == "12"]
    if december.empty:
        found = ", ".join(sorted(frame[DATE_COLUMN].unique())[:6])
        reading.raise_if([Problem(file, "aucune ligne de décembre : les rapports portent sur les "
                                  "données au 31 décembre (dtreffre AAAA-12)", field=DATE_COLUMN,
                                  value=found)])
    notes = []
    dropped = sorted(frame.loc[month != "12", DATE_COLUMN].unique())
    if dropped:
        notes.append(f"{file} : {int((month != '12').sum())} ligne(s) d'autres mois que décembre "
                     f"ignorées ({', '.join(dropped[:6])}{'...' if len(dropped) > 6 else ''})")
    return december, notes


def to_rows(frame: pd.DataFrame, header: tuple[str, ...], measure_cols: list[str], file: str,
            notes: list[str], zones: pd.DataFrame | None = None) -> tuple[pd.DataFrame, set[str]]:
    """Canonical rows; ``zones`` (``level``, ``code`` by line) overrides the geography columns (QPV)."""
    level, code_column = level_and_code_column(header)
    codes = frame[code_column] if code_column else pd.Series("FR", index=frame.index)
    if zones is not None:
        level, codes = zones["level"].reindex(frame.index), zones["code"].reindex(frame.index)
    years = frame[DATE_COLUMN].str[:4].astype("int64")
    category = next((c for c in CATEGORY_PARSERS if c in header), None)
    if category is None:
        measures = {c: COLUMN_MEASURES[c] for c in measure_cols if c in COLUMN_MEASURES}
        return reading.melt(frame, level, codes, years, measures), set(measures)
    return category_rows(frame, category, level, codes, years, file, notes)


def category_rows(frame, category, level, codes, years, file, notes):
    """Rows of a dataset split by category: each category becomes its catalogue measure."""
    column, total = CATEGORY_TOTALS[category]
    if column not in frame.columns:
        reading.raise_if([Problem(file, f"colonne '{column}' attendue avec la colonne '{category}'",
                                  line=1, field=column)])
    parsed = frame[category].map(CATEGORY_PARSERS[category])
    keep = parsed != "total"
    if (~keep).any():
        # The total comes from the main dataset (s_ben_*): a second, separately
        # rounded copy could only disagree with it.
        notes.append(f"{file} : {int((~keep).sum())} ligne(s) 'total' de {category} ignorées "
                     f"(le total {total} vient du jeu principal)")
    sub = frame[keep]
    level = level if isinstance(level, str) else level[keep]
    rows = reading.melt(sub, level, codes[keep], years[keep], {column: "_category"})
    rows["measure"] = parsed[keep].to_numpy()
    return rows, {column}
