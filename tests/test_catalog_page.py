"""outputs/index.html: rows from report folders, self-contained, a search box that filters."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from abs_report import catalog_page

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _report(root: Path, level: str, code: str, name: str | None = None, files=("report.pdf", "report.html",
                                                                              "tables.xlsx")) -> None:
    folder = root / code / "2024"
    folder.mkdir(parents=True)
    territory = {"level": level, "code": code, **({"name": name} if name else {})}
    manifest = {"reproducible": {"parameters": {"resolved": {"territory": territory}}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for file in files:
        (folder / file).write_text("x", encoding="utf-8")


@pytest.fixture()
def outputs(tmp_path, geography):
    _report(tmp_path, "commune", "38185", "Grenoble")
    _report(tmp_path, "commune", "38151")  # name from the COG: Échirolles
    _report(tmp_path, "epci", "200040715", files=("report.html",))
    _report(tmp_path, "departement", "38", "Isère")
    (tmp_path / ".batch-work" / "x" / "2024").mkdir(parents=True)  # scratch: never listed
    catalog_page.write(tmp_path, geography)
    return tmp_path


def test_rows_and_links(outputs):
    page = (outputs / "index.html").read_text(encoding="utf-8")
    assert page.count("<tr data-search") == 4
    assert "Échirolles" in page and "Grenoble-Alpes-Métropole" in page
    for href in re.findall(r'href="([^"]+)"', page):
        assert (outputs / href).is_file(), href
    assert '200040715/2024/report.pdf' not in page  # only the files that exist
    assert not re.search(r"(src|href)=\"https?://", page) and not re.search(r"https?:", page)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("query, shown", [("", 4), ("grenoble", 2), ("echirolles", 1), ("ISÈRE", 1),
                                          ("commune 2024", 2), ("zzz", 0)])
def test_search_box_filters_in_chromium(outputs, tmp_path_factory, query, shown):
    page = (outputs / "index.html").read_text(encoding="utf-8")
    probe = (f"var i=document.getElementById('recherche');i.value={json.dumps(query)};"
             "i.dispatchEvent(new Event('input'));")
    # The page's policy runs only its own script: the probe is allowed by its hash beside it.
    probe_hash = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    page = page.replace("script-src ", f"script-src 'sha256-{probe_hash}' ", 1)
    test_page = outputs / "probe.html"
    test_page.write_text(page.replace("</body>", f"<script>{probe}</script></body>"), encoding="utf-8")
    profile = tmp_path_factory.mktemp("chromium-profile")
    dom = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                          test_page.as_uri()], capture_output=True, text=True, timeout=60).stdout
    rows = re.findall(r"<tr data-search=\"[^\"]*\"( hidden=\"\")?>", dom)
    assert len(rows) == 4, dom[:500]
    assert sum(1 for hidden in rows if not hidden) == shown
    plural = "rapports affichés" if shown > 1 else "rapport affiché"
    assert f"{shown} {plural}" in dom
