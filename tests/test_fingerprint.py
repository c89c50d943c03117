"""The code a report's fingerprint hashes is named by package, not by file name."""

from __future__ import annotations

import pytest

from abs_report.batch.fingerprint import _is_report_code, code_identity
from abs_report.paths import PACKAGE_DIR


@pytest.mark.parametrize("path, counts", [
    ("pipeline.py", True), ("figures/view.py", True), ("secrecy/mask.py", True),
    ("data/geography.json.gz", True), ("rules/default.yml", True),
    ("batch/__init__.py", False), ("batch/worker.py", False), ("commands/render.py", False),
    ("catalog_page.py", False), ("cli.py", False),
])
def test_report_code_is_every_module_but_scheduling_and_listing(path, counts):
    assert _is_report_code(PACKAGE_DIR / path) is counts


def test_a_module_whose_name_only_starts_like_an_excluded_package_still_counts(tmp_path):
    # abs_report.batcher would be report code: exclusion is by package, not by prefix of a name.
    assert _is_report_code(PACKAGE_DIR / "batcher.py")


def test_code_identity_covers_notebook_templates_options_and_package():
    identity = code_identity()
    assert set(identity) == {"version", "notebook", "templates", "format_options", "package"}
    assert "notebooks/report.ipynb" in identity["notebook"]
    assert any(name.startswith("templates/") for name in identity["templates"])
