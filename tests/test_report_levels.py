"""Every chapter in an EPCI, a département and an aggregation report, PDF and HTML alike."""

from __future__ import annotations

import re

import pypdf
import pytest

from abs_report.cli import main

pytestmark = pytest.mark.slow

CHAPTERS = ("Synthèse", "Vue d'ensemble", "Composition des familles", "Revenus et précarité", "Logement",
            "Petite enfance, enfance, jeunesse", "Handicap", "Évolution sur cinq ans", "Quartiers",
            "Sources, méthode et secret statistique")

TERRITORIES = {
    "epci": ('{level: epci, code: "200040715"}', "200040715", "Grenoble-Alpes-Métropole", ["Isère", "France"]),
    "departement": ('{level: departement, code: "38"}', "38", "Isère", ["Auvergne-Rhône-Alpes", "France"]),
    "aggregation": ('{level: aggregation, code: bv-voiron, name: "Bassin de vie de Voiron", '
                    'communes: ["38563", "38111", "38407", "38565"]}', "bv-voiron", "Bassin de vie de Voiron",
                    ["Isère", "France"]),
}


@pytest.fixture(scope="module", params=sorted(TERRITORIES))
def level_report(request, tmp_path_factory):
    territory, code, name, zones = TERRITORIES[request.param]
    root = tmp_path_factory.mktemp(request.param)
    params = root / "params.yml"
    params.write_text(f"territory: {territory}\nyear: 2024\nrecipient: Test\npurpose: Test\n", encoding="utf-8")
    assert main(["render", str(params), "--outputs", str(root / "outputs")]) == 0
    folder = root / "outputs" / code / "2024"
    pdf = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(folder / "report.pdf").pages))
    html = (folder / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    return request.param, name, zones, pdf, html


def test_every_chapter_in_pdf_and_html(level_report):
    level, name, zones, pdf, html = level_report
    for chapter in CHAPTERS:
        assert chapter in pdf, (level, chapter)
        assert chapter in html, (level, chapter)
    for text in (name, *zones):
        assert text in pdf and text in html, (level, text)


def test_quartiers_chapter_explains_its_absence(level_report):
    level, _, _, pdf, _ = level_report
    assert "pas de découpage en quartiers" in pdf, level


def test_maps_of_the_communes(level_report):
    level, _, _, pdf, html = level_report
    for caption in ("Carte : localisation du territoire", "Carte : taux de couverture par commune",
                    "Carte : part des foyers au RSA par commune",
                    "Carte : part des foyers aidés pour le logement par commune"):
        assert caption in pdf, (level, caption)
        assert caption in html, (level, caption)
    assert "Fond de carte : IGN – INSEE" in pdf
