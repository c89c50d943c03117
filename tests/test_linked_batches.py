"""Two batches in Isère and Savoie, linked by CC Cœur de Chartreuse, agree on every shared cell (issue 13).

Built in either order, each order from its own empty mask cache (the demo data are shared),
html only to keep it cheap; then every published.csv is audited together.
"""

from __future__ import annotations

import pandas as pd
import pytest

from abs_report.cli import main
from abs_report.published import read as read_published
from abs_report.sources.synthetic import demo_folder

pytestmark = pytest.mark.slow

EPCI = "200040111"
ISERE = ("38", "38446,38155")           # two Isère communes of the EPCI
SAVOIE = ("73", f"73274,73033,{EPCI}")  # two Savoie communes of the EPCI, and the EPCI


def _batch(side, root, cache, monkeypatch):
    monkeypatch.setenv("ABS_REPORT_CACHE", str(cache))
    dep, zones = side
    assert main(["batch", "--departement", dep, "--year", "2024", "--zones", zones, "--formats", "html",
                 "--outputs", str(root)]) == 0


@pytest.fixture(scope="module")
def orders(tmp_path_factory):
    demo = demo_folder()
    roots = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, sides in (("isere-first", (ISERE, SAVOIE)), ("savoie-first", (SAVOIE, ISERE))):
            cache, root = tmp_path_factory.mktemp(f"cache-{name}"), tmp_path_factory.mktemp(name)
            (cache / demo.name).symlink_to(demo)
            for side in sides:
                _batch(side, root, cache, monkeypatch)
            roots.append(root)
    return roots


def _cells(root) -> pd.DataFrame:
    frames = [read_published(p).assign(file=str(p.relative_to(root))) for p in sorted(root.rglob("published.csv"))]
    return pd.concat(frames, ignore_index=True)


def test_every_shared_cell_has_one_status_and_one_value_in_either_order(orders):
    cells = pd.concat([_cells(root).assign(order=i) for i, root in enumerate(orders)], ignore_index=True)
    assert cells["file"].nunique() == 5
    key = ["zone_level", "zone_code", "year", "measure"]
    counts = cells[cells["unit"] == "count"]
    epci = counts[(counts["zone_code"] == EPCI)]
    assert epci["file"].nunique() == 5, "every report compares with the EPCI"
    assert (counts["status"] != "published").any()
    shown = counts.assign(value=counts["value"].fillna(-1))
    per_cell = shown.groupby(key).agg(statuses=("status", "nunique"), values=("value", "nunique"))
    bad = per_cell[(per_cell["statuses"] > 1) | (per_cell["values"] > 1)]
    assert bad.empty, bad.head()


def test_the_audit_passes_over_both_sides(orders, capsys):
    for root in orders:
        assert main(["audit", str(root)]) == 0, capsys.readouterr().out[-2000:]
