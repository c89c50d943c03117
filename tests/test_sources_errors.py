"""Bad data gets a clear error and loses nothing.

Each case runs ``abs-report data import`` and checks: exit status 2, a
message naming the file, the line, the column and the value, and nothing
written at ``--into`` (an earlier dataset there stays byte for byte).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abs_report.cli import main

CAF_HEADER = "dtreffre;numcomdo;nomcom;indfoy_ndur;indnbp_ndur"

# name, file bytes, fragments every one of which the message must contain
CASES = [
    ("misspelt_column", f"dtreffre;numcomdo;indfoy_ndur;indnbp_ndr\n2022-12;38185;51135;91305\n",
     ["ligne 1", "'indnbp_ndr'", "Vouliez-vous dire 'indnbp_ndur'"]),
    ("missing_column", "numcomdo;nomcom;indfoy_ndur\n38185;Grenoble;51135\n",
     ["ligne 1", "'dtreffre'", "colonne obligatoire absente"]),
    ("misspelt_code_column", "dtreffre;numcomd;indfoy_ndur\n2022-12;38185;51135\n",
     ["ligne 1", "'numcomd'", "Vouliez-vous dire 'numcomdo'"]),
    ("non_numeric", f"{CAF_HEADER}\n2022-12;38185;Grenoble;51 135;91305\n",
     ["ligne 2", "'indfoy_ndur'", "'51 135'", "non numérique"]),
    ("negative", f"{CAF_HEADER}\n2022-12;38185;Grenoble;51135;-3\n",
     ["ligne 2", "'indnbp_ndur'", "'-3'", "négatif"]),
    ("duplicated_key", f"{CAF_HEADER}\n2022-12;38185;Grenoble;1;2\n2022-12;38001;Les Abrets;3;4\n"
                       "2022-12;38185;Grenoble;5;6\n",
     ["ligne 4", "'dtreffre, numcomdo'", "'2022-12 / 38185'", "en double", "ligne 2"]),
    ("unknown_commune", f"{CAF_HEADER}\n2022-12;38999;Nulle part;1;2\n",
     ["ligne 2", "'numcomdo'", "'38999'", "inconnue"]),
    ("code_lost_leading_zero", f"{CAF_HEADER}\n2022-12;1001;L'Abergement;1;2\n",
     ["ligne 2", "'numcomdo'", "'1001'", "zéro initial"]),
    ("year_out_of_range", f"{CAF_HEADER}\n1998-12;38185;Grenoble;1;2\n",
     ["ligne 2", "'dtreffre'", "'1998-12'", "plage"]),
    ("no_december", f"{CAF_HEADER}\n2022-06;38185;Grenoble;1;2\n",
     ["'dtreffre'", "'2022-06'", "décembre"]),
    ("latin1", (f"{CAF_HEADER}\n2022-12;38185;Grenoble;1;2\n2022-12;38001;Les Abrets en Dauphin\xe9;1;2\n"),
     ["ligne 3", "'é'", "UTF-8"]),
    ("comma_separator", "dtreffre,numcomdo,nomcom,indfoy_ndur\n2022-12,38185,Grenoble,1\n",
     ["ligne 1", "séparateur ','", "';' attendu"]),
    ("pipe_separator", "dtreffre|numcomdo|indfoy_ndur\n2022-12|38185|1\n",
     ["ligne 1", "format non reconnu", "séparateur"]),
    ("empty", "", ["fichier vide"]),
    ("header_only", f"{CAF_HEADER}\n", ["ligne 1", "aucune ligne de données"]),
    ("tidy_bad_cells", "zone_level,zone_code,year,measure,value\ncommune,38185,2031,foyers_alocataires,x\n",
     ["ligne 2", "'year'", "'2031'", "'measure'", "'foyers_alocataires'", "Vouliez-vous dire 'foyers_allocataires'",
      "'value'", "'x'"]),
    ("tidy_bad_category", "zone_level,zone_code,year,measure,value,category\n"
                          "commune,38185,2022,foyers_rsa,10,qf_0_399\n",
     ["ligne 2", "'measure, category'", "'foyers_rsa / qf_0_399'"]),
    ("legacy_blank_code", "Communes;Codes_Insee;NB_Allocataires\nGrenoble;38185;51135\nSans code;;12\n",
     ["ligne 3", "'codes_insee'", "''"]),
    ("legacy_no_year", "Communes;Codes_Insee;NB_Allocataires\nGrenoble;38185;51135\n",
     ["année introuvable", "DTREF"]),
]


def write_bytes(path: Path, text: str) -> Path:
    # latin-1 keeps every code point below 256 as one byte: the "wrong encoding" case
    data = text.encode("latin-1") if "\xe9" in text else text.encode("utf-8")
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name,content,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_names_file_line_column_value_and_writes_nothing(tmp_path, capsys, name, content,
                                                                          fragments):
    path = write_bytes(tmp_path / f"{name}.csv", content)
    into = tmp_path / "dataset"
    assert main(["data", "import", str(path), "--into", str(into)]) == 2
    message = capsys.readouterr().err
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not into.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no scratch folder left behind"


def test_several_errors_in_several_files_are_reported_at_once(tmp_path, capsys):
    first = write_bytes(tmp_path / "a.csv", f"{CAF_HEADER}\n2022-12;38185;G;x;2\n2022-12;38999;N;1;-1\n")
    second = write_bytes(tmp_path / "b.csv", "zone_level,zone_code,year,measure,value\nville,38185,2022,foyers_rsa,1\n")
    assert main(["data", "import", str(first), str(second), "--into", str(tmp_path / "out")]) == 2
    lines = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert sum(str(first) in l for l in lines) == 3
    assert any(str(second) in l and "'ville'" in l and "ligne 2" in l for l in lines)


def test_a_failed_import_leaves_the_earlier_dataset_untouched(tmp_path, capsys):
    good = write_bytes(tmp_path / "good.csv", f"{CAF_HEADER}\n2022-12;38185;Grenoble;51135;91305\n")
    into = tmp_path / "dataset"
    assert main(["data", "import", str(good), "--into", str(into)]) == 0
    before = {p.name: p.read_bytes() for p in into.iterdir()}
    bad = write_bytes(tmp_path / "bad.csv", f"{CAF_HEADER}\n2022-12;38185;Grenoble;-1;91305\n")
    assert main(["data", "import", str(bad), "--into", str(into)]) == 2
    assert {p.name: p.read_bytes() for p in into.iterdir()} == before


def test_two_files_disagreeing_on_one_figure_is_an_error(tmp_path, capsys):
    a = write_bytes(tmp_path / "a.csv", f"{CAF_HEADER}\n2022-12;38185;Grenoble;51135;91305\n")
    b = write_bytes(tmp_path / "b.csv", "zone_level,zone_code,year,measure,value\n"
                                        "commune,38185,2022,foyers_allocataires,51000\n")
    assert main(["data", "import", str(a), str(b), "--into", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "b.csv, ligne 2" in message and "foyers_allocataires" in message and "51135" in message


def test_a_bad_mapping_file_names_the_key(tmp_path, capsys):
    data = write_bytes(tmp_path / "x.csv", "zone_level,zone_code,year,measure,value\ncommune,38185,2022,foyers_rsa,1\n")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("columns:\n  valeur: valeu\nmeasure:\n  A: foyers_rsa\n", encoding="utf-8")
    assert main(["data", "import", str(data), "--mapping", str(mapping), "--into", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "'columns.valeur'" in message and "'valeu'" in message and "Vouliez-vous dire 'value'" in message
    assert "'measure'" in message and "Vouliez-vous dire 'measures'" in message


def test_a_bad_population_file_is_reported_with_the_data(tmp_path, capsys):
    data = write_bytes(tmp_path / "x.csv", f"{CAF_HEADER}\n2022-12;38185;Grenoble;-1;2\n")
    pop = write_bytes(tmp_path / "pop.csv", "COM;PMUN\n38185;cent\n")
    assert main(["data", "import", str(data), "--population", str(pop), "--into", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "x.csv, ligne 2" in message and "pop.csv, ligne 2" in message and "'cent'" in message


def test_into_that_is_not_a_dataset_folder_is_refused(tmp_path, capsys):
    data = write_bytes(tmp_path / "x.csv", f"{CAF_HEADER}\n2022-12;38185;Grenoble;1;2\n")
    into = tmp_path / "documents"
    into.mkdir()
    (into / "precious.txt").write_text("keep me")
    assert main(["data", "import", str(data), "--into", str(into)]) == 2
    assert "dataset.json" in capsys.readouterr().err
    assert [p.name for p in into.iterdir()] == ["precious.txt"]
