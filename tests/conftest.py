"""Shared fixtures: the geography, the real data folder, temporary outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from abs_report.geography import load_geography

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def geography():
    return load_geography()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "cafdata").is_dir():
        pytest.skip(f"real CAF data not found at {SHARED_DATA} (the shared folder sits beside the checkout in CI)")
    return SHARED_DATA


# --------------------------------------------------------------------------- distribution
# ``make test`` runs ``pytest -n 2 --dist loadfile``: each file goes whole to one of two workers.
# xdist hands out the files with the most tests first, which left the slowest files (few tests,
# minutes of fixtures) to the end, alone on one worker. The files below go first, slowest first
# (from ``--durations``, Nov. 2026), so the many quick files fill the other worker meanwhile.
SLOW_FIRST = ("test_linked_batches.py", "test_untrusted_text.py", "test_batch.py", "test_accessibility.py",
              "test_secrecy_linked.py", "test_qpv_reports.py", "test_report_levels.py", "test_reissue.py",
              "test_untrusted_data.py", "test_fit.py", "test_cross_report_audit.py",
              "test_secrecy_property.py", "test_end_to_end.py", "test_errors.py")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # keep the order set below


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


def pytest_sessionstart(session):
    """Under xdist, compute the demonstration data and Isère's masks once before the workers start.

    Otherwise both workers' first report computes the same five years of masks into the same
    empty ``data/cache`` side by side (twice the work on two cores). Tests that need an empty
    cache make their own (``ABS_REPORT_CACHE``); this only fills the default one, as a first
    ``abs-report render params/grenoble.yml`` would.
    """
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from abs_report.pipeline import prepare, read_report_params

    try:
        geography = load_geography()
        prepare(*read_report_params(REPO / "params" / "grenoble.yml", geography), geography)
    except Exception as exc:  # noqa: BLE001 - the tests that render will report it themselves
        print(f"conftest: warm-up of data/cache failed ({type(exc).__name__}: {exc})")
