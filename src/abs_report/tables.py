"""What each chapter shows: the table and chart specifications.

A specification names its stable id (``table_id`` in ``published.csv``), its
chapter, its French title, its kind and the measures or indicators it shows.
Presentation (:mod:`figures`), publication (:mod:`published`) and the
workbook all read these, so a number cannot appear in a report without a row
in ``published.csv``.

Kinds
-----
table      items in rows, the territory and each comparison zone in columns
bar        the same numbers as horizontal bars (territory highlighted)
evolution  items in rows; first and last year for each zone, and the evolution rate
index      bars of each zone's index in the last year (first year = 100), grouped by item
iris       items in columns, the territory's IRIS in rows (commune reports only)
locator    a map of the territory within its EPCI and département (no number)
commune_map  one choropleth per item over the territory's communes (EPCI, département,
           aggregation); its rows are the communes' published values
iris_map   one choropleth per item over the territory's IRIS (commune reports)
qpv        items in columns; in rows each QPV of the commune, the commune hors QPV and the
           whole commune (commune reports with QPV only, issue 15)
qpv_map    one choropleth per rate over the commune's QPV, their perimeters numbered and named
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from .catalogue import INDICATORS, MEASURES, THEMES

Kind = Literal["table", "bar", "evolution", "index", "iris", "locator", "commune_map", "iris_map", "qpv",
               "qpv_map"]

CHAPTER_TITLES = MappingProxyType({
    "synthese": "Synthèse",
    # Thematic chapters take their titles from the measure themes of the catalogue.
    **{theme: THEMES[theme] for theme in ("ensemble", "familles", "precarite", "logement", "enfance",
                                          "handicap")},
    "evolution": "Évolution sur cinq ans",
    "quartiers": "Quartiers",
})
CHAPTERS: tuple[str, ...] = tuple(CHAPTER_TITLES)
"""Chapters in reading order; the closing section follows them."""


@dataclass(frozen=True)
class TableSpec:
    """One numbered table or chart of a report."""

    id: str
    chapter: str
    title: str
    items: tuple[str, ...]
    kind: Kind = "table"

    def __post_init__(self):
        unknown = [i for i in self.items if i not in MEASURES and i not in INDICATORS]
        if unknown or self.chapter not in CHAPTER_TITLES:
            raise ValueError(f"table {self.id}: unknown items {unknown} or chapter {self.chapter!r}")

    @property
    def is_chart(self) -> bool:
        return self.kind in ("bar", "index")

    @property
    def is_map(self) -> bool:
        return self.kind in ("locator", "commune_map", "iris_map", "qpv_map")


EVOLUTION_ITEMS = ("foyers_allocataires", "personnes_couvertes", "familles_monoparentales",
                   "foyers_rsa", "foyers_ppa", "foyers_aides_logement", "foyers_af", "foyers_paje",
                   "foyers_aah")

MAP_RATES = ("taux_couverture", "part_rsa", "part_aides_logement")
"""The rates mapped by commune and by IRIS."""
MAP_ITEMS = ("population_municipale", "personnes_couvertes", "taux_couverture", "foyers_allocataires",
             "foyers_rsa", "part_rsa", "foyers_aides_logement", "part_aides_logement")
"""A map's table: each rate with its numerator and denominator, so that every published rate
can be checked against published counts (tables.xlsx holds them; the maps colour the rates)."""

QPV_SECTION = "Quartiers prioritaires de la politique de la ville"
"""The heading of the quartiers chapter's section on QPV (commune reports with QPV only)."""
QPV_ITEMS = ("foyers_allocataires", "foyers_rsa", "part_rsa", "part_monoparentales", "taux_bas_revenus",
             "part_aides_logement")
"""The QPV table's columns: the main indicators the QPV rows carry (the IRIS measures)."""

SPECS: tuple[TableSpec, ...] = (
    TableSpec("T00_chiffres_cles", "synthese", "Chiffres clés",
              ("foyers_allocataires", "personnes_couvertes", "taux_couverture", "part_monoparentales",
               "taux_bas_revenus", "part_rsa", "part_aides_logement")),
    TableSpec("C00_localisation", "synthese", "Localisation du territoire", (), kind="locator"),
    TableSpec("T01_vue_ensemble", "ensemble", "Allocataires, personnes couvertes et taux de couverture",
              ("population_municipale", "foyers_allocataires", "personnes_couvertes",
               "taux_couverture", "personnes_par_foyer")),
    TableSpec("G01_taux_couverture", "ensemble", "Taux de couverture de la population par la Caf",
              ("taux_couverture",), kind="bar"),
    TableSpec("T02_prestations", "ensemble", "Principales prestations versées",
              ("foyers_rsa", "part_rsa", "foyers_ppa", "part_ppa", "foyers_aides_logement",
               "part_aides_logement", "foyers_af", "part_af", "foyers_paje", "part_paje",
               "foyers_aah", "part_aah")),
    TableSpec("G02_prestations", "ensemble",
              "Part des foyers allocataires bénéficiaires des principales prestations",
              ("part_rsa", "part_ppa", "part_aides_logement", "part_af", "part_paje", "part_aah"), kind="bar"),
    TableSpec("C01_carte_communes", "ensemble", "Taux par commune", MAP_ITEMS, kind="commune_map"),
    TableSpec("T03_composition_familiale", "familles", "Allocataires selon la configuration familiale",
              ("isoles_hommes", "isolees_femmes", "couples_sans_enfant", "couples_1_enfant",
               "couples_2_enfants", "couples_3_enfants", "couples_4_enfants_plus", "monoparents_1_enfant",
               "monoparents_2_enfants", "monoparents_3_enfants", "monoparents_4_enfants_plus",
               "foyers_allocataires")),
    TableSpec("T04_familles", "familles", "Familles monoparentales, familles nombreuses et personnes isolées",
              ("familles_avec_enfants", "familles_monoparentales", "part_monoparentales",
               "familles_nombreuses", "part_familles_nombreuses", "personnes_isolees", "part_isoles")),
    TableSpec("G03_familles", "familles", "Part des familles monoparentales, des familles nombreuses et des isolés",
              ("part_monoparentales", "part_familles_nombreuses", "part_isoles"), kind="bar"),
    TableSpec("T05_enfants", "familles", "Enfants couverts selon l'âge",
              ("enfants_0_2", "enfants_3_5", "enfants_6_10", "enfants_11_14", "enfants_15_17",
               "enfants_18_24", "enfants_couverts")),
    TableSpec("T06_bas_revenus", "precarite", "Allocataires et personnes à bas revenus",
              ("allocataires_reference", "allocataires_bas_revenus", "taux_bas_revenus",
               "personnes_reference", "personnes_bas_revenus", "taux_personnes_bas_revenus")),
    TableSpec("T07_dependance", "precarite", "Dépendance aux prestations",
              ("allocataires_dependants_50", "taux_dependance_50", "allocataires_dependants_100",
               "taux_dependance_100")),
    TableSpec("G04_precarite", "precarite", "Bas revenus et dépendance aux prestations",
              ("taux_bas_revenus", "taux_dependance_50", "taux_dependance_100"), kind="bar"),
    TableSpec("T08_quotient_familial", "precarite", "Foyers allocataires selon le quotient familial",
              ("qf_0_399", "qf_400_599", "qf_600_799", "qf_800_999", "qf_1000_1499", "qf_1500_plus",
               "qf_inconnu", "part_qf_bas")),
    TableSpec("T09_rsa_ppa", "precarite", "Revenu de solidarité active et prime d'activité",
              ("foyers_rsa", "foyers_rsa_majore", "foyers_rsa_non_majore", "part_rsa", "part_rsa_majore",
               "montant_moyen_rsa", "foyers_ppa", "part_ppa")),
    TableSpec("T10_logement", "logement", "Aides personnelles au logement",
              ("foyers_aides_logement", "foyers_apl", "foyers_alf", "foyers_als", "part_aides_logement",
               "montant_moyen_aides_logement")),
    TableSpec("G05_logement", "logement", "Part des foyers allocataires aidés pour leur logement",
              ("part_aides_logement",), kind="bar"),
    TableSpec("T11_enfance", "enfance", "Prestations liées à la petite enfance, à l'enfance et à la jeunesse",
              ("foyers_paje", "foyers_paje_base", "foyers_cmg", "foyers_prepare", "part_paje", "foyers_af",
               "part_af", "foyers_cf", "foyers_asf", "foyers_ars")),
    TableSpec("G06_enfance", "enfance", "Part des foyers allocataires à la PAJE et aux allocations familiales",
              ("part_paje", "part_af"), kind="bar"),
    TableSpec("T12_handicap", "handicap", "Allocations liées au handicap",
              ("foyers_aah", "part_aah", "foyers_aeeh")),
    TableSpec("T13_evolution", "evolution", "Évolution des principaux effectifs", EVOLUTION_ITEMS,
              kind="evolution"),
    TableSpec("G07_evolution", "evolution", "Évolution comparée des effectifs",
              ("foyers_allocataires", "foyers_rsa", "foyers_ppa", "foyers_aides_logement"), kind="index"),
    TableSpec("T14_quartiers", "quartiers", "Indicateurs par quartier (IRIS)",
              ("foyers_allocataires", "personnes_couvertes", "familles_monoparentales", "part_monoparentales",
               "foyers_rsa", "part_rsa", "foyers_aides_logement", "part_aides_logement"), kind="iris"),
    TableSpec("C02_carte_iris", "quartiers", "Taux par quartier (IRIS)", MAP_ITEMS, kind="iris_map"),
    TableSpec("T15_qpv", "quartiers", "Quartiers prioritaires, commune hors QPV et commune entière", QPV_ITEMS,
              kind="qpv"),
    TableSpec("C03_carte_qpv", "quartiers", "Part des foyers allocataires au RSA par quartier prioritaire",
              ("foyers_allocataires", "foyers_rsa", "part_rsa"), kind="qpv_map"),
)


SHORT_LABELS = MappingProxyType({
    "foyers_allocataires": "Foyers allocataires",
    "personnes_couvertes": "Personnes couvertes",
    "familles_monoparentales": "Familles monoparentales",
    "part_monoparentales": "Part monoparentales",
    "foyers_rsa": "Foyers au RSA",
    "part_rsa": "Part RSA",
    "foyers_aides_logement": "Foyers aidés logement",
    "part_aides_logement": "Part aidés logement",
    "taux_bas_revenus": "Part bas revenus",
})
"""Column headers of the quartiers table, where eight columns share the page width."""


def specs_of(chapter: str) -> tuple[TableSpec, ...]:
    return tuple(s for s in SPECS if s.chapter == chapter)
