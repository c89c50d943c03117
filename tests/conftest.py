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
