"""What a report shows of its data: rows, zones, tables and chapters that hold something.

Pure functions of the published rows (``published.csv``), so that the report
and any reader of the CSV come to the same decisions:

- an item (a row of a table, a bar group of a chart) is left out when the
  territory's cell is ``missing`` (not in the source); a hidden cell (``s``)
  is never left out: secrecy stays visible;
- a comparison zone is left out of a table or chart when all its cells there
  are ``missing``, and the note under it names the zone;
- a table or chart with no item left is left out, a chapter with nothing left
  too (the table of contents and the numbering follow);
- a territory is shown as a short *fiche* when more than half of its key
  figures (:data:`KEY_TABLE`) are hidden (:func:`is_fiche`).

``published.csv`` is built before any of this and keeps every measure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..catalogue import INDICATORS, MEASURES, THEMES
from ..context import ReportContext, ReportZone
from ..tables import SPECS, TableSpec
from .lookup import PublishedIndex

KEY_TABLE = "T00_chiffres_cles"
FICHE_CHAPTERS = ("synthese",)
"""The chapters a fiche shows (with its explanation and the aggregation proposal)."""

OPEN_DATA_FILES = {
    "s_ben_com_f": ("foyers_allocataires", "personnes_couvertes", "foyers_rsa", "foyers_ppa",
                    "foyers_aides_logement", "foyers_apl", "foyers_alf", "foyers_als", "foyers_af", "foyers_cf",
                    "foyers_ars", "foyers_asf", "foyers_paje", "foyers_paje_base", "foyers_cmg",
                    "foyers_prepare", "foyers_aah", "foyers_aeeh", "montant_rsa", "montant_ppa",
                    "montant_aides_logement", "montant_af", "montant_paje", "montant_aah"),
    "rsa_s_type_com_f": ("foyers_rsa_majore", "foyers_rsa_non_majore"),
    "ndur_s_qf_400_com_f": ("qf_0_399", "qf_400_599", "qf_600_799", "qf_800_999", "qf_1000_1499",
                            "qf_1500_plus", "qf_inconnu"),
}
"""Which Cafdata open dataset (data.caf.fr) brings which measure (``sources.cafdata`` reads them)."""
ASK_THE_CAF = "demande à la Caf (extrait tabulaire)"
ZONE_FILES = {"france": "fichier s_ben_nat de data.caf.fr", "departement": "fichier s_ben_dep de data.caf.fr",
              "region": "jeu régional de data.caf.fr",
              "epci": "fichier s_ben_com_f de toutes ses communes", "commune": "fichier s_ben_com_f",
              "aggregation": "fichier s_ben_com_f de toutes ses communes",
              "qpv": "jeux par QPV de data.caf.fr (p. ex. ndur_s_qf_400_qpv_f)",
              "qpv_departement": "jeux par QPV de data.caf.fr, pour tous les QPV du département",
              "hors_qpv": ASK_THE_CAF}
"""The file that brings a comparison zone's figures."""


@dataclass(frozen=True)
class Shown:
    """A table or chart as the report shows it: its kept items, kept zones and the zones left out."""

    spec: TableSpec
    zones: tuple[ReportZone, ...]
    absent: tuple[ReportZone, ...]


def _cells(spec: TableSpec, item: str, zone, rows: PublishedIndex, years) -> list[str]:
    """Statuses of the cells an item prints for a zone."""
    if spec.kind == "evolution":
        first, last = years[0], rows.year
        return [rows.get(spec.id, zone, item, first)[1], rows.get(spec.id, zone, item, last)[1],
                rows.get(spec.id, zone, f"evolution_{item}", last)[1]]
    if spec.kind == "index":
        return [rows.get(spec.id, zone, f"indice_{item}")[1]]
    return [rows.get(spec.id, zone, item)[1]]


def _caf(item: str) -> bool:
    """Whether an item is CAF data (the INSEE population alone does not make a zone worth a column)."""
    return item not in MEASURES or MEASURES[item].secret


def shown(spec: TableSpec, ctx: ReportContext, rows: PublishedIndex) -> Shown | None:
    """What the report shows of ``spec``; None when nothing is left (every territory cell missing)."""
    years = ctx.years or (ctx.year,)
    territory = ctx.territory
    items = tuple(i for i in spec.items
                  if any(s != "missing" for s in _cells(spec, i, territory, rows, years)))
    if not items:
        return None
    zones, absent = [territory], []
    for zone in ctx.zones[1:]:
        has = any(s != "missing" for i in items if _caf(i) for s in _cells(spec, i, zone, rows, years))
        (zones if has else absent).append(zone)
    return Shown(replace(spec, items=items), tuple(zones), tuple(absent))


def hidden_key_figures(ctx: ReportContext, rows: PublishedIndex) -> tuple[int, int]:
    """(hidden, total) key figures of the territory."""
    spec = next(s for s in SPECS if s.id == KEY_TABLE)
    statuses = [rows.get(spec.id, ctx.territory, item)[1] for item in spec.items]
    return sum(s.startswith("secret") for s in statuses), len(statuses)


def is_fiche(ctx: ReportContext, rows: PublishedIndex) -> bool:
    """More than half of the territory's key figures hidden: a short fiche, not a full report."""
    hidden, total = hidden_key_figures(ctx, rows)
    return hidden * 2 > total


def _file_of(measure: str) -> str:
    """The open dataset that brings a measure, or « demande à la Caf ».

    An indicator comes with its numerator (the population, an INSEE figure,
    is never what is missing): « part des personnes isolées » needs the family
    configuration, not the allocataires it is divided by.
    """
    if measure in INDICATORS:
        ind = INDICATORS[measure]
        return _file_of(ind.denominator if ind.numerator == "population_municipale" else ind.numerator)
    return next((name for name, measures in OPEN_DATA_FILES.items() if measure in measures), ASK_THE_CAF)


def _theme(measure: str) -> str:
    entry = MEASURES.get(measure) or INDICATORS.get(measure)
    return THEMES.get(entry.theme, entry.theme) if entry else ""


def lacking(ctx: ReportContext, rows: PublishedIndex) -> tuple[list[tuple[str, str, tuple[str, ...]]],
                                                              list[tuple[ReportZone, str]]]:
    """What the source did not provide, and which file would bring it.

    Returns
    -------
    measures
        ``(theme, file, measure ids)``: measures missing for every zone of the report, by theme.
    zones
        ``(zone, file)``: comparison zones missing in every table.
    """
    base = [s for s in SPECS if s.kind in ("table", "bar")]
    missing: dict[tuple[str, str], list[str]] = {}
    for spec in base:
        for item in spec.items:
            if all(rows.get(spec.id, z, item)[1] == "missing" for z in ctx.zones):
                key = (_theme(item), _file_of(item))
                if item not in missing.setdefault(key, []):
                    missing[key].append(item)
    absent = [(z, ZONE_FILES.get(z.level, "fichier s_ben_com_f")) for z in ctx.zones[1:]
              if all(rows.get(s.id, z, i)[1] == "missing" for s in base for i in s.items if _caf(i))]
    order = list(THEMES.values())
    keys = sorted(missing, key=lambda k: (k[0] not in order, order.index(k[0]) if k[0] in order else 0,
                                          k[1] == ASK_THE_CAF, k[1]))
    return [(theme, file, tuple(missing[(theme, file)])) for theme, file in keys], absent
