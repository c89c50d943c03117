"""A report on the real Cafdata export of Isère: the printed figures are the file's."""

from __future__ import annotations

import re

import pypdf
import pytest

from abs_report import formatting as fmt
from abs_report.cli import main
from abs_report.published import read as read_published

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_report(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("real")
    dataset = root / "caf-isere"
    export = shared_data / "cafdata" / "s_ben_com_f_isere_2020-2022.csv"
    assert main(["data", "import", str(export), "--into", str(dataset)]) == 0
    params = root / "grenoble-2022.yml"
    params.write_text(
        "territory: {level: commune, code: \"38185\"}\n"
        "year: 2022\n"
        "recipient: CCAS de Grenoble\n"
        "purpose: Test sur données réelles\n"
        "formats: [pdf]\n"
        f"data: {dataset}\n", encoding="utf-8")
    assert main(["render", str(params), "--outputs", str(root / "outputs")]) == 0
    return root / "outputs" / "38185" / "2022"


def test_people_covered_and_coverage_rate_are_the_files(real_report, geography):
    published = read_published(real_report / "published.csv")
    rows = published[(published["table_id"] == "T01_vue_ensemble") & (published["zone_code"] == "38185")]
    values = rows.set_index("measure")["value"]
    population = geography.population(geography.zone("commune", "38185"))
    assert values["personnes_couvertes"] == 91_305
    assert values["foyers_allocataires"] == 51_135
    assert values["taux_couverture"] == pytest.approx(91_305 / population * 100)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(real_report / "report.pdf").pages)
    text = re.sub(r"\s+", " ", text).replace("\u202f", " ")
    assert fmt.value(91_305, "count").replace("\u202f", " ") in text
    assert fmt.value(91_305 / population * 100, "percent").replace("\u202f", " ") in text


def test_missing_measures_say_so(real_report):
    published = read_published(real_report / "published.csv")
    family = published[(published["table_id"] == "T03_composition_familiale")
                       & (published["measure"] != "foyers_allocataires")]
    assert (family["status"] == "missing").all()
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(real_report / "report.pdf").pages)
    text = re.sub(r"\s+", " ", text)
    assert "Ce que la source ne fournit pas" in text  # said once, not under every table
    assert "arrondis à 5" in text
    assert "Données fictives" not in text
