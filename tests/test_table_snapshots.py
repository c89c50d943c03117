"""Snapshot tests of rendered tables: the Markdown a reader's table is typeset from.

A deliberate change of presentation updates the snapshots with
``ABS_REPORT_UPDATE_SNAPSHOTS=1 pytest tests/test_table_snapshots.py``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from abs_report import published as pub
from abs_report.context import DatasetInfo, ReportContext, ReportZone, SecrecyInfo
from abs_report.figures.view import ReportView
from abs_report.geography import Zone
from abs_report.tables import SPECS

from conftest import REPO

SNAPSHOTS = REPO / "tests" / "snapshots"
ZONES = (Zone("commune", "38999", "Ville-Test"), Zone("epci", "200000001", "CC du Test"),
         Zone("departement", "38", "Isère"))
SPEC = {s.id: s for s in SPECS}


def _cells() -> pd.DataFrame:
    """Fixed values: a secret primary cell, a secondary one, a missing measure."""
    rows = []
    for year in (2020, 2024):
        for i, zone in enumerate(ZONES):
            scale = 10 ** i
            values = {"population_municipale": 3000 * scale, "foyers_allocataires": 1234 * scale + year - 2020,
                      "personnes_couvertes": 2500 * scale, "foyers_rsa": 3 if i == 0 else 140 * scale,
                      "foyers_ppa": 380 * scale, "foyers_aides_logement": 512 * scale,
                      "foyers_af": 400 * scale, "foyers_paje": 7 * scale if i else 6, "foyers_aah": 61 * scale}
            for measure, value in values.items():
                status = "published"
                if zone.level == "commune" and measure == "foyers_rsa":
                    status = "secret_primary"
                if zone.level == "commune" and measure == "foyers_paje":
                    status = "secret_secondary"
                rows.append((zone.level, zone.code, year, measure, float(value), status))
            rows.append((zone.level, zone.code, year, "foyers_aeeh", np.nan, "missing"))
    return pd.DataFrame(rows, columns=["zone_level", "zone_code", "year", "measure", "value", "status"])


def _view(specs) -> ReportView:
    published = pub.build(specs, ZONES, 2024, _cells(), years=(2020, 2024))
    context = ReportContext(
        title="Test", year=2024, reference_date="31 décembre 2024", recipient="CCAS", purpose="ABS",
        zones=tuple(ReportZone(z.level, z.code, z.name, True, f"à {z.name}") for z in ZONES),
        years=(2020, 2024), iris=(), population_source="recensement",
        dataset=DatasetInfo("test", False, "Caf de l'Isère", "Cnaf", None),
        secrecy=SecrecyInfo("test", "0" * 64, 5, 100))
    return ReportView(context, published)


@pytest.mark.parametrize("table_id", ["T01_vue_ensemble", "T02_prestations", "T13_evolution"])
def test_rendered_table_matches_snapshot(table_id):
    spec = SPEC[table_id]
    view = _view((spec,))
    blocks = view.evolution_table(spec) if spec.kind == "evolution" else view.table(spec)
    markdown = "\n".join(b.markdown for b in blocks)
    path = SNAPSHOTS / f"{table_id}.md"
    if os.environ.get("ABS_REPORT_UPDATE_SNAPSHOTS"):
        path.write_text(markdown, encoding="utf-8")
    assert markdown == path.read_text(encoding="utf-8")
