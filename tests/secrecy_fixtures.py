"""Helpers shared by the secrecy and audit tests (a helper module: pytest does not collect it)."""

from __future__ import annotations

import pandas as pd

from abs_report.catalogue import MEASURES

CONTRACT = ["table_id", "zone_code", "zone_level", "year", "measure", "unit", "numerator",
            "denominator", "value", "status"]


def long_rows(rows: list[tuple[str, str, dict[str, float]]], year: int = 2024) -> pd.DataFrame:
    """Canonical observations from ``(level, code, {measure: value})`` triples."""
    out = [(lv, code, year, m, float(v)) for lv, code, values in rows for m, v in values.items()]
    return pd.DataFrame(out, columns=["zone_level", "zone_code", "year", "measure", "value"])


def as_published(cells: pd.DataFrame, table_id: str = "T_test") -> pd.DataFrame:
    """A ``published.csv`` frame from protected cells (value empty unless published).

    QPV ∩ IRIS pieces are left out: they are cells of the linked table, never published.
    """
    cells = cells[cells["zone_level"] != "qpv_piece"]
    shown = cells["status"] == "published"
    value = cells["value"].map(lambda v: format(v, ".15g")).where(shown, "")
    return pd.DataFrame({
        "table_id": table_id, "zone_code": cells["zone_code"].astype(str),
        "zone_level": cells["zone_level"], "year": cells["year"].astype(str),
        "measure": cells["measure"], "unit": cells["measure"].map(lambda m: MEASURES[m].unit),
        "numerator": "", "denominator": "", "value": value, "status": cells["status"]})[CONTRACT]


class SolveStopped(Exception):
    """Raised by :func:`spy_presolve_rules` in place of a HiGHS solve."""


def spy_presolve_rules(monkeypatch) -> list[int]:
    """Record HiGHS's ``presolve_rule_off`` bits at each solve of the suppression's attacker, and
    stop there (:class:`SolveStopped`): which presolve rules a model runs without, checked before
    any solve, so that no test times anything."""
    from abs_report.secrecy import lp

    seen: list[int] = []

    def spy(model, cost):
        seen.append(model.highs.getOptionValue("presolve_rule_off")[1])
        raise SolveStopped

    monkeypatch.setattr(lp._Model, "optimum", spy)
    return seen
