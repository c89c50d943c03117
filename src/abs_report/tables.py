"""What each chapter shows: the table and chart specifications.

A specification names its stable id (``table_id`` in ``published.csv``), its
chapter, its French title and the measures or indicators it shows for the
territory and each comparison zone. Presentation (:mod:`figures`) and
publication (:mod:`published`) both read these, so a number cannot appear in
a report without a row in ``published.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .catalogue import INDICATORS, MEASURES, THEMES

Kind = Literal["table", "bar"]


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
        assert not unknown and self.chapter in THEMES, (self.id, unknown)


CHAPTERS: tuple[str, ...] = ("ensemble",)
"""Chapters in reading order (ids of :data:`catalogue.THEMES`)."""

SPECS: tuple[TableSpec, ...] = (
    TableSpec("T01_vue_ensemble", "ensemble", "Allocataires, personnes couvertes et taux de couverture",
              ("population_municipale", "foyers_allocataires", "personnes_couvertes",
               "taux_couverture", "personnes_par_foyer")),
    TableSpec("G01_taux_couverture", "ensemble", "Taux de couverture de la population par la Caf",
              ("taux_couverture",), kind="bar"),
    TableSpec("T02_prestations", "ensemble", "Principales prestations versées",
              ("foyers_rsa", "part_rsa", "foyers_ppa", "part_ppa", "foyers_aides_logement",
               "part_aides_logement", "foyers_af", "part_af", "foyers_paje", "part_paje",
               "foyers_aah", "part_aah")),
    TableSpec("G02_prestations", "ensemble", "Part des foyers allocataires bénéficiaires des principales prestations",
              ("part_rsa", "part_ppa", "part_aides_logement", "part_af", "part_paje", "part_aah"), kind="bar"),
)


def specs_of(chapter: str) -> tuple[TableSpec, ...]:
    return tuple(s for s in SPECS if s.chapter == chapter)
