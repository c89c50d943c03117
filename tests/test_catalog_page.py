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
        (folder / file).write_text(f"<html><body><h1>Rapport de {name or code}</h1></body></html>"
                                   if file == "report.html" else "x", encoding="utf-8")


def _published(root: Path, code: str, value: str) -> None:
    (root / code / "2024" / "published.csv").write_text(
        "table_id,zone_code,zone_level,year,measure,unit,numerator,denominator,value,status\n"
        f"T00_chiffres_cles,{code},commune,2024,taux_couverture,percent,personnes_couvertes,"
        f"population_municipale,{value},published\n", encoding="utf-8")


@pytest.fixture()
def outputs(tmp_path, geography):
    _report(tmp_path, "commune", "38185", "Grenoble")
    _published(tmp_path, "38185", "59.123")
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


def test_map_links_each_report_with_its_name_and_rate(outputs):
    page = (outputs / "index.html").read_text(encoding="utf-8")
    assert page.index("<svg") < page.index('<table id="rapports"')
    links = dict(re.findall(r'<a href="([^"]+)" data-code="([^"]+)"', page))
    assert links == {"38185/2024/report.html": "38185", "38151/2024/report.html": "38151",
                     "200040715/2024/report.html": "200040715"}
    assert "<title>Grenoble — taux de couverture : 59,1\u202f%</title>" in page
    assert "<title>Échirolles</title>" in page  # no published.csv: the name alone
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]  # hover without script
    assert " on" not in re.sub(r"<title>.*?</title>", "", page.split("<svg", 1)[1].split("</svg>")[0])


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_click_on_grenoble_opens_its_report(outputs, tmp_path_factory):
    """A real click (hit-tested at Grenoble's centre on screen) follows the map's link to the report."""
    page = (outputs / "index.html").read_text(encoding="utf-8")
    probe = ("window.addEventListener('load', function () {"
             "var p = document.querySelector('a[data-code=\"38185\"] path');"
             "p.scrollIntoView({block: 'center'});"
             "var r = p.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;"
             "var target = document.elementFromPoint(x, y);"
             "target.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window,"
             " clientX: x, clientY: y}));});")
    # The page's policy runs only its own script: the probe is allowed by its hash beside it.
    probe_hash = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    page = page.replace("script-src ", f"script-src 'sha256-{probe_hash}' ", 1)
    test_page = outputs / "probe.html"
    test_page.write_text(page.replace("</body>", f"<script>{probe}</script></body>"), encoding="utf-8")
    profile = tmp_path_factory.mktemp("chromium-profile")
    dom = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                          "--window-size=1200,1000", "--dump-dom", test_page.as_uri()],
                         capture_output=True, text=True, timeout=60).stdout
    assert "Rapport de Grenoble" in dom, dom[:300]
