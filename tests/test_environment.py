"""The conda environment lists the same pins as the pip lock file the Makefile installs."""

import re

from conftest import REPO


def _pins(lines):
    return {m.group(1).lower(): m.group(2) for line in lines
            if (m := re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)", line))}


def test_environment_yml_matches_lock():
    lock = _pins((REPO / "requirements.lock").read_text().splitlines())
    env = _pins((REPO / "environment.yml").read_text().splitlines())
    assert lock, "empty lock file"
    assert env == lock


def test_every_lock_line_is_pinned():
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, line


def test_makefile_installs_the_lock():
    makefile = (REPO / "Makefile").read_text()
    assert "-r requirements.lock" in makefile
