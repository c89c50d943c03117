"""The one catalogue of measures, additive relations and indicators.

Everything that names a figure reads it from here: the data sources (which
column feeds which measure), the secrecy (which cells add up to which total),
the tables and charts (French labels), the glossary and ``published.csv``
(stable ids, units, numerators and denominators).

Vocabulary
----------
measure
    A count or an amount held per zone and year in the canonical observations
    table (``foyers_rsa``, ``montant_rsa``). Counts are subject to secrecy;
    amounts inherit the secrecy of the count they are paid to (``basis``).
relation
    ``total = sum(parts)``: a linear fact any reader of the tables knows.
    Secondary suppression and the audit both rely on the full list.
indicator
    A number derived from two measures (a percentage, a ratio or an average
    amount). It is published only when both of its measures are.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Unit = Literal["count", "euro", "percent", "ratio"]


@dataclass(frozen=True)
class Measure:
    """A count or an amount held in the observations table."""

    id: str
    label: str
    definition: str
    theme: str
    unit: Unit = "count"
    basis: str | None = None
    """For amounts: the count whose secrecy the amount inherits."""
    secret: bool = True
    """False for figures that are not CAF data (the INSEE population)."""


@dataclass(frozen=True)
class Relation:
    """``total`` equals the sum of ``parts`` for every zone and year."""

    id: str
    total: str
    parts: tuple[str, ...]
    derived: bool = False
    """True when the total is computed from its parts (not read from a source)."""


@dataclass(frozen=True)
class Indicator:
    """A percentage or a ratio of two measures."""

    id: str
    label: str
    definition: str
    theme: str
    numerator: str
    denominator: str
    unit: Unit = "percent"
    scale: float = 100.0


THEMES = MappingProxyType(
    {
        "ensemble": "Vue d'ensemble",
        "familles": "Composition des familles",
        "precarite": "Revenus et précarité",
        "logement": "Logement",
        "enfance": "Petite enfance, enfance, jeunesse",
        "handicap": "Handicap",
        "population": "Population",
    }
)


def _m(id: str, label: str, definition: str, theme: str, **kw) -> Measure:
    return Measure(id=id, label=label, definition=definition, theme=theme, **kw)


_FAMILY_TYPES = [
    ("isoles_hommes", "Hommes isolés", "Allocataires hommes vivant seuls, sans enfant à charge."),
    ("isolees_femmes", "Femmes isolées", "Allocataires femmes vivant seules, sans enfant à charge."),
    ("couples_sans_enfant", "Couples sans enfant", "Couples allocataires sans enfant à charge."),
    ("couples_1_enfant", "Couples avec 1 enfant", "Couples allocataires avec un enfant à charge."),
    ("couples_2_enfants", "Couples avec 2 enfants", "Couples allocataires avec deux enfants à charge."),
    ("couples_3_enfants", "Couples avec 3 enfants", "Couples allocataires avec trois enfants à charge."),
    ("couples_4_enfants_plus", "Couples avec 4 enfants ou plus", "Couples allocataires avec quatre enfants à charge ou plus."),
    ("monoparents_1_enfant", "Familles monoparentales avec 1 enfant", "Parents isolés allocataires avec un enfant à charge."),
    ("monoparents_2_enfants", "Familles monoparentales avec 2 enfants", "Parents isolés allocataires avec deux enfants à charge."),
    ("monoparents_3_enfants", "Familles monoparentales avec 3 enfants", "Parents isolés allocataires avec trois enfants à charge."),
    ("monoparents_4_enfants_plus", "Familles monoparentales avec 4 enfants ou plus", "Parents isolés allocataires avec quatre enfants à charge ou plus."),
]

_CHILD_BANDS = [
    ("enfants_0_2", "Enfants de 0 à 2 ans"),
    ("enfants_3_5", "Enfants de 3 à 5 ans"),
    ("enfants_6_10", "Enfants de 6 à 10 ans"),
    ("enfants_11_14", "Enfants de 11 à 14 ans"),
    ("enfants_15_17", "Enfants de 15 à 17 ans"),
    ("enfants_18_24", "Jeunes de 18 à 24 ans"),
]

_QF_BANDS = [
    ("qf_0_399", "QF de 0 à 399 €"),
    ("qf_400_599", "QF de 400 à 599 €"),
    ("qf_600_799", "QF de 600 à 799 €"),
    ("qf_800_999", "QF de 800 à 999 €"),
    ("qf_1000_1499", "QF de 1 000 à 1 499 €"),
    ("qf_1500_plus", "QF de 1 500 € et plus"),
    ("qf_inconnu", "QF non connu"),
]

_MEASURES: list[Measure] = [
    _m("population_municipale", "Population municipale",
       "Population municipale légale (Insee), millésime indiqué dans la source.",
       "population", secret=False),
    _m("foyers_allocataires", "Foyers allocataires",
       "Foyers (allocataire et sa famille) percevant au moins une prestation de la Caf au 31 décembre.",
       "ensemble"),
    _m("personnes_couvertes", "Personnes couvertes",
       "Allocataires, conjoints, enfants et autres personnes à charge des foyers allocataires.",
       "ensemble"),
    *[_m(i, lab, d, "familles") for i, lab, d in _FAMILY_TYPES],
    _m("personnes_isolees", "Personnes isolées",
       "Allocataires vivant seuls, sans enfant à charge (hommes et femmes).", "familles"),
    _m("familles_monoparentales", "Familles monoparentales",
       "Allocataires parents isolés avec au moins un enfant à charge.", "familles"),
    _m("couples_avec_enfants", "Couples avec enfants",
       "Couples allocataires avec au moins un enfant à charge.", "familles"),
    _m("familles_nombreuses", "Familles nombreuses",
       "Familles allocataires avec trois enfants à charge ou plus (couples ou parents isolés).",
       "familles"),
    _m("familles_avec_enfants", "Familles avec enfants",
       "Allocataires avec au moins un enfant à charge.", "familles"),
    *[_m(i, lab, f"{lab} à charge des foyers allocataires.", "familles") for i, lab in _CHILD_BANDS],
    _m("enfants_couverts", "Enfants couverts",
       "Enfants et jeunes de moins de 25 ans à charge des foyers allocataires.", "familles"),
    _m("allocataires_reference", "Allocataires de référence",
       "Allocataires hors étudiants sans autre prestation et hors allocataires de 65 ans ou plus : "
       "population de référence des indicateurs de bas revenus et de dépendance.", "precarite"),
    _m("personnes_reference", "Personnes couvertes de référence",
       "Personnes couvertes par les allocataires de référence.", "precarite"),
    _m("allocataires_bas_revenus", "Allocataires à bas revenus",
       "Allocataires de référence dont le revenu par unité de consommation est inférieur au seuil "
       "de bas revenus (60 % du revenu médian).", "precarite"),
    _m("personnes_bas_revenus", "Personnes à bas revenus",
       "Personnes couvertes par un allocataire à bas revenus.", "precarite"),
    _m("allocataires_dependants_50", "Allocataires dépendants à 50 % ou plus",
       "Allocataires de référence dont les prestations représentent au moins la moitié des ressources.",
       "precarite"),
    _m("allocataires_dependants_100", "Allocataires dépendants à 100 %",
       "Allocataires de référence dont les ressources sont constituées uniquement de prestations.",
       "precarite"),
    *[_m(i, lab, f"Foyers allocataires dont le quotient familial mensuel est {lab[3:]}.", "precarite")
      for i, lab in _QF_BANDS],
    _m("foyers_rsa", "Foyers bénéficiaires du RSA",
       "Foyers percevant le revenu de solidarité active (RSA socle).", "precarite"),
    _m("foyers_rsa_majore", "RSA majoré",
       "Foyers percevant le RSA majoré (parent isolé).", "precarite"),
    _m("foyers_rsa_non_majore", "RSA non majoré",
       "Foyers percevant le RSA non majoré.", "precarite"),
    _m("foyers_ppa", "Foyers bénéficiaires de la prime d'activité",
       "Foyers percevant la prime d'activité.", "precarite"),
    _m("foyers_aides_logement", "Foyers bénéficiaires d'une aide au logement",
       "Foyers percevant une aide personnelle au logement (APL, ALF ou ALS).", "logement"),
    _m("foyers_apl", "Aide personnalisée au logement (APL)",
       "Foyers percevant l'aide personnalisée au logement.", "logement"),
    _m("foyers_alf", "Allocation de logement familiale (ALF)",
       "Foyers percevant l'allocation de logement familiale.", "logement"),
    _m("foyers_als", "Allocation de logement sociale (ALS)",
       "Foyers percevant l'allocation de logement sociale.", "logement"),
    _m("foyers_af", "Allocations familiales (AF)",
       "Foyers percevant les allocations familiales.", "enfance"),
    _m("foyers_cf", "Complément familial (CF)",
       "Foyers percevant le complément familial.", "enfance"),
    _m("foyers_asf", "Allocation de soutien familial (ASF)",
       "Foyers percevant l'allocation de soutien familial.", "enfance"),
    _m("foyers_ars", "Allocation de rentrée scolaire (ARS)",
       "Foyers ayant perçu l'allocation de rentrée scolaire de l'année.", "enfance"),
    _m("foyers_paje", "Prestation d'accueil du jeune enfant (PAJE)",
       "Foyers percevant au moins une prestation de la PAJE.", "enfance"),
    _m("foyers_paje_base", "PAJE : allocation de base",
       "Foyers percevant l'allocation de base de la PAJE.", "enfance"),
    _m("foyers_cmg", "PAJE : complément de libre choix du mode de garde (CMG)",
       "Foyers percevant le complément de libre choix du mode de garde.", "enfance"),
    _m("foyers_prepare", "PAJE : prestation partagée d'éducation de l'enfant (PreParE)",
       "Foyers percevant la prestation partagée d'éducation de l'enfant.", "enfance"),
    _m("foyers_aah", "Allocation aux adultes handicapés (AAH)",
       "Foyers percevant l'allocation aux adultes handicapés.", "handicap"),
    _m("foyers_aeeh", "Allocation d'éducation de l'enfant handicapé (AEEH)",
       "Foyers percevant l'allocation d'éducation de l'enfant handicapé.", "handicap"),
    _m("montant_rsa", "Montant versé de RSA", "Montant du RSA versé au titre de décembre, en euros.",
       "precarite", unit="euro", basis="foyers_rsa"),
    _m("montant_ppa", "Montant versé de prime d'activité",
       "Montant de la prime d'activité versé au titre de décembre, en euros.",
       "precarite", unit="euro", basis="foyers_ppa"),
    _m("montant_aides_logement", "Montant versé d'aides au logement",
       "Montant des aides au logement versé au titre de décembre, en euros.",
       "logement", unit="euro", basis="foyers_aides_logement"),
    _m("montant_af", "Montant versé d'allocations familiales",
       "Montant des allocations familiales versé au titre de décembre, en euros.",
       "enfance", unit="euro", basis="foyers_af"),
    _m("montant_paje", "Montant versé de PAJE",
       "Montant de la PAJE versé au titre de décembre, en euros.",
       "enfance", unit="euro", basis="foyers_paje"),
    _m("montant_aah", "Montant versé d'AAH",
       "Montant de l'AAH versé au titre de décembre, en euros.",
       "handicap", unit="euro", basis="foyers_aah"),
]

MEASURES = MappingProxyType({m.id: m for m in _MEASURES})

_MONO = tuple(i for i, _, _ in _FAMILY_TYPES if i.startswith("monoparents"))
_COUPLES_WITH = tuple(i for i, _, _ in _FAMILY_TYPES if i.startswith("couples_") and "sans" not in i)

RELATIONS: tuple[Relation, ...] = (
    Relation("composition_familiale", "foyers_allocataires", tuple(i for i, _, _ in _FAMILY_TYPES)),
    Relation("isoles", "personnes_isolees", ("isoles_hommes", "isolees_femmes"), derived=True),
    Relation("monoparentales", "familles_monoparentales", _MONO, derived=True),
    Relation("couples_avec_enfants", "couples_avec_enfants", _COUPLES_WITH, derived=True),
    Relation("nombreuses", "familles_nombreuses",
             ("couples_3_enfants", "couples_4_enfants_plus",
              "monoparents_3_enfants", "monoparents_4_enfants_plus"), derived=True),
    Relation("avec_enfants", "familles_avec_enfants",
             ("couples_avec_enfants", "familles_monoparentales"), derived=True),
    Relation("enfants_par_age", "enfants_couverts", tuple(i for i, _ in _CHILD_BANDS), derived=True),
    Relation("quotient_familial", "foyers_allocataires", tuple(i for i, _ in _QF_BANDS)),
    Relation("rsa_par_type", "foyers_rsa", ("foyers_rsa_majore", "foyers_rsa_non_majore")),
    Relation("aides_logement", "foyers_aides_logement", ("foyers_apl", "foyers_alf", "foyers_als")),
)
"""Additive facts within one zone. Geographic additivity (communes sum to
their EPCI, IRIS to their commune...) comes from :mod:`abs_report.geography`."""

SUBSETS: tuple[tuple[str, str], ...] = (
    ("allocataires_dependants_100", "allocataires_dependants_50"),
    ("allocataires_dependants_50", "allocataires_reference"),
    ("allocataires_bas_revenus", "allocataires_reference"),
    ("personnes_bas_revenus", "personnes_reference"),
    ("allocataires_reference", "foyers_allocataires"),
    ("personnes_reference", "personnes_couvertes"),
    ("foyers_paje_base", "foyers_paje"),
    ("foyers_cmg", "foyers_paje"),
    ("foyers_prepare", "foyers_paje"),
    ("foyers_allocataires", "personnes_couvertes"),
)
"""``(small, large)``: ``small <= large`` always. Bounds an attacker may use."""


def _i(id, label, definition, theme, numerator, denominator, unit="percent", scale=100.0):
    return Indicator(id, label, definition, theme, numerator, denominator, unit, scale)


_INDICATORS: list[Indicator] = [
    _i("taux_couverture", "Taux de couverture",
       "Part de la population couverte par au moins une prestation de la Caf : personnes couvertes "
       "rapportées à la population municipale.", "ensemble", "personnes_couvertes", "population_municipale"),
    _i("personnes_par_foyer", "Personnes par foyer allocataire",
       "Nombre moyen de personnes couvertes par foyer allocataire.", "ensemble",
       "personnes_couvertes", "foyers_allocataires", unit="ratio", scale=1.0),
    _i("part_monoparentales", "Part des familles monoparentales",
       "Familles monoparentales rapportées aux familles allocataires avec enfants.", "familles",
       "familles_monoparentales", "familles_avec_enfants"),
    _i("part_familles_nombreuses", "Part des familles nombreuses",
       "Familles de trois enfants ou plus rapportées aux familles allocataires avec enfants.", "familles",
       "familles_nombreuses", "familles_avec_enfants"),
    _i("part_isoles", "Part des personnes isolées",
       "Allocataires isolés sans enfant rapportés à l'ensemble des allocataires.", "familles",
       "personnes_isolees", "foyers_allocataires"),
    _i("taux_bas_revenus", "Taux d'allocataires à bas revenus",
       "Allocataires à bas revenus rapportés aux allocataires de référence.", "precarite",
       "allocataires_bas_revenus", "allocataires_reference"),
    _i("taux_personnes_bas_revenus", "Taux de personnes couvertes à bas revenus",
       "Personnes à bas revenus rapportées aux personnes couvertes de référence.", "precarite",
       "personnes_bas_revenus", "personnes_reference"),
    _i("taux_dependance_50", "Part des allocataires dépendants à 50 % ou plus",
       "Allocataires dont les prestations font au moins la moitié des ressources, rapportés aux "
       "allocataires de référence.", "precarite", "allocataires_dependants_50", "allocataires_reference"),
    _i("taux_dependance_100", "Part des allocataires dépendants à 100 %",
       "Allocataires dont les ressources sont constituées uniquement de prestations, rapportés aux "
       "allocataires de référence.", "precarite", "allocataires_dependants_100", "allocataires_reference"),
    _i("part_rsa", "Part des foyers au RSA",
       "Foyers bénéficiaires du RSA rapportés aux foyers allocataires.", "precarite",
       "foyers_rsa", "foyers_allocataires"),
    _i("part_rsa_majore", "Part du RSA majoré",
       "Foyers au RSA majoré rapportés aux foyers au RSA.", "precarite",
       "foyers_rsa_majore", "foyers_rsa"),
    _i("part_ppa", "Part des foyers à la prime d'activité",
       "Foyers bénéficiaires de la prime d'activité rapportés aux foyers allocataires.", "precarite",
       "foyers_ppa", "foyers_allocataires"),
    _i("part_qf_bas", "Part des foyers au quotient familial inférieur à 400 €",
       "Foyers dont le quotient familial est inférieur à 400 € rapportés aux foyers allocataires.",
       "precarite", "qf_0_399", "foyers_allocataires"),
    _i("part_aides_logement", "Part des foyers aidés pour le logement",
       "Foyers bénéficiaires d'une aide au logement rapportés aux foyers allocataires.", "logement",
       "foyers_aides_logement", "foyers_allocataires"),
    _i("part_paje", "Part des foyers à la PAJE",
       "Foyers bénéficiaires de la PAJE rapportés aux foyers allocataires.", "enfance",
       "foyers_paje", "foyers_allocataires"),
    _i("part_af", "Part des foyers aux allocations familiales",
       "Foyers bénéficiaires des allocations familiales rapportés aux foyers allocataires.", "enfance",
       "foyers_af", "foyers_allocataires"),
    _i("part_aah", "Part des foyers à l'AAH",
       "Foyers bénéficiaires de l'AAH rapportés aux foyers allocataires.", "handicap",
       "foyers_aah", "foyers_allocataires"),
    _i("montant_moyen_rsa", "Montant moyen de RSA par foyer",
       "Montant de RSA versé en décembre rapporté au nombre de foyers bénéficiaires.", "precarite",
       "montant_rsa", "foyers_rsa", unit="euro", scale=1.0),
    _i("montant_moyen_aides_logement", "Montant moyen d'aide au logement par foyer",
       "Montant d'aides au logement versé en décembre rapporté au nombre de foyers bénéficiaires.",
       "logement", "montant_aides_logement", "foyers_aides_logement", unit="euro", scale=1.0),
]

INDICATORS = MappingProxyType({i.id: i for i in _INDICATORS})


def label(item_id: str) -> str:
    """French label of a measure or an indicator."""
    if item_id in MEASURES:
        return MEASURES[item_id].label
    return INDICATORS[item_id].label


def base_measures() -> tuple[str, ...]:
    """Measures a source provides (derived totals are computed from their parts)."""
    derived = {r.total for r in RELATIONS if r.derived}
    return tuple(m for m in MEASURES if m not in derived)


def _check() -> None:
    ids = set(MEASURES) | set(INDICATORS)
    assert len(ids) == len(MEASURES) + len(INDICATORS), "measure and indicator ids overlap"
    for r in RELATIONS:
        assert r.total in MEASURES and all(p in MEASURES for p in r.parts), r
    for i in INDICATORS.values():
        assert i.numerator in MEASURES and i.denominator in MEASURES, i
    for m in MEASURES.values():
        assert m.basis is None or m.basis in MEASURES, m


_check()
