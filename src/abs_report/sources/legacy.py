"""Legacy data.caf.fr yearly files (one CSV per year and theme, before Cafdata).

Header ``Communes;Codes_Insee;...`` (or ``NOMEPCI;NUMEPCI;...`` for the EPCI
versions), ``;`` separated. The first rows hold ``99999`` (allocataires living
abroad) and ``XXXXX`` (commune unknown): they belong to no zone and are
skipped with a note. A blank cell is missing or secret: it stays unknown
(NaN), never zero. The year is read from the ``DTREF`` column when present,
else from a four-digit year in the file name (``BasrevenuCom2015.csv``).

The column lists below follow the ``lisezmoi`` notes published with the files
(``NB_Allocataires``, ``NB_Pers_par_Foyer_Alloc``, ``ALL_bas_revenu``,
``TR50PFRB``...). Where the notes could not be checked the names are
assumptions, listed in ``docs/DATA.md``; columns are matched ignoring case.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from ..errors import Problem
from ..geography import Geography
from . import reading
from .reading import SourceRows, Text

CODE_COLUMNS = {"codes_insee": "commune", "numepci": "epci"}
NAME_COLUMNS = ("communes", "nomepci", "depsepci", "nom_commune", "libcom")
DATE_COLUMN = "dtref"
SKIPPED_CODES = {"99999": "allocataires résidant à l'étranger", "XXXXX": "commune inconnue"}

THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "NivComTotal": {
        "foyers_allocataires": ("NB_Allocataires",),
        "personnes_couvertes": ("NB_Pers_par_Foyer_Alloc", "NB_Pers_couvertes"),
    },
    "BasrevenuCom": {
        "allocataires_reference": ("ALL_Reference", "NB_All_Reference"),
        "allocataires_bas_revenus": ("ALL_bas_revenu",),
        "personnes_reference": ("PERSCOUV_Reference", "NB_Pers_Reference"),
        "personnes_bas_revenus": ("PERSCOUV_bas_revenu",),
    },
    "DependancePrestaCom": {
        "allocataires_dependants_50": ("TR50PFRB",),
        "allocataires_dependants_100": ("TR100PFRB",),
    },
    "ConfigFamiliale": {
        "isoles_hommes": ("Homme_Isole",),
        "isolees_femmes": ("Femme_Isole",),
        "couples_sans_enfant": ("COUP_0_ENF",),
        "couples_1_enfant": ("COUP_1_ENF",),
        "couples_2_enfants": ("COUP_2_ENF",),
        "couples_3_enfants": ("COUP_3_ENF",),
        "couples_4_enfants_plus": ("COUP_4plus_ENF", "COUP_4_ENF", "COUP_4P_ENF"),
        "monoparents_1_enfant": ("MONO_1_ENF",),
        "monoparents_2_enfants": ("MONO_2_ENF",),
        "monoparents_3_enfants": ("MONO_3_ENF",),
        "monoparents_4_enfants_plus": ("MONO_4plus_ENF", "MONO_4_ENF", "MONO_4P_ENF"),
    },
    "LOGCom": {
        "foyers_aides_logement": ("ALL_Logement", "ALL_AL"),
        "foyers_apl": ("ALL_APL",),
        "foyers_alf": ("ALL_ALF",),
        "foyers_als": ("ALL_ALS",),
    },
    "PAJECom": {
        "foyers_paje": ("ALL_PAJE",),
        "foyers_paje_base": ("ALL_BASEP", "ALL_AB"),
        "foyers_cmg": ("ALL_CMG",),
        "foyers_prepare": ("ALL_PREPARE", "ALL_CLCA"),
    },
    "RSACom": {
        "foyers_rsa": ("ALL_RSA", "ALL_RSA_SOCLE"),
        "foyers_rsa_majore": ("ALL_RSA_MAJORE", "ALL_RSA_SOCLE_MAJORE"),
        "foyers_rsa_non_majore": ("ALL_RSA_NON_MAJORE", "ALL_RSA_SOCLE_NON_MAJORE"),
        "foyers_ppa": ("ALL_PPA",),
    },
    "AAHCom": {"foyers_aah": ("ALL_AAH",)},
    "EJCom": {
        "foyers_af": ("ALL_AF",),
        "foyers_cf": ("ALL_CF",),
        "foyers_ars": ("ALL_ARS",),
        "foyers_asf": ("ALL_ASF",),
        "foyers_aeeh": ("ALL_AEEH",),
        "enfants_0_2": ("NB_Enf_0_2", "ENF_0_2"),
        "enfants_3_5": ("NB_Enf_3_5", "ENF_3_5"),
        "enfants_6_10": ("NB_Enf_6_10", "ENF_6_10"),
        "enfants_11_14": ("NB_Enf_11_14", "ENF_11_14"),
        "enfants_15_17": ("NB_Enf_15_17", "ENF_15_17"),
        "enfants_18_24": ("NB_Enf_18_24", "ENF_18_24"),
    },
}
"""Theme file -> catalogue measure -> accepted column names (first one documented)."""

COLUMN_MEASURES = {alias.lower(): measure for theme in THEMES.values()
                   for measure, aliases in theme.items() for alias in aliases}


def looks_like(header: tuple[str, ...]) -> bool:
    """A legacy file names its code column ``Codes_Insee`` (or ``NUMEPCI``) and has no ``dtreffre``."""
    lower = {h.lower() for h in header}
    return bool(lower & set(CODE_COLUMNS)) and "dtreffre" not in lower and "zone_code" not in lower


def year_from_dtref(values: pd.Series) -> pd.Series:
    """``31/12/2015``, ``2015-12-31``, ``201512`` or ``2015`` -> 2015 (NaN when unreadable)."""
    found = values.str.extract(r"((?:19|20)\d{2})(?!\d*/)", expand=False)
    return pd.to_numeric(found, errors="coerce")


def year_from_name(source: Text) -> int | None:
    match = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", source.path.name)
    return int(match[-1]) if match else None


def schema(level: str, code_column: str, measure_cols: list[str], has_date: bool,
           geography: Geography) -> pa.DataFrameSchema:
    columns = {code_column: pa.Column(str, checks=reading.zone_code_checks(level, geography))}
    for m in measure_cols:
        columns[m] = pa.Column(str)  # values: reading.number_problems
    if has_date:
        columns[DATE_COLUMN] = pa.Column(str, checks=[
            pa.Check(lambda s: year_from_dtref(s).notna(), error="date de référence illisible "
                     "(JJ/MM/AAAA ou AAAA attendu)"),
            pa.Check(lambda s: year_from_dtref(s).isna()
                     | year_from_dtref(s).between(reading.MIN_YEAR, reading.max_year()),
                     error=reading.YEAR_RANGE)])
    keys = [code_column] + ([DATE_COLUMN] if has_date else [])
    return pa.DataFrameSchema(columns, unique=keys, report_duplicates="all")


def read(source: Text, geography: Geography) -> SourceRows:
    """Canonical rows of a legacy data.caf.fr file."""
    reading.require_separator(source, (";",), "data.caf.fr (ancien format)")
    frame = reading.read_csv(source)
    frame.columns = [c.lower() for c in frame.columns]
    header = tuple(frame.columns)
    code_column = next(c for c in CODE_COLUMNS if c in header)
    level = CODE_COLUMNS[code_column]
    frame, notes = skip_pseudo_zones(frame, code_column, source.name)
    known = set(COLUMN_MEASURES) | set(CODE_COLUMNS) | {DATE_COLUMN}
    problems, unknown = reading.misspelt_columns(
        source.name, header, known, lambda c: c.startswith(("all_", "nb_", "coup_", "mono_", "tr",
                                                             "perscouv_", "enf_", "homme", "femme")))
    unknown = [c for c in unknown if c not in NAME_COLUMNS]
    if unknown:
        notes.append(f"{source.name} : colonnes sans mesure au catalogue, ignorées : {', '.join(unknown)}")
    measure_cols = [c for c in header if c in COLUMN_MEASURES]
    if not measure_cols and not problems:
        problems.append(Problem(source.name, "aucune colonne de mesure connue (NB_Allocataires, "
                                "ALL_bas_revenu, COUP_0_ENF... : voir docs/DATA.md)", line=1))
    has_date = DATE_COLUMN in header
    problems += reading.validate(frame, schema(level, code_column, measure_cols, has_date, geography),
                                 source.name, header)
    for column in measure_cols:
        problems += reading.number_problems(frame, column, source.name)
    years, year_problems = file_years(frame, source, has_date)
    reading.raise_if(sorted(problems, key=lambda p: (p.line or 0, p.field or "")) + year_problems)
    measures = {c: COLUMN_MEASURES[c] for c in measure_cols}
    rows = reading.melt(frame, level, frame[code_column], years, measures)
    return SourceRows(source.name, "legacy", rows, notes, None)


def skip_pseudo_zones(frame: pd.DataFrame, code_column: str, file: str) -> tuple[pd.DataFrame, list[str]]:
    """Drop the ``99999`` (abroad) and ``XXXXX`` (unknown commune) rows, saying so."""
    codes = frame[code_column].str.upper()
    notes = []
    for code, meaning in SKIPPED_CODES.items():
        lines = list(frame.index[codes == code])
        if lines:
            notes.append(f"{file} : ligne(s) {', '.join(map(str, lines))} ({code}, {meaning}) ignorée(s) : "
                         "elles ne relèvent d'aucune commune")
    return frame[~codes.isin(SKIPPED_CODES)], notes


def file_years(frame: pd.DataFrame, source: Text, has_date: bool) -> tuple[pd.Series, list[Problem]]:
    """The year of each row: from ``DTREF``, else from the file name."""
    if has_date:
        return year_from_dtref(frame[DATE_COLUMN]).fillna(0).astype("int64"), []
    year = year_from_name(source)
    if year is None:
        return pd.Series(0, index=frame.index), [Problem(
            source.name, "année introuvable : ni colonne DTREF ni année (AAAA) dans le nom du fichier",
            field="DTREF")]
    if not reading.MIN_YEAR <= year <= reading.max_year():
        return pd.Series(year, index=frame.index), [Problem(
            source.name, reading.YEAR_RANGE, field="nom du fichier", value=year)]
    return pd.Series(year, index=frame.index), []
