"""``abs-report audit`` fails when two published.csv files show one cell two ways (issue 13)."""

from __future__ import annotations

import pandas as pd

from abs_report.audit.consistency import disagreements
from abs_report.cli import main
from secrecy_fixtures import CONTRACT

EPCI = "200040111"  # CC Cœur de Chartreuse: straddles Isère and Savoie


def frame(rows, table_id="T03"):
    """published.csv rows from (level, code, measure, value or None, status)."""
    return pd.DataFrame([{"table_id": table_id, "zone_code": code, "zone_level": lv, "year": "2024",
                          "measure": m, "unit": "count", "numerator": "", "denominator": "",
                          "value": "" if v is None else str(v), "status": s}
                         for lv, code, m, v, s in rows], columns=CONTRACT)


def write(root, name, rows, table_id="T03"):
    folder = root / name / "2024"
    folder.mkdir(parents=True)
    frame(rows, table_id).to_csv(folder / "published.csv", index=False)


SAFE = [("epci", EPCI, "monoparents_4_enfants_plus", 20, "published"),
        ("epci", EPCI, "monoparents_3_enfants", 34, "published")]


def test_disagreeing_status_fails_and_names_both_files(tmp_path, capsys):
    write(tmp_path, "38185", SAFE)
    write(tmp_path, EPCI, [("epci", EPCI, "monoparents_4_enfants_plus", None, "secret_secondary"),
                           ("epci", EPCI, "monoparents_3_enfants", 34, "published")], table_id="T04")
    assert main(["audit", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "monoparents_4_enfants_plus" in line)
    assert f"epci {EPCI} 2024" in line
    assert "38185/2024/published.csv" in line and f"{EPCI}/2024/published.csv" in line
    assert "monoparents_3_enfants " not in out


def test_disagreeing_value_fails(tmp_path, capsys):
    write(tmp_path, "a", SAFE)
    write(tmp_path, "b", [("epci", EPCI, "monoparents_4_enfants_plus", 21, "published")])
    assert main(["audit", str(tmp_path)]) == 1
    assert "incohérent" in capsys.readouterr().out


def test_agreeing_files_pass(tmp_path, capsys):
    write(tmp_path, "a", SAFE)
    write(tmp_path, "b", SAFE, table_id="T99")
    assert main(["audit", str(tmp_path)]) == 0
    assert "0 cellule(s) incohérente(s)" in capsys.readouterr().out


def test_one_file_may_repeat_a_cell_in_two_tables():
    rows = frame(SAFE)
    twice = pd.concat([rows, rows.assign(table_id="T04")], ignore_index=True)
    assert disagreements([("a.csv", twice)]) == []


def test_a_value_written_two_ways_is_one_value():
    a = frame([("epci", EPCI, "montant", "12.5", "published")])
    b = frame([("epci", EPCI, "montant", "12.50", "published")])
    assert disagreements([("a.csv", a), ("b.csv", b)]) == []
