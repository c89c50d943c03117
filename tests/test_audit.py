"""The independent attacker catches leaks and passes safe publications; CLI exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

from abs_report.audit import audit_published
from abs_report.cli import main
from secrecy_fixtures import CONTRACT


def frame(rows):
    """published.csv rows from (level, code, measure, value or None, status)."""
    out = []
    for lv, code, measure, value, status in rows:
        unit = "euro" if measure.startswith("montant") else "count"
        out.append({"table_id": "T01", "zone_code": code, "zone_level": lv, "year": "2024",
                    "measure": measure, "unit": unit, "numerator": "", "denominator": "",
                    "value": "" if value is None else str(value), "status": status})
    return pd.DataFrame(out, columns=CONTRACT)


def rsa_rows(code, total, majore, status_majore, status_non, status_total="published"):
    return [("commune", code, "foyers_rsa", total if status_total == "published" else None, status_total),
            ("commune", code, "foyers_rsa_majore", majore if status_majore == "published" else None,
             status_majore),
            ("commune", code, "foyers_rsa_non_majore",
             total - majore if status_non == "published" else None, status_non)]


def test_exact_derivation_is_caught(geography):
    leak = frame(rsa_rows("38185", 40, 3, "secret_primary", "published"))
    result = audit_published([leak], geography)
    assert [(f.measure, f.lower, f.upper) for f in result.failures] == [("foyers_rsa_majore", 3, 3)]


def test_bound_under_five_is_caught(geography):
    # The total 4 is printed: majore and non majore, both hidden, are each at most 4.
    leak = frame(rsa_rows("38185", 4, 1, "secret_primary", "secret_secondary"))
    result = audit_published([leak], geography)
    assert {f.measure for f in result.failures} == {"foyers_rsa_majore", "foyers_rsa_non_majore"}
    assert all(f.upper < 5 for f in result.failures)


def test_two_reports_side_by_side_leak_together(geography):
    # Each report alone hides the commune; together the EPCI minus the others gives it back.
    members = list(geography.member_communes_of("epci", "200040715"))
    epci_report = frame([("epci", "200040715", "foyers_aah", 1000, "published")])
    commune_rows = [("commune", c, "foyers_aah", 10, "published") for c in members[1:]]
    commune_rows.append(("commune", members[0], "foyers_aah", None, "secret_primary"))
    communes_report = frame(commune_rows)
    alone = audit_published([communes_report], geography)
    assert alone.failures == []
    together = audit_published([epci_report, communes_report], geography)
    assert [f.zone_code for f in together.failures] == [members[0]]


def test_safe_publication_passes(geography):
    safe = frame(rsa_rows("38185", 40, 3, "secret_primary", "secret_secondary"))
    result = audit_published([safe], geography)
    assert result.failures == [] and result.n_checked == 2


def test_printed_ratio_gives_the_numerator_back(geography):
    rows = rsa_rows("38185", 40, 3, "secret_primary", "secret_secondary")
    ratio = {"table_id": "T02", "zone_code": "38185", "zone_level": "commune", "year": "2024",
             "measure": "part_rsa_majore", "unit": "percent", "numerator": "foyers_rsa_majore",
             "denominator": "foyers_rsa", "value": "7.5", "status": "published"}
    leak = pd.concat([frame(rows), pd.DataFrame([ratio])], ignore_index=True)
    result = audit_published([leak], geography)
    assert {f.measure for f in result.failures} == {"foyers_rsa_majore", "foyers_rsa_non_majore"}


def test_truth_spares_known_zeros_and_shows_values(geography):
    leak = frame(rsa_rows("38185", 40, 3, "secret_primary", "published"))
    truth = pd.DataFrame({"zone_level": "commune", "zone_code": "38185", "year": 2024,
                          "measure": ["foyers_rsa_majore"], "value": [3.0]})
    result = audit_published([leak], geography, truth=truth)
    assert result.failures[0].true_value == 3.0


def write(folder, name, frame_):
    path = folder / name / "2024"
    path.mkdir(parents=True)
    frame_.to_csv(path / "published.csv", index=False)


def test_cli_exit_codes(tmp_path, capsys):
    safe, leak, bad = tmp_path / "safe", tmp_path / "leak", tmp_path / "bad"
    write(safe, "38185", frame(rsa_rows("38185", 40, 3, "secret_primary", "secret_secondary")))
    write(leak, "38185", frame(rsa_rows("38185", 40, 3, "secret_primary", "published")))
    assert main(["audit", str(safe)]) == 0
    assert main(["audit", str(leak)]) == 1
    assert "foyers_rsa_majore" in capsys.readouterr().out
    (bad / "x").mkdir(parents=True)
    (bad / "x" / "published.csv").write_text("zone_code,value\n38185,3\n")
    assert main(["audit", str(bad)]) == 2
    assert main(["audit", str(tmp_path / "nowhere")]) == 2


def test_printed_rounding_is_read_from_the_digits():
    from abs_report.audit.published import half_unit
    assert half_unit("12.3") == pytest.approx(0.05)
    assert half_unit("1200") == pytest.approx(0.5)
    assert half_unit("1.23457e+06") == pytest.approx(5.0)
