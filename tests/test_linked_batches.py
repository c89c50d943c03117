"""Two batches in Isère and Savoie, linked by CC Cœur de Chartreuse, agree on every shared cell (issue 13).

One status per cell everywhere: the parts of the mask never decide a cell twice. Built in
either order, each order from its own empty mask cache, then every published.csv is audited
together; the protections the two sides read, taken in the same order from the same cache,
show every shared cell the same way and the independent attacker finds nothing in them.

What is built is what the proof needs, no more (this module used to take five minutes):
the reports of two Isère communes of the EPCI, of two Savoie ones and of the EPCI (the zones
whose cells are shared), html only, no maps, from the demonstration data of 2024 alone
written as a dataset folder: the test is about the order of the batches, not the series.
The mask of 2024 is the demonstration's own (same dataset name, same rows, same key).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from abs_report import secrecy
from abs_report.audit import audit_published
from abs_report.cli import main
from abs_report.dataref import DataRef
from abs_report.published import read as read_published
from abs_report.secrecy.table import CELL_KEY
from secrecy_fixtures import as_published

pytestmark = pytest.mark.slow

EPCI = "200040111"
YEAR = 2024
ISERE = ("38", ("38446", "38155"))            # two Isère communes of the EPCI
SAVOIE = ("73", ("73274", "73033", EPCI))     # two Savoie communes of the EPCI, and the EPCI
ISERE_SIDE = ISERE[1]
SAVOIE_SIDE = ("73274", EPCI)                 # a Savoie commune of the EPCI, and the EPCI


def one_year_dataset(folder: Path, year: int) -> Path:
    """The demonstration data of ``year`` only, written as a dataset folder (``--data``).

    Same as ``benchmarks/secrecy.py:_one_year_dataset``: the dataset keeps the
    demonstration's name, so its masks of ``year`` are the demonstration's.
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from abs_report.observations import Dataset, load_meta, save
    from abs_report.sources.synthetic import demo_folder

    demo = demo_folder()
    table = pads.dataset(demo / "observations.parquet").to_table(filter=pc.field("year") == year)
    save(Dataset(replace(load_meta(demo), years=(year,)), table.to_pandas()), folder)
    return folder


@dataclass(frozen=True)
class Order:
    """One order of the two batches: its reports and the protections its two sides read."""

    root: Path
    isere: secrecy.Protection
    savoie: secrecy.Protection
    masks_of_batches: list[str]
    masks_after_reading: list[str]


def _masks(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "masks").glob("*.parquet"))


def _batch(side, root: Path, data: Path) -> None:
    dep, zones = side
    assert main(["batch", "--departement", dep, "--year", str(YEAR), "--zones", ",".join(zones),
                 "--formats", "html", "--no-maps", "--data", str(data), "--outputs", str(root)]) == 0


def _protect(data, geography, codes, cache):
    """What a report of ``codes`` reads, keyed as a batch keys it (by the dataset's name)."""
    zones = [geography.zone("epci" if c == EPCI else "commune", c) for c in codes]
    return secrecy.protect_zones(data.meta.name, data.observations, YEAR, zones, geography,
                                 secrecy.load_rules(), cache)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return one_year_dataset(tmp_path_factory.mktemp("demo-one-year") / "demo", YEAR)


@pytest.fixture(scope="module")
def loaded(dataset):
    return DataRef.parse(str(dataset), Path(".")).load(["38", "73"])


@pytest.fixture(scope="module")
def orders(dataset, loaded, geography, tmp_path_factory) -> list[Order]:
    """Isère then Savoie, and Savoie then Isère, each from an empty mask cache.

    The batches compute the mask; the protections are then read from the same
    cache in the same order (the batches already stored every part they read).
    """
    out = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, sides in (("isere-first", (ISERE, SAVOIE)), ("savoie-first", (SAVOIE, ISERE))):
            cache, root = tmp_path_factory.mktemp(f"cache-{name}"), tmp_path_factory.mktemp(name)
            monkeypatch.setenv("ABS_REPORT_CACHE", str(cache))
            for side in sides:
                _batch(side, root, dataset)
            codes = {ISERE: ISERE_SIDE, SAVOIE: SAVOIE_SIDE}
            stored = _masks(cache)
            read = {side: _protect(loaded, geography, codes[side], cache) for side in sides}
            out.append(Order(root, read[ISERE], read[SAVOIE], stored, _masks(cache)))
    return out


def _cells(root) -> pd.DataFrame:
    frames = [read_published(p).assign(file=str(p.relative_to(root))) for p in sorted(root.rglob("published.csv"))]
    return pd.concat(frames, ignore_index=True)


def test_every_shared_cell_has_one_status_and_one_value_in_either_order(orders):
    cells = pd.concat([_cells(o.root).assign(order=i) for i, o in enumerate(orders)], ignore_index=True)
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
    for order in orders:
        assert main(["audit", str(order.root)]) == 0, capsys.readouterr().out[-2000:]


# --- the protections themselves (moved from test_secrecy_linked.py: they read the same masks) ---

def test_the_protections_read_are_the_masks_the_batches_computed(orders):
    """Read, not recomputed: the tests below judge the very masks the batches published from."""
    for order in orders:
        assert order.masks_of_batches and order.masks_after_reading == order.masks_of_batches


def test_reports_agree_on_every_shared_cell_in_either_order(orders):
    both_orders = [p for o in orders for p in (o.isere, o.savoie)]  # isère_a, savoie_a, isère_b, savoie_b
    frames = [p.cells.assign(run=i) for i, p in enumerate(both_orders)]
    cells = pd.concat(frames, ignore_index=True)
    shared = cells.groupby(CELL_KEY)["run"].nunique()
    assert (shared > 1).sum() > 1000, "the two sides must share cells for this test to mean anything"
    statuses = cells.groupby(CELL_KEY)["status"].nunique()
    assert (statuses == 1).all(), statuses[statuses > 1].head()
    both = cells[cells["zone_level"] == "commune"]
    assert {"38446", "73274"} <= set(both["zone_code"])
    assert orders[0].isere.mask_hash == orders[1].isere.mask_hash
    assert orders[0].savoie.mask_hash == orders[1].savoie.mask_hash


def test_the_attacker_finds_nothing_in_both_sides_read_together(orders, geography, loaded):
    protections = [p for o in orders for p in (o.isere, o.savoie)]
    cells = pd.concat([p.cells for p in protections], ignore_index=True).drop_duplicates(CELL_KEY)
    assert (cells["status"] == "secret_primary").any()
    truth = loaded.observations[loaded.observations["year"] == YEAR]
    result = audit_published([as_published(cells)], geography, truth)
    assert result.failures == [], [str(f) for f in result.failures[:5]]
