"""Presentation: French tables, seaborn charts and sentences, from published rows only.

The notebook calls :class:`ReportView` and displays what it returns. Every
number shown here comes from ``published.csv`` (already protected), so the
presentation can neither leak a secret nor print a number the CSV lacks.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("svg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import text_to_path  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from . import formatting as fmt  # noqa: E402
from .catalogue import INDICATORS, MEASURES, label  # noqa: E402
from .published import column_lists  # noqa: E402
from .published import read as read_published  # noqa: E402
from .tables import CHAPTER_TITLES, CHAPTERS, SHORT_LABELS, TableSpec, specs_of  # noqa: E402
from .untrusted import markdown_text as md  # noqa: E402
from .untrusted import plain_text  # noqa: E402

ACCENT = "#0b5563"  # the territory
MUTED = ("#7fa7ad", "#a9c3c7", "#c9d9db", "#d9c9a3", "#b5b5b5")  # comparison zones
DEMO_NOTICE = "Données fictives de démonstration"
NOT_AVAILABLE = "Donnée non disponible dans la source."

sns.set_theme(style="whitegrid", rc={
    "svg.hashsalt": "abs-report",   # stable ids inside SVG: same inputs, same bytes
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "grid.color": "#e6e6e6",
})


@dataclass
class Block:
    """One displayable piece: Markdown text, or an SVG chart with caption and alt text."""

    markdown: str | None = None
    svg: str | None = None
    caption: str | None = None
    alt: str | None = None


def _status_text(status: str) -> str:
    return fmt.SECRET if status.startswith("secret") else fmt.MISSING


@dataclass
class ReportView:
    """Everything one report shows, built from its context and published rows."""

    context: dict
    published: pd.DataFrame
    _tables: int = field(default=0, init=False)
    _figures: int = field(default=0, init=False)

    @classmethod
    def load(cls, context_json: str, published_csv: str | Path) -> "ReportView":
        return cls(json.loads(context_json), read_published(Path(published_csv)))

    def __post_init__(self):
        table, level, code, year, measure, value, status, unit = column_lists(
            self.published, "table_id", "zone_level", "zone_code", "year", "measure", "value", "status", "unit")
        self._index = dict(zip(zip(table, level, code, year, measure), zip(value, status, unit)))

    # --- look-ups ---------------------------------------------------------
    @property
    def zones(self) -> list[dict]:
        return self.context["zones"]

    @property
    def territory(self) -> dict:
        return self.zones[0]

    def _get(self, table_id: str, zone: dict, item: str, year: int | None = None):
        """(value, status, unit) of a published row; ``missing`` when there is none."""
        year = self.context["year"] if year is None else year
        return self._index.get((table_id, zone["level"], zone["code"], year, item), (None, "missing", "count"))

    def _text(self, table_id: str, zone: dict, item: str, year: int | None = None, signed=False) -> str:
        value, status, unit = self._get(table_id, zone, item, year)
        if status != "published":
            return _status_text(status)
        return fmt.signed_percent(value) if signed else fmt.value(value, unit)

    def _available(self, spec: TableSpec, zones: list[dict]) -> bool:
        rows = self.published[self.published["table_id"] == spec.id]
        zone_keys = {(z["level"], z["code"]) for z in zones}
        mask = [(lv, c) in zone_keys for lv, c in zip(rows["zone_level"], rows["zone_code"])]
        return bool((rows[mask]["status"] != "missing").any())

    # --- source lines and notes -----------------------------------------
    def source_line(self) -> str:
        """``Source : Caf de l'Isère (Cnaf pour ...), données au 31 décembre 2024.``"""
        ds = self.context["dataset"]
        outside = [z["name"] for z in self.zones if not z.get("in_producer_area", True)]
        text = f"Source : {ds['producer']}"
        if outside:
            text += f" ({ds['reference_producer']} pour {_join(outside)})"
        text += f", données au {self.context['reference_date']}."
        if ds.get("rounded_to"):
            text += f" Effectifs arrondis à {ds['rounded_to']} par la Cnaf (données ouvertes)."
        if ds.get("synthetic"):
            text += f" {DEMO_NOTICE}."
        # Producer and zone names come from the dataset and the parameter file: plain
        # text here, escaped by each Markdown caller (the line is also cover metadata).
        return plain_text(text)

    def _foot(self, cells: list[str]) -> Block:
        notes = []
        if fmt.SECRET in cells:
            notes.append(f"*{fmt.SECRET}* : donnée soumise au secret statistique (effectif inférieur à 5, "
                         "ou permettant de retrouver un tel effectif, ou quartier de moins de 100 allocataires).")
        if fmt.MISSING in cells:
            notes.append(f"*{fmt.MISSING}* : donnée non disponible dans la source.")
        return Block(markdown=f"::: source-note\n{md(self.source_line())} {' '.join(notes)}\n:::\n")

    def _caption(self, spec: TableSpec) -> str:
        self._tables += 1
        return f": Tableau {self._tables} – {spec.title}"

    # --- tables -------------------------------------------------------------
    def table(self, spec: TableSpec) -> list[Block]:
        """Items in rows, the territory and each comparison zone in columns."""
        header = "| | " + " | ".join(md(z["name"]) for z in self.zones) + " |"
        lines, cells = [header, "|:---|" + "---:|" * len(self.zones)], []
        for item in spec.items:
            values = [self._text(spec.id, z, item) for z in self.zones]
            cells += values
            lines.append(f"| {label(item)} | " + " | ".join(values) + " |")
        return [Block(markdown="\n".join(lines) + "\n\n" + self._caption(spec) + "\n"), self._foot(cells)]

    def evolution_table(self, spec: TableSpec) -> list[Block]:
        """One line per item and zone: first year, last year and evolution rate."""
        years = self.context["years"]
        first, last = years[0], self.context["year"]
        lines = [f"| | | {first} | {last} | Évolution |", "|:---|:---|---:|---:|---:|"]
        cells = []
        for item in spec.items:
            for i, z in enumerate(self.zones):
                values = [self._text(spec.id, z, item, first), self._text(spec.id, z, item, last),
                          self._text(spec.id, z, f"evolution_{item}", last, signed=True)]
                cells += values
                name = label(item) if i == 0 else ""
                lines.append(f"| {name} | {md(z['name'])} | " + " | ".join(values) + " |")
        return [Block(markdown="\n".join(lines) + "\n\n" + self._caption(spec) + "\n"), self._foot(cells)]

    def iris_table(self, spec: TableSpec) -> list[Block]:
        """The territory's IRIS in rows; rows of small quartiers show ``s`` throughout."""
        iris = self.context.get("iris", [])
        if not iris:
            return [Block(markdown="Le territoire n'a pas de découpage en quartiers IRIS dans la source.\n")]
        if not self._published_any(spec, iris):
            return [Block(markdown=(
                "Moins de deux quartiers du territoire comptent au moins 100 allocataires : aucun chiffre "
                "par quartier ne peut être publié (secret statistique).\n"))]
        header = "| IRIS | " + " | ".join(SHORT_LABELS.get(i, _short_label(i)) for i in spec.items) + " |"
        lines, cells = [header, "|:---|" + "---:|" * len(spec.items)], []
        for q in iris:
            values = [self._text(spec.id, q, item) for item in spec.items]
            cells += values
            lines.append(f"| {md(q['name'])} | " + " | ".join(values) + " |")
        return [Block(markdown="\n".join(lines) + "\n\n" + self._caption(spec) + "\n"), self._foot(cells)]

    def _published_any(self, spec: TableSpec, zones: list[dict]) -> bool:
        return any(self._get(spec.id, z, i)[1] == "published" for z in zones for i in spec.items)

    # --- charts ---------------------------------------------------------------
    def bar_chart(self, spec: TableSpec) -> list[Block]:
        """Horizontal bars per zone (grouped by item); the territory stands out; secrets say ``s``."""
        data = []
        for item in spec.items:
            for z in self.zones:
                value, status, unit = self._get(spec.id, z, item)
                data.append({"item": _short_label(item), "zone": plain_text(z["name"]), "value": value,
                             "status": status, "unit": unit})
        frame = pd.DataFrame(data)
        svg = _bar_svg(frame, [plain_text(z["name"]) for z in self.zones])
        return self._figure(spec, svg, _alt_text(spec.title, frame), list(frame["status"]))

    def index_chart(self, spec: TableSpec) -> list[Block]:
        """Each zone's index in the last year (first year = 100), bars grouped by item."""
        first, last = self.context["years"][0], self.context["year"]
        data = []
        for item in spec.items:
            for z in self.zones:
                value, status, _ = self._get(spec.id, z, f"indice_{item}", last)
                data.append({"item": label(item), "zone": plain_text(z["name"]), "value": value,
                             "status": status, "unit": "ratio"})
        frame = pd.DataFrame(data)
        svg = _bar_svg(frame, [plain_text(z["name"]) for z in self.zones], reference=100.0,
                       xlabel=f"indice {last} (base 100 en {first})")
        alt = _alt_text(f"{spec.title} : indice {last}, base 100 en {first}", frame)
        return self._figure(spec, svg, alt, list(frame["status"]))

    def _figure(self, spec: TableSpec, svg: str, alt: str, statuses: list[str]) -> list[Block]:
        self._figures += 1
        cells = [_status_text(s) for s in statuses if s != "published"]
        return [Block(svg=svg, caption=f"Figure {self._figures} – {spec.title}", alt=alt), self._foot(cells)]

    # --- chapters ---------------------------------------------------------------
    def chapters(self) -> tuple[str, ...]:
        return CHAPTERS

    def chapter(self, chapter: str) -> list[Block]:
        """The heading, a few sentences and every table and chart of a chapter."""
        blocks = [Block(markdown=f"# {CHAPTER_TITLES[chapter]}\n")]
        intro = self.sentences(chapter)
        if intro:
            blocks.append(Block(markdown=" ".join(intro) + "\n"))
        for spec in specs_of(chapter):
            blocks += self._spec_blocks(spec)
        return blocks

    def _spec_blocks(self, spec: TableSpec) -> list[Block]:
        if spec.kind == "iris":
            return self.iris_table(spec)
        if not self._available(spec, self.zones):
            return [Block(markdown=f"**{spec.title}** : {NOT_AVAILABLE}\n")]
        blocks = []
        if not self._available(spec, self.zones[:1]):
            blocks.append(Block(markdown=(
                f"Pour {md(self.territory['name'])}, la source ne fournit pas ces données : elles sont présentées "
                "pour les zones de comparaison, à l'échelle la plus proche disponible.\n")))
        render = {"table": self.table, "bar": self.bar_chart, "evolution": self.evolution_table,
                  "index": self.index_chart}[spec.kind]
        return blocks + render(spec)

    # --- sentences --------------------------------------------------------------
    def sentences(self, chapter: str) -> list[str]:
        """Generated French sentences; a sentence is dropped if any of its numbers is not published."""
        territory = self.territory
        reference = next((z for z in self.zones[1:] if z["level"] == "departement"),
                         self.zones[1] if len(self.zones) > 1 else None)
        here = md(territory["locative"][0].upper() + territory["locative"][1:])

        def pair(table_id, item):
            own = self._get(table_id, territory, item)
            ref = self._get(table_id, reference, item) if reference else (None, "missing", "")
            own_text = fmt.value(own[0], own[2]) if own[1] == "published" else None
            ref_text = fmt.value(ref[0], ref[2]) if ref[1] == "published" else None
            return own_text, ref_text

        def compare(ref_text):
            return f", contre {ref_text} {md(reference['locative'])}" if ref_text and reference else ""

        out = []
        if chapter == "synthese":
            cov, cov_ref = pair("T00_chiffres_cles", "taux_couverture")
            if cov:
                out.append(f"{here}, {cov} des habitants sont couverts par au moins une prestation de la Caf"
                           f"{compare(cov_ref)}.")
            foyers, _ = pair("T00_chiffres_cles", "foyers_allocataires")
            pers, _ = pair("T00_chiffres_cles", "personnes_couvertes")
            if foyers and pers:
                out.append(f"La Caf y verse au moins une prestation à {foyers} foyers allocataires, "
                           f"soit {pers} personnes couvertes.")
            mono, mono_ref = pair("T00_chiffres_cles", "part_monoparentales")
            if mono:
                out.append(f"Les familles monoparentales représentent {mono} des familles allocataires avec "
                           f"enfants{compare(mono_ref)}.")
            low, low_ref = pair("T00_chiffres_cles", "taux_bas_revenus")
            if low:
                out.append(f"{low} des allocataires de référence vivent sous le seuil de bas revenus"
                           f"{compare(low_ref)}.")
            rsa, rsa_ref = pair("T00_chiffres_cles", "part_rsa")
            if rsa:
                out.append(f"Le RSA est versé à {rsa} des foyers allocataires{compare(rsa_ref)}.")
            housing, housing_ref = pair("T00_chiffres_cles", "part_aides_logement")
            if housing:
                out.append(f"{housing} des foyers allocataires perçoivent une aide au logement"
                           f"{compare(housing_ref)}.")
            return [s[0].upper() + s[1:] for s in out]
        if chapter == "evolution" and self.context.get("years"):
            first, last = self.context["years"][0], self.context["year"]
            rate = self._get("T13_evolution", territory, "evolution_foyers_allocataires", last)
            ref = self._get("T13_evolution", reference, "evolution_foyers_allocataires", last) if reference else None
            if rate[1] == "published" and first != last:
                text = (f"Entre {first} et {last}, le nombre de foyers allocataires a évolué de "
                        f"{fmt.signed_percent(rate[0])} {md(territory['locative'])}")
                if ref and ref[1] == "published":
                    text += f", contre {fmt.signed_percent(ref[0])} {md(reference['locative'])}"
                out.append(text + ".")
        return out

    # --- closing section ----------------------------------------------------------
    def glossary(self) -> str:
        used = [m for m in dict.fromkeys(self.published["measure"]) if m in MEASURES or m in INDICATORS]
        lines = [f"- **{label(i)}** : {_definition(i)}" for i in used]
        lines.append("- **Évolution** : variation relative d'un effectif entre la première et la dernière "
                     "année disponibles, en pourcentage. **Indice** : effectif d'une année rapporté à celui "
                     "de la première année, multiplié par 100.")
        return "\n".join(lines)

    def closing_section(self) -> list[Block]:
        """Sources, definitions, method, secret statistique and the recipient's obligations."""
        ctx, ds = self.context, self.context["dataset"]
        secrecy = ctx["secrecy"]
        counts = secrecy["counts"]
        hidden = sum(v for k, v in counts.items() if k.startswith("secret"))
        total = sum(counts.values())
        gen = ds.get("generator") or {}
        demo = (f"\n\n**{DEMO_NOTICE}.** Les chiffres de ce rapport sont produits par un générateur "
                f"(version {md(gen.get('version', ''))}, graine {md(gen.get('seed', ''))}) pour démontrer l'outil ; "
                "ils ne décrivent pas la population réelle et ne doivent pas être diffusés comme tels."
                if ds.get("synthetic") else "")
        rounded = (f" Les effectifs des données ouvertes de la Cnaf sont arrondis à {md(ds['rounded_to'])} ; "
                   "les totaux peuvent donc différer légèrement de la somme de leurs parties."
                   if ds.get("rounded_to") else "")
        text = f"""# Sources, méthode et secret statistique

## Sources

{md(self.source_line())} Les statistiques de la Caf décrivent les foyers allocataires au
{ctx['reference_date']} (données consolidées).{rounded} La population municipale provient du
{md(ctx['population_source'])}. Les zones de comparaison sont {_join([md(z['name']) for z in self.zones[1:]])}.
Les statistiques des Caf sont labellisées par l'Autorité de la statistique publique.{demo}

## Définitions

{self.glossary()}

## Méthode

Chaque taux rapporte un numérateur à un dénominateur de la même zone et de la même date. Les chiffres
des zones de comparaison sont la somme de ceux des communes qui les composent. Tous les chiffres
publiés dans ce rapport, avec leur statut, figurent dans le fichier `published.csv` qui l'accompagne ;
le carnet exécuté `report.ipynb` et le fichier `manifest.json` permettent de les reproduire.

## Secret statistique

Règles de diffusion de la Caf appliquées (version {secrecy['rules_version']}) :

- aucun effectif compris entre 1 et {secrecy['threshold'] - 1} n'est publié (secret primaire) ;
- aucun chiffre ne permet de retrouver un tel effectif, par différence entre un total et ses parties,
  entre zones emboîtées (quartiers, commune, intercommunalité, département) ou entre rapports : d'autres
  cases sont masquées en conséquence (secret secondaire), de la même façon dans tous les rapports ;
- aucun chiffre n'est publié pour un quartier de moins de {secrecy['min_infra_communal']} allocataires,
  et rien en deçà du quartier IRIS (seuil infra-communal) ;
- un taux, un ratio ou une évolution dont le numérateur ou le dénominateur est secret n'est pas publié.

Les cases masquées portent la mention *{fmt.SECRET}*. Dans ce rapport, {hidden} chiffre(s) sur {total}
sont masqués : {counts.get('secret_primary', 0)} au titre du secret primaire,
{counts.get('secret_secondary', 0)} au titre du secret secondaire et {counts.get('secret_threshold', 0)}
au titre du seuil infra-communal ; {counts.get('missing', 0)} ne figurent pas dans la source (*{fmt.MISSING}*).

## Obligations du destinataire

Les données de la Caf sont transmises à {md(ctx['recipient'])} pour la seule étude déclarée :
« {md(ctx['purpose'])} ». Le destinataire s'engage à :

- utiliser ces données uniquement dans le cadre de cette étude ;
- ne pas les transmettre à un tiers sans l'accord préalable de la Caf ;
- citer la source « {md(ds['producer'])} » pour toute reproduction d'un chiffre, d'un tableau ou d'un graphique ;
- transmettre le rapport final à la Caf sur sa demande.
"""
        return [Block(markdown=text)]

    # --- erratum of a re-issue ------------------------------------------------------------
    def erratum(self) -> list[Block]:
        """The "Erratum" box opening a re-issued report: each corrected figure, old and new.

        Empty when the context has no erratum (a first edition). A figure shown
        in several tables is listed once; a value that changes only beyond the
        printed precision is counted, not listed (``published-v<n>.csv`` has it).
        The box is a Typst block in the PDF and a bordered note in the HTML.
        """
        err = self.context.get("erratum")
        if not err:
            return []
        shown, finer = _erratum_rows(err["items"])
        previous = err.get("replaces") or {}
        since = (f", diffusée le {fmt.french_date(_iso_date(previous['edition']))}"
                 if previous.get("edition") else "")
        intro = (f"Les {len(shown)} chiffre(s) ci-dessous remplacent ceux de la version "
                 f"{md(previous.get('version', err['version'] - 1))}{since}." if shown else
                 "Aucun chiffre imprimé ne change à la précision affichée.")
        if finer:
            intro += (f" {finer} autre(s) valeur(s) ne change(nt) qu'au-delà de la précision affichée ; "
                      f"le fichier `published-v{int(err['version'])}.csv` donne toutes les valeurs.")
        table = ("\n| Zone | Indicateur | Année | Publié | Corrigé |\n|:---|:---|---:|---:|---:|\n"
                 + "\n".join(f"| {md(z)} | {m} | {md(y)} | {b} | {a} |" for z, m, y, b, a in shown) + "\n"
                 if shown else "")
        text = f"""::: {{.erratum role="note"}}
```{{=typst}}
#block(width: 100%, stroke: 1.5pt + rgb("#9b1c1c"), radius: 3pt, inset: 10pt, below: 1.5em)[
```
**Erratum — version {md(err['version'])} du rapport, corrigée le {fmt.french_date(_iso_date(err['date']))}.**
La Caf a transmis des données corrigées. {intro} Tous les autres chiffres sont inchangés.
{table}
```{{=typst}}
]
```
:::
"""
        return [Block(markdown=text)]


def show(blocks: list[Block]) -> None:
    """Display blocks as notebook outputs: Markdown, and SVG with caption and alt text.

    Consecutive Markdown blocks make one output: each output is a kernel message
    that the executing process receives, validates and writes, about 2 ms apiece.
    """
    from IPython.display import Markdown, display

    pending: list[str] = []
    for block in blocks:
        if block.markdown is not None:
            pending.append(block.markdown)
        if block.svg is not None:
            if pending:
                display(Markdown("\n\n".join(pending)))
                pending = []
            meta = {"image/svg+xml": {"abs_report": {"caption": block.caption, "alt": block.alt}}}
            display({"image/svg+xml": block.svg}, raw=True, metadata=meta)
    if pending:
        display(Markdown("\n\n".join(pending)))


def _iso_date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _item_label(measure: str) -> str:
    """French label of a published measure, including evolution and index rows."""
    for prefix, name in (("evolution_", "Évolution"), ("indice_", "Indice")):
        if measure.startswith(prefix):
            text = label(measure[len(prefix):])
            return f"{name} : {text[:1].lower()}{text[1:]}"
    return label(measure)


def _erratum_rows(items: list[dict]) -> tuple[list[tuple], int]:
    """Rows (zone, indicator, year, before, after) of figures whose printed value changes,
    once each, and how many other figures change only beyond the printed precision."""
    shown, finer = {}, set()
    for item in items:
        key = (item["zone_level"], item["zone_code"], item["measure"], item["year"])
        before, after = _erratum_value(item, "before"), _erratum_value(item, "after")
        if before == after:
            finer.add(key)
        elif key not in shown:
            shown[key] = (item["zone_name"], _item_label(item["measure"]), item["year"], before, after)
    return list(shown.values()), len(finer - set(shown))


def _erratum_value(item: dict, side: str) -> str:
    """A figure as the report printed it: French number, or ``s`` / ``nd``."""
    status = item[f"{side}_status"]
    if status != "published":
        return _status_text(status)
    if item["measure"].startswith("evolution_"):
        return fmt.signed_percent(item[side])
    return fmt.value(item[side], item["unit"])


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " et " + names[-1]


def _definition(item: str) -> str:
    if item in MEASURES:
        return MEASURES[item].definition
    ind = INDICATORS[item]
    return (f"{ind.definition} Numérateur : {_lower_first(label(ind.numerator))} ; "
            f"dénominateur : {_lower_first(label(ind.denominator))}.")


def _lower_first(text: str) -> str:
    """``Foyers au RSA`` -> ``foyers au RSA``; acronyms (``AAH``) stay as they are."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _short_label(item: str) -> str:
    text = label(item)
    for prefix in ("Part des foyers ", "Part des ", "Part du ", "Taux de ", "Taux d'"):
        if text.startswith(prefix):
            return text[len(prefix):][0].upper() + text[len(prefix):][1:]
    return text


def _palette(zone_order: list[str]) -> dict[str, str]:
    return {z: (ACCENT if i == 0 else MUTED[(i - 1) % len(MUTED)]) for i, z in enumerate(zone_order)}


def _svg(fig) -> str:
    buffer = io.StringIO()
    # The layout is computed (:class:`_Layout`): no layout engine and no "tight"
    # box, so savefig draws the chart once instead of three times.
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _compact_svg(buffer.getvalue())


def _compact_svg(svg: str) -> str:
    """matplotlib's SVG on one line, without its comments and indentation.

    The writer puts every path command on its own line; the notebook stores
    a multi-line output as a list of lines, which every reader and writer of
    the executed notebook then walks (a third of its JSON work). No text is
    set in these charts (glyphs are paths), so the whitespace between
    elements means nothing.
    """
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip()


TICK_SIZE, ANNOTATION_SIZE, LEGEND_SIZE = 8.0, 7.0, 7.5
"""Font sizes in points: axis labels and tick labels, value marks, legend."""


class _Layout:
    """Margins of a bar chart computed from its texts, in inches.

    What ``tight_layout`` and ``bbox_inches="tight"`` would find by drawing
    the chart twice more, computed from the label widths (the glyph metrics
    the SVG writer itself uses) and the fixed font sizes of the theme. The
    figure's height is proportional to the bars; the axes get what the margins
    leave.
    """

    PAD = 0.06
    LINE = 1.2  # a text line, in font sizes

    def __init__(self, labels: list[str], legend_entries: list[str], width: float = 6.3):
        rc = matplotlib.rcParams
        self.legend_columns = self._legend_columns(legend_entries, width)
        tick_offset = rc["ytick.major.size"] + rc["ytick.major.pad"]  # points, drawn or not
        widest = max((_text_width(line, TICK_SIZE) for text in labels for line in text.split("\n")),
                     default=0.0)
        self.left = self.PAD + (widest + tick_offset + 1.0) / 72
        below = (rc["xtick.major.size"] + rc["xtick.major.pad"] + self.LINE * TICK_SIZE
                 + rc["axes.labelpad"] + self.LINE * TICK_SIZE)
        self.legend_height = 0.0
        if legend_entries:
            rows = -(-len(legend_entries) // self.legend_columns)
            self.legend_height = (rows * LEGEND_SIZE * self.LINE + (rows - 1) * rc["legend.labelspacing"]
                                  * LEGEND_SIZE + 2 * rc["legend.borderpad"] * LEGEND_SIZE) / 72
            below += 4.0  # between the axis title and the legend
        self.bottom = self.PAD + below / 72 + self.legend_height
        self.top = self.PAD + TICK_SIZE / 2 / 72  # half a tick label may stand above the axes
        self.right = self.PAD + 0.12  # the last x tick label is centred on the axes' edge

    def _legend_columns(self, entries: list[str], width: float) -> int:
        """As many columns as fit the figure's width, three at most (seaborn's look)."""
        if not entries:
            return 1
        rc = matplotlib.rcParams
        em = LEGEND_SIZE / 72
        entry = max(_text_width(e, LEGEND_SIZE) for e in entries) / 72 + \
            (rc["legend.handlelength"] + rc["legend.handletextpad"]) * em
        room = width - 2 * self.PAD - 2 * rc["legend.borderpad"] * em
        columns = min(len(entries), 3)
        while columns > 1 and columns * entry + (columns - 1) * rc["legend.columnspacing"] * em > room:
            columns -= 1
        return columns

    def apply(self, fig, height: float) -> None:
        """Figure ``height`` inches high (at least an inch of axes), margins as computed."""
        width = fig.get_figwidth()
        height = max(height, self.top + self.bottom + 1.0)
        fig.set_size_inches(width, height)
        fig.subplots_adjust(left=self.left / width, right=1 - self.right / width,
                            bottom=self.bottom / height, top=1 - self.top / height)

    def legend_anchor(self, fig) -> tuple[float, float]:
        """Figure coordinates of the legend's lower centre: the figure's, at the bottom.

        Centred on the figure, not on the axes: with long labels on the left the
        axes are narrow, and a legend centred on them ran off the right edge.
        """
        return 0.5, self.PAD / fig.get_figheight()


def _wrap(label: str, width: int = 34) -> str:
    """A long axis label on two or more lines, so that the bars keep their room."""
    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) or label


def _literal_label(text: str) -> str:
    """A chart label drawn as written: ``$`` escaped, else two of them start matplotlib's mathtext."""
    return text.replace("$", r"\$")


def _text_width(text: str, size: float) -> float:
    """Width in points of ``text`` at ``size`` in the theme's font."""
    prop = FontProperties(family=matplotlib.rcParams["font.family"], size=size)
    return text_to_path.get_text_width_height_descent(text, prop, ismath=False)[0]


def _bar_svg(frame: pd.DataFrame, zone_order: list[str], reference: float | None = None,
             xlabel: str | None = None) -> str:
    """:func:`bar_figure` as SVG text."""
    return _svg(bar_figure(frame, zone_order, reference, xlabel))


def bar_figure(frame: pd.DataFrame, zone_order: list[str], reference: float | None = None,
               xlabel: str | None = None):
    """Horizontal bars, territory in the accent colour; bars not published are marked ``s`` or ``nd``.

    One item: one bar per zone, zones named on the axis. Several items: bars grouped
    by item, zones in the legend. Drawn with matplotlib's ``barh`` in seaborn's look
    (its theme, its 0.75 colour saturation, its categorical axis): ``seaborn.barplot``
    drew the same bars three times slower, and charts are most of a report's time.
    """
    items = list(dict.fromkeys(frame["item"]))
    single = len(items) == 1
    numbers = pd.to_numeric(frame["value"], errors="coerce")
    values = dict(zip(zip(frame["item"], frame["zone"]), numbers.fillna(0.0)))
    rows = dict(zip(zip(frame["item"], frame["zone"]), zip(frame["value"], frame["status"])))
    labels = [_wrap(text) for text in (zone_order if single else items)]
    layout = _Layout(labels, [] if single else zone_order)
    handles = []
    fig = Figure(figsize=(6.3, 1.0))  # not pyplot's: no figure manager to register and close
    ax = fig.subplots()
    layout.apply(fig, 0.3 * len(zone_order) + 0.7 if single else 0.17 * len(frame) + 0.25 * len(items) + 0.9)
    colours = _palette(zone_order)
    unit = frame["unit"].iloc[0]
    marks = []  # value labels, drawn once the axis limits are known
    for index, zone in enumerate(zone_order):
        if single:
            width, positions = 0.7, [float(index)]
        else:
            width = 0.82 / len(zone_order)
            positions = [i + width * index + width / 2 - 0.41 for i in range(len(items))]
        colour = sns.desaturate(colours[zone], 0.75)
        bars = ax.barh([y - width / 2 for y in positions], [values[(item, zone)] for item in items],
                       height=width, align="edge", color=colour, facecolor=colour,
                       label=None if single else zone)
        handles.append(bars)
        for bar, item in zip(bars, items):
            value, status = rows[(item, zone)]
            text = fmt.value(value, unit) if status == "published" else _status_text(status)
            marks.append((text, bar.get_width(), bar.get_y() + bar.get_height() / 2))
    ax.set_yticks(range(len(labels)), [_literal_label(text) for text in labels])
    ax.yaxis.grid(False)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    if reference is not None:
        ax.axvline(reference, color="#555555", linewidth=0.9, linestyle=":")
        low = numbers.min()
        ax.set_xlim(left=max(0.0, min(reference, low if pd.notna(low) else reference) * 0.8))
    ax.margins(x=0.16)
    left = ax.get_xlim()[0]
    # Near the reference line a value would be struck through by it ("98,53" across
    # the dotted 100): marks then sit on a white ground that interrupts the line.
    ground = None if reference is None else {"boxstyle": "square,pad=0.12", "facecolor": "white",
                                             "edgecolor": "none"}
    for text, x, y in marks:
        # A hidden bar has no width: its mark sits at the axis start, where a reader looks for it.
        ax.annotate(text, (max(x, left), y), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=ANNOTATION_SIZE, bbox=ground)
    ax.set_ylabel("")
    ax.set_xlabel(xlabel or {"percent": "en %", "euro": "en €", "ratio": ""}.get(unit, "effectif"),
                  fontsize=TICK_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt.axis_tick(x)))
    if not single:
        # Handles and labels given, not looked up: matplotlib skips labels that start with "_".
        fig.legend(handles, [_literal_label(zone) for zone in zone_order], title="", frameon=False,
                   fontsize=LEGEND_SIZE, loc="lower center", bbox_to_anchor=layout.legend_anchor(fig), ncol=layout.legend_columns,
                   borderaxespad=0.0)
    return fig


def _alt_text(title: str, frame: pd.DataFrame) -> str:
    unit = frame["unit"].iloc[0]
    parts = []
    for item, sub in frame.groupby("item", sort=False):
        values = ", ".join(
            f"{r.zone} {fmt.value(r.value, unit) if r.status == 'published' else 'secret' if r.status.startswith('secret') else 'non disponible'}"
            for r in sub.itertuples())
        parts.append(f"{item} : {values}" if frame["item"].nunique() > 1 else values)
    return f"Diagramme en barres, {title[0].lower() + title[1:]}. " + " ; ".join(parts) + "."


__all__ = ["Block", "ReportView", "show"]
