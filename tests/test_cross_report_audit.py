"""Every commune of one EPCI, the EPCI and the département, rendered by one batch, then attacked together."""

from __future__ import annotations

import pandas as pd
import pytest

from abs_report.cli import main
from abs_report.published import read as read_published

pytestmark = pytest.mark.slow

EPCI = "243801024"   # CC du Massif du Vercors: six small communes, so secrecy really bites


@pytest.fixture(scope="module")
def batch_outputs(tmp_path_factory, geography):
    root = tmp_path_factory.mktemp("cross")
    members = geography.zone("epci", EPCI).members
    zones = ",".join([*members, EPCI, "38"])
    status = main(["batch", "--departement", "38", "--year", "2024", "--zones", zones,
                   "--formats", "html", "--outputs", str(root)])
    assert status == 0
    return root, members


def _published(root) -> pd.DataFrame:
    return pd.concat([read_published(p) for p in sorted(root.rglob("published.csv"))], ignore_index=True)


def test_every_report_was_built_and_some_cells_are_secret(batch_outputs):
    root, members = batch_outputs
    assert len(list(root.rglob("published.csv"))) == len(members) + 2
    frame = _published(root)
    assert frame["status"].str.startswith("secret").sum() > 0, "the test needs hidden cells to mean anything"


def test_reports_side_by_side_disclose_nothing(batch_outputs, capsys):
    root, _ = batch_outputs
    assert main(["audit", str(root)]) == 0
    assert "0 échec" in capsys.readouterr().out


def test_no_published_ratio_recomputes_a_hidden_count(batch_outputs):
    frame = _published(batch_outputs[0])
    counts = frame[frame["unit"].isin(["count", "euro"])]
    status = {}
    for r in counts.itertuples():
        status.setdefault((r.zone_level, r.zone_code, r.year, r.measure), set()).add(r.status)
    for r in frame[(frame["unit"].isin(["percent", "ratio"])) & (frame["status"] == "published")].itertuples():
        for part in (r.numerator, r.denominator):
            # A part no report shows cannot be checked: that must fail, not pass.
            seen = status.get((r.zone_level, r.zone_code, r.year, part))
            assert seen == {"published"}, (r.table_id, r.zone_code, r.measure, part, seen)


def test_reports_agree_on_shared_cells(batch_outputs):
    frame = _published(batch_outputs[0])
    shared = frame.groupby(["zone_level", "zone_code", "year", "measure"])["status"].nunique()
    assert (shared == 1).all(), shared[shared > 1].head()
