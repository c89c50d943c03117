"""Cafdata QPV exports and tidy QPV rows import like the others (issue 15, item 3).

The files are hand-made in the layout of Cafdata's QPV datasets (for example
``ndur_s_qf_400_qpv_f``: ``;`` separated, ``dtreffre``, the commune
``numcomdo``, the quartier named in ``nomqpv``, sometimes a code column).
No real QPV export is available to the tests.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from abs_report import observations
from abs_report.cli import main
from abs_report.errors import InputError
from abs_report.geography import load_geography
from abs_report.sources import cafdata, importer, reading

QF_HEADER = "dtreffre;numcomdo;nomcom;nomqpv;qf_400;indfoy_ndur"


def _qf_rows(commune: str, name: str, counts=(120, 80, 60, 40, 30, 10, 5)) -> str:
    bands = ("< 400", "400-599", "600-799", "800-999", "1000-1499", "1500 et plus", "Inconnu")
    return "".join(f"2022-12;{commune};X;{name};{band};{n}\n" for band, n in zip(bands, counts))


def _import(tmp_path: Path, name: str, text: str) -> tuple[int, Path, Path]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    into = tmp_path / "dataset"
    return main(["data", "import", str(path), "--into", str(into)]), path, into


def _qpv_rows(into: Path) -> pd.DataFrame:
    obs = observations.load(into).observations
    return obs[obs["zone_level"].isin(["qpv", "hors_qpv"])]


def test_names_matched_ignoring_case_accents_hyphens_and_spacing(tmp_path, capsys):
    text = (QF_HEADER + "\n" + _qf_rows("38185", "MISTRAL LYS ROUGE CAMINE")
            + _qf_rows("38185", "Alma Tres-Cloitres  Chenoise") + _qf_rows("38344", "route de sablons")
            + _qf_rows("38185", "Ensemble des QPV de la commune"))
    status, _, into = _import(tmp_path, "ndur_s_qf_400_qpv_f.csv", text)
    assert status == 0, capsys.readouterr().err
    rows = _qpv_rows(into)
    assert set(rows["zone_code"]) == {"QN03806M", "QN03809M", "QN03818M"}
    assert set(rows["zone_level"]) == {"qpv"}
    mistral = rows[(rows["zone_code"] == "QN03806M") & (rows["measure"] == "qf_0_399")]
    assert mistral["value"].tolist() == [120.0]
    notes = (into / importer.NOTES_FILE).read_text(encoding="utf-8")
    assert "7 ligne(s) d'ensemble des QPV" in notes


def test_a_code_column_is_used_when_there_is_one(tmp_path, capsys):
    text = ("dtreffre;numcomdo;codeqpv;nomqpv;indfoy_ndur;indfoy_rsa\n"
            "2022-12;38185;QN03807M;Nom libre qui ne compte pas;2500;600\n"
            "2022-12;38544;qn03823m;Les Genets;700;150\n")
    status, _, into = _import(tmp_path, "s_ben_qpv_f.csv", text)
    assert status == 0, capsys.readouterr().err
    rows = _qpv_rows(into)
    assert set(rows["zone_code"]) == {"QN03807M", "QN03823M"}
    rsa = rows[(rows["zone_code"] == "QN03807M") & (rows["measure"] == "foyers_rsa")]["value"]
    assert rsa.tolist() == [600.0]


def test_hors_qpv_rows_of_a_commune(tmp_path, capsys):
    text = ("dtreffre;numcomdo;nomqpv;indfoy_ndur\n"
            "2022-12;38185;Hors QPV;41000\n2022-12;38185;Villeneuve - Village Olympique;2500\n")
    status, _, into = _import(tmp_path, "hors.csv", text)
    assert status == 0, capsys.readouterr().err
    rows = _qpv_rows(into)
    rows = rows[rows["measure"] == "foyers_allocataires"].set_index(["zone_level", "zone_code"])
    assert rows.loc[("hors_qpv", "38185"), "value"] == 41000
    assert rows.loc[("qpv", "QN03807M"), "value"] == 2500


BAD = [
    ("unknown_name", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38185;Mistral;10\n"
                     "2022-12;38185;Quartier Imaginaire;12\n",
     ["ligne 3", "'nomqpv'", "'Quartier Imaginaire'", "QPV inconnu"]),
    ("unknown_name_suggests", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38185;Mistral Lys Rouge;10\n",
     ["ligne 2", "'nomqpv'", "'Mistral Lys Rouge'", "QN03806M"]),
    ("unknown_code", "dtreffre;numcomdo;codeqpv;indfoy_ndur\n2022-12;38185;QN03899M;10\n",
     ["ligne 2", "'codeqpv'", "'QN03899M'", "QPV inconnu"]),
    ("wrong_commune", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38151;Mistral Lys Rouge Camine;10\n",
     ["ligne 2", "'numcomdo'", "'38151'", "QN03806M", "Grenoble", "Échirolles"]),
    ("wrong_commune_by_code", "dtreffre;numcomdo;code_qp;indfoy_ndur\n2022-12;38185;QN03801M;10\n",
     ["ligne 2", "'numcomdo'", "'38185'", "QN03801M", "Échirolles"]),
    ("blank_name", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38185;;10\n",
     ["ligne 2", "'nomqpv'", "vide"]),
    ("hors_qpv_of_a_commune_without_qpv", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38001;Hors QPV;10\n",
     ["ligne 2", "'numcomdo'", "'38001'", "aucun QPV"]),
    ("hors_qpv_without_commune", "dtreffre;nomqpv;indfoy_ndur\n2022-12;Hors QPV;10\n",
     ["ligne 2", "'nomqpv'", "'Hors QPV'", "numcomdo"]),
    ("duplicated_qpv", "dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38185;Mistral Lys Rouge Camine;10\n"
                       "2022-12;38185;mistral lys rouge camine;12\n",
     ["ligne 3", "en double", "QN03806M"]),
    ("tidy_unknown_qpv", "zone_level,zone_code,year,measure,value\nqpv,QN03899M,2022,foyers_rsa,1\n",
     ["ligne 2", "'zone_code'", "'QN03899M'", "QPV"]),
    ("tidy_hors_qpv_without_qpv", "zone_level,zone_code,year,measure,value\nhors_qpv,38001,2022,foyers_rsa,1\n",
     ["ligne 2", "'zone_code'", "'38001'", "QPV"]),
]


@pytest.mark.parametrize("name,content,fragments", BAD, ids=[c[0] for c in BAD])
def test_bad_qpv_input_exits_2_naming_file_line_column_value(tmp_path, capsys, name, content, fragments):
    status, path, into = _import(tmp_path, f"{name}.csv", content)
    message = capsys.readouterr().err
    assert status == 2, message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not into.exists()


def test_an_ambiguous_name_is_refused_unless_the_commune_settles_it(tmp_path):
    geo = copy.copy(load_geography())
    table = geo.qpv_table.copy()
    table.loc["QN03824M", "name"] = "Estressin"   # now two QPV of Vienne are called Estressin
    table.loc["QN03812M", "name"] = "Champaret"   # and Voiron's QPV shares a name with Bourgoin's
    geo.qpv_table = table
    path = tmp_path / "ambiguous.csv"
    path.write_text("dtreffre;numcomdo;nomqpv;indfoy_ndur\n2022-12;38544;estressin;10\n"
                    "2022-12;38563;Champaret;12\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        cafdata.read(reading.open_text(path), geo)
    problems = err.value.problems
    assert len(problems) == 1, problems  # Champaret of Voiron is settled by its commune
    assert (problems[0].line, problems[0].field, problems[0].value) == (2, "nomqpv", "estressin")
    assert "ambigu" in problems[0].message and "QN03821M" in problems[0].message \
        and "QN03824M" in problems[0].message
