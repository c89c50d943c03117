"""``outputs/index.html``: a self-contained catalogue of every report built.

One row per report folder ``outputs/<zone_code>/<year>/`` holding a
``manifest.json``: territory, level, year and links to the PDF, the HTML and
the workbook. A search box filters the rows as one types (inline JavaScript,
accents and case ignored). The page opens with a map of the département
(inline SVG, from the packaged contours) where each commune and EPCI that has a
report is a link to it, its name and taux de couverture on hover (an SVG
``<title>``: no script). The page refers to no external URL, so it can be
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

from . import formatting as fmt
from .atomic import write_file
from .geography import LEVEL_LABELS, Geography, UnknownZone, load_geography
from .untrusted import plain_text

LINKS = (("report.pdf", "PDF"), ("report.html", "HTML"), ("tables.xlsx", "Tableaux (xlsx)"))
LEVEL_ORDER = {"departement": 0, "region": 0, "epci": 1, "aggregation": 2, "commune": 3, "qpv": 4}
QPV_HEADING = "Quartiers prioritaires"
"""The heading of the second table: reports whose territory is a QPV (issue 15)."""


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


# --- the map -------------------------------------------------------------------------
ATTRIBUTION_SHORT = "Fond de carte : IGN – INSEE, contours IRIS 2020."
MAP_UNIT = 100.0
"""Metres per SVG unit: vertices rounded to 100 m keep the page small (a screen map)."""


def _svg_path(shape, ymax: float, xmin: float) -> str:
    """A shape as SVG path data in map units (y downwards), consecutive equal points dropped."""
    parts = []
    for ring in shape.rings:
        points = [(round((x - xmin) / MAP_UNIT), round((ymax - y) / MAP_UNIT)) for x, y in ring]
        kept = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
        if len(kept) >= 3:
            # First point absolute, then differences: short numbers, a smaller page.
            steps = " ".join(f"{x - px} {y - py}" for (px, py), (x, y) in zip(kept, kept[1:]))
            parts.append(f"M{kept[0][0]} {kept[0][1]}l{steps}Z")
    return "".join(parts)


def key_rate(root: Path, entry: Entry) -> str | None:
    """The territory's taux de couverture as its report printed it (``59,1 %``), from its published.csv."""
    import csv

    path = Path(root) / entry.folder / "published.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if (row.get("table_id"), row.get("zone_code"), row.get("measure"), row.get("status")) == (
                        "T00_chiffres_cles", entry.code, "taux_couverture", "published"):
                    return fmt.value(float(row["value"]), "percent")
    except (OSError, ValueError, TypeError, csv.Error, UnicodeDecodeError):
        return None
    return None


def _link(entry: Entry, shape, frame, rates: dict) -> str:
    target = "report.html" if "report.html" in entry.files else (entry.files[0] if entry.files else "")
    rate = rates.get(entry.folder)
    hover = f"{entry.name} — taux de couverture : {rate}" if rate else entry.name
    css = "c" if entry.level == "commune" else "e"
    return (f'<a href="{_href(entry.folder, target)}" data-code="{_text(entry.code)}" class="{css}">'
            f'<path d="{_svg_path(shape, *frame)}"><title>{_text(hover)}</title></path></a>')


def map_svg(entries: list[Entry], rates: dict | None = None) -> str:
    """The département's map: each commune and EPCI with a report (latest year) a link; '' without any."""
    from .geometry import load_geometry

    geometry = load_geometry()
    communes, epcis, dep = geometry.communes, geometry.epci, geometry.departement
    latest: dict[tuple[str, str], Entry] = {}
    for entry in entries:  # sorted by year, newest first
        latest.setdefault((entry.level, entry.code), entry)
    shown = [e for (level, code), e in latest.items()
             if e.files and ((level == "commune" and code in communes.index) or (level == "epci" and code in epcis.index))]
    if not shown:
        return ""
    xmin, ymin, xmax, ymax = dep["shape"].iloc[0].bounds
    frame = (ymax, xmin)
    width, height = round((xmax - xmin) / MAP_UNIT), round((ymax - ymin) / MAP_UNIT)
    rates = rates or {}
    # EPCI first, communes above them: a click on a commune with a report opens the commune's.
    layers = [_link(e, epcis.at[e.code, "shape"], frame, rates) for e in shown if e.level == "epci"]
    layers += [_link(e, communes.at[e.code, "shape"], frame, rates) for e in shown if e.level == "commune"]
    outline = "".join(_svg_path(s, *frame) for s in epcis["shape"])
    name = _text(dep["name"].iloc[0])
    return (f'<figure class="carte"><svg viewBox="0 0 {width} {height}" '
            f'role="group" aria-labelledby="carte-titre"><title id="carte-titre">Carte des rapports : {name}. '
            f'Chaque commune ou intercommunalité colorée ouvre son rapport.</title>'
            f'<path class="fond" d="{_svg_path(dep["shape"].iloc[0], *frame)}"/>'
            + "".join(layers) + f'<path class="limites" d="{outline}"/></svg>'
            f'<figcaption>{name} : les territoires colorés ont un rapport ; survolez-les pour leur taux de '
            f'couverture, cliquez pour l\'ouvrir. {html.escape(ATTRIBUTION_SHORT)}</figcaption></figure>')


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
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}label{font-weight:600;margin-right:.5rem}
input[type=search]{font-size:1rem;padding:.4rem .6rem;width:min(28rem,100%)}input::placeholder{color:#6b6b6b}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd}
th{background:#f3f3f3}tbody th{background:none;font-weight:400}tr[hidden]{display:none}.count{color:#555;margin-left:1rem}
.note{color:#555;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
a{color:#0b5563}:focus-visible{outline:3px solid #0b5563;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.carte{margin:1rem 0}.carte svg{width:min(36rem,100%);height:auto;display:block}
.carte .fond{fill:#efefef;stroke:#555;stroke-width:2}
.carte .limites{fill:none;stroke:#9a9a9a;stroke-width:1;pointer-events:none}
.carte a path{stroke:#fff;stroke-width:.8;cursor:pointer}.carte a.e path{fill:#a9c3c7}
.carte a.c path{fill:#0b5563}.carte a:hover path,.carte a:focus path{fill:#d95f02}
.carte figcaption{color:#555;font-size:.85rem}
"""

SCRIPT = """
(function () {
  var input = document.getElementById("recherche");
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.rapports tbody tr"));
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


_HEAD = ('<thead><tr><th scope="col">Territoire</th><th scope="col">Code</th><th scope="col">Niveau</th>'
         '<th scope="col">Année</th><th scope="col">Documents</th></tr></thead>')


def _qpv_table(entries: list[Entry]) -> str:
    """The reports of quartiers prioritaires, under their own heading ('' when there is none)."""
    if not entries:
        return ""
    rows = "\n".join(_row(e) for e in entries)
    return (f'<h2 id="qpv">{QPV_HEADING}</h2>\n<table id="rapports-qpv" class="rapports" aria-labelledby="qpv">\n'
            f"<caption>Rapports des quartiers prioritaires de la politique de la ville</caption>\n{_HEAD}\n"
            f"<tbody>\n{rows}\n</tbody>\n</table>")


def render(entries: list[Entry], rates: dict | None = None) -> str:
    """The catalogue page (French, self-contained); ``rates``: folder -> its printed taux de couverture.

    Reports of quartiers prioritaires follow the others, in a table under their own heading.
    """
    rows = "\n".join(_row(e) for e in entries if e.level != "qpv")
    qpv = _qpv_table([e for e in entries if e.level == "qpv"])
    carte = map_svg(entries, rates)
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
{carte}
<p><label for="recherche">Rechercher un territoire</label><input id="recherche" type="search"
 placeholder="nom, code, niveau ou année" autocomplete="off"><span id="nombre" class="count"
 role="status"></span></p>
<table id="rapports" class="rapports">
<caption>Rapports disponibles</caption>
{_HEAD}
<tbody>
{rows}
</tbody>
</table>
{qpv}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write(root: Path, geography: Geography | None = None) -> Path:
    """(Re)write ``root/index.html`` atomically from the report folders under ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    entries = collect(root, geography)
    rates = {e.folder: rate for e in entries if (rate := key_rate(root, e))}
    return write_file(root / "index.html", render(entries, rates))
