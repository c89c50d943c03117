"""``outputs/index.html``: a self-contained catalogue of every report built.

One row per report folder ``outputs/<zone_code>/<year>/`` holding a
``manifest.json``: territory, level, year and links to the PDF, the HTML and
the workbook. A search box filters the rows as one types (inline JavaScript,
accents and case ignored). The page refers to no external URL, so it can be
opened from a disk, a shared folder or an archive.

Names, codes and folders come from manifests and folders that others may have
written: each is plain text (controls dropped) escaped for HTML, and a link is
always relative to the catalogue. A Content-Security-Policy allows the page's own
style and filter script by their hashes, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_file
from .geography import LEVEL_LABELS, Geography, UnknownZone, load_geography
from .untrusted import plain_text

LINKS = (("report.pdf", "PDF"), ("report.html", "HTML"), ("tables.xlsx", "Tableaux (xlsx)"))
LEVEL_ORDER = {"departement": 0, "region": 0, "epci": 1, "aggregation": 2, "commune": 3}


@dataclass(frozen=True)
class Entry:
    """One report folder as the catalogue lists it."""

    code: str
    level: str
    name: str
    year: int
    folder: str
    """Relative to the catalogue (``38185/2024``)."""
    files: tuple[str, ...]


def _territory(manifest: dict) -> tuple[str, str, str | None]:
    """Level, code and name of the report's territory (either manifest layout)."""
    params = manifest.get("reproducible", manifest).get("parameters", {})
    territory = params.get("resolved", {}).get("territory")
    if isinstance(territory, dict):
        return territory.get("level"), territory.get("code"), territory.get("name")
    level, code = territory or (None, None)
    given = (params.get("as_given") or {}).get("territory") or {}
    return level, code, given.get("name")


def _name(geography: Geography, level: str, code: str, given: str | None) -> str:
    if given:
        return given
    try:
        return geography.zone(level, code).name
    except (UnknownZone, ValueError):
        return code


def collect(root: Path, geography: Geography | None = None) -> list[Entry]:
    """Every complete-enough report folder under ``root`` (hidden scratch folders ignored)."""
    geography = geography or load_geography()
    entries = []
    for manifest_path in sorted(Path(root).glob("*/*/manifest.json")):
        folder = manifest_path.parent
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue
        try:
            level, code, given = _territory(json.loads(manifest_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if not level or not code or not folder.name.isdigit():
            continue
        files = tuple(name for name, _ in LINKS if (folder / name).is_file())
        entries.append(Entry(code, level, _name(geography, level, code, given), int(folder.name),
                             folder.relative_to(root).as_posix(), files))
    return sorted(entries, key=lambda e: (-e.year, LEVEL_ORDER.get(e.level, 9), e.name, e.code))


def _text(value: object) -> str:
    """A string from a manifest or a folder name, as HTML text."""
    return html.escape(plain_text(value))


def _href(folder: str, name: str) -> str:
    """A link to a report file, relative to the catalogue whatever the folder's name.

    URL-quoted: a ``:`` becomes ``%3A``, so no folder name can make a scheme (``javascript:``).
    """
    return html.escape(urllib.parse.quote(f"{folder}/{name}"))


def _row(entry: Entry) -> str:
    # Each link names its report for a screen reader that lists links out of their row
    # ("PDF – Grenoble 2024", RGAA 6.1); the addition is hidden on screen only.
    context = f'<span class="visually-hidden"> – {_text(entry.name)} {entry.year}</span>'
    links = " · ".join(
        f'<a href="{_href(entry.folder, name)}">{label}{context}</a>'
        for name, label in LINKS if name in entry.files) or "—"
    level = LEVEL_LABELS.get(entry.level, entry.level)
    search = f"{entry.name} {entry.code} {level} {entry.year}"
    return (f'<tr data-search="{_text(search)}"><th scope="row">{_text(entry.name)}</th>'
            f"<td>{_text(entry.code)}</td><td>{_text(level)}</td><td>{entry.year}</td>"
            f"<td>{links}</td></tr>")


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d1d1d}
h1{font-size:1.5rem}label{font-weight:600;margin-right:.5rem}
input[type=search]{font-size:1rem;padding:.4rem .6rem;width:min(28rem,100%)}input::placeholder{color:#6b6b6b}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd}
th{background:#f3f3f3}tbody th{background:none;font-weight:400}tr[hidden]{display:none}.count{color:#555;margin-left:1rem}
.note{color:#555;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
a{color:#0b5563}:focus-visible{outline:3px solid #0b5563;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""

SCRIPT = """
(function () {
  var input = document.getElementById("recherche");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#rapports tbody tr"));
  var count = document.getElementById("nombre");
  function fold(text) {
    return text.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase();
  }
  var keys = rows.map(function (row) { return fold(row.getAttribute("data-search")); });
  function filter() {
    var words = fold(input.value).split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var match = words.every(function (w) { return keys[i].indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + (shown > 1 ? " rapports affichés" : " rapport affiché");
  }
  input.addEventListener("input", filter);
  filter();
})();
"""


def _csp_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (f"default-src 'none'; script-src {_csp_source(SCRIPT)}; style-src {_csp_source(STYLE)}; "
                           "base-uri 'none'; form-action 'none'")
"""The page's own filter script and style, by hash; nothing else runs, loads or is styled."""


def render(entries: list[Entry]) -> str:
    """The catalogue page (French, self-contained)."""
    rows = "\n".join(_row(e) for e in entries)
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Catalogue des rapports d'analyse des besoins sociaux</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>Catalogue des rapports d'analyse des besoins sociaux</h1>
<p class="note">{len(entries)} rapport{"s" if len(entries) > 1 else ""} dans ce dossier.
Chaque rapport est soumis au secret statistique et aux conditions d'usage de la Caf indiquées à sa fin.</p>
<p><label for="recherche">Rechercher un territoire</label><input id="recherche" type="search"
 placeholder="nom, code, niveau ou année" autocomplete="off"><span id="nombre" class="count"
 role="status"></span></p>
<table id="rapports">
<caption>Rapports disponibles</caption>
<thead><tr><th scope="col">Territoire</th><th scope="col">Code</th><th scope="col">Niveau</th><th scope="col">Année</th><th scope="col">Documents</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write(root: Path, geography: Geography | None = None) -> Path:
    """(Re)write ``root/index.html`` atomically from the report folders under ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return write_file(root / "index.html", render(collect(root, geography)))
