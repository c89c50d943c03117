"""Presentation: French tables, seaborn charts and texts, from published rows only.

The notebook calls :class:`ReportView` and displays what it returns. Every
number shown here comes from ``published.csv`` (already protected), so the
presentation cannot leak a secret nor print a number the CSV lacks.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from . import formatting as fmt  # noqa: E402
from .catalogue import INDICATORS, MEASURES, THEMES, label  # noqa: E402
from .published import read as read_published  # noqa: E402
from .tables import CHAPTERS, TableSpec, specs_of  # noqa: E402

ACCENT = "#0b5563"  # the territory
MUTED = "#9db4b8"   # comparison zones
DEMO_NOTICE = "Données fictives de démonstration"

matplotlib.rcParams.update({
    "svg.hashsalt": "abs-report",   # stable ids inside SVG: same inputs, same bytes
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})


@dataclass
class Block:
    """One displayable piece: Markdown text or an SVG chart with caption and alt text."""

    markdown: str | None = None
    svg: str | None = None
    caption: str | None = None
    alt: str | None = None


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

    # --- helpers ----------------------------------------------------------
    @property
    def zones(self) -> list[dict]:
        return self.context["zones"]

    @property
    def territory(self) -> dict:
        return self.zones[0]

    def _rows(self, table_id: str) -> pd.DataFrame:
        return self.published[self.published["table_id"] == table_id]

    def _cell(self, rows: pd.DataFrame, zone: dict, item: str) -> str:
        hit = rows[(rows["zone_code"] == zone["code"]) & (rows["zone_level"] == zone["level"])
                   & (rows["measure"] == item)]
        if hit.empty:
            return fmt.MISSING
        row = hit.iloc[0]
        if row["status"].startswith("secret"):
            return fmt.SECRET
        if row["status"] == "missing":
            return fmt.MISSING
        return fmt.value(row["value"], row["unit"])

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
        return text

    def _notes(self, cells: list[str]) -> str:
        notes = []
        if fmt.SECRET in cells:
            notes.append(f"*{fmt.SECRET}* : donnée soumise au secret statistique (effectif inférieur à 5 "
                         "ou permettant de retrouver un tel effectif).")
        if fmt.MISSING in cells:
            notes.append(f"*{fmt.MISSING}* : donnée non disponible dans la source.")
        return " ".join(notes)

    # --- blocks -----------------------------------------------------------
    def table(self, spec: TableSpec) -> Block:
        """A pipe table: one line per item, one column per zone."""
        self._tables += 1
        rows = self._rows(spec.id)
        header = "| Indicateur | " + " | ".join(z["name"] for z in self.zones) + " |"
        align = "|:---|" + "---:|" * len(self.zones)
        lines, cells = [header, align], []
        for item in spec.items:
            values = [self._cell(rows, z, item) for z in self.zones]
            cells += values
            lines.append(f"| {label(item)} | " + " | ".join(values) + " |")
        caption = f": Tableau {self._tables} – {spec.title}"
        foot = self.source_line() + (" " + self._notes(cells) if self._notes(cells) else "")
        return Block(markdown="\n".join(lines) + "\n\n" + caption + "\n\n" + f"[{foot}]{{.source}}\n")

    def bar_chart(self, spec: TableSpec) -> list[Block]:
        """Horizontal bars per zone (and per item); the territory stands out; secrets say ``s``."""
        self._figures += 1
        rows = self._rows(spec.id)
        data = []
        for item in spec.items:
            for z in self.zones:
                hit = rows[(rows["zone_code"] == z["code"]) & (rows["zone_level"] == z["level"])
                           & (rows["measure"] == item)]
                status = hit.iloc[0]["status"] if not hit.empty else "missing"
                value = hit.iloc[0]["value"] if status == "published" else None
                data.append({"item": _short_label(item), "zone": z["name"], "value": value,
                             "status": status, "unit": hit.iloc[0]["unit"] if not hit.empty else "count"})
        frame = pd.DataFrame(data)
        svg = _bar_svg(frame, [z["name"] for z in self.zones])
        caption = f"Figure {self._figures} – {spec.title}"
        alt = _alt_text(spec.title, frame)
        texts = [fmt.SECRET if s.startswith("secret") else fmt.MISSING for s in frame["status"] if s != "published"]
        foot = self.source_line() + (" " + self._notes(texts) if texts else "")
        return [Block(svg=svg, caption=caption, alt=alt), Block(markdown=f"[{foot}]{{.source}}\n")]

    def chapter(self, chapter: str) -> list[Block]:
        """The heading, an introduction and every table and chart of a chapter."""
        blocks = [Block(markdown=f"# {THEMES[chapter]}\n")]
        for spec in specs_of(chapter):
            blocks += [self.table(spec)] if spec.kind == "table" else self.bar_chart(spec)
        return blocks

    def chapters(self) -> tuple[str, ...]:
        return CHAPTERS

    def closing_section(self) -> list[Block]:
        """Sources, definitions, method, secret statistique and the recipient's obligations."""
        ctx, ds = self.context, self.context["dataset"]
        secrecy = ctx["secrecy"]
        used = list(dict.fromkeys(self.published["measure"]))
        glossary = "\n".join(
            f"- **{label(i)}** : {_definition(i)}" for i in used)
        counts = secrecy["counts"]
        hidden = sum(v for k, v in counts.items() if k.startswith("secret"))
        demo = (f"\n\n**{DEMO_NOTICE}.** Les chiffres de ce rapport sont générés par le programme "
                f"(générateur {ds.get('generator', {}).get('version', '')}, graine "
                f"{ds.get('generator', {}).get('seed', '')}) pour démontrer l'outil ; ils ne décrivent "
                "pas la population réelle." if ds.get("synthetic") else "")
        text = f"""# Sources, méthode et secret statistique

## Sources

{self.source_line()} Les statistiques de la Caf décrivent la situation des foyers allocataires au
{ctx['reference_date']} (données consolidées). La population municipale est celle du {ctx['population_source']}.
Les zones de comparaison sont : {_join([z['name'] for z in self.zones[1:]])}.{demo}

## Définitions

{glossary}

## Méthode

Chaque taux rapporte un numérateur à un dénominateur de la même zone et de la même date. Les totaux
des zones de comparaison sont calculés à partir des communes qui les composent. Tous les chiffres
publiés dans ce rapport figurent dans le fichier `published.csv` qui l'accompagne.

## Secret statistique

Conformément aux règles de diffusion de la Caf (règles version {secrecy['rules_version']}) :
aucun effectif compris entre 1 et {secrecy['threshold'] - 1} n'est publié ; aucun chiffre ne permet de
retrouver un tel effectif (par différence entre un total et ses parties, entre zones emboîtées ou entre
rapports) ; aucun chiffre infra-communal n'est publié pour une zone de moins de
{secrecy['min_infra_communal']} allocataires ; rien n'est publié en deçà de l'IRIS. Un taux dont le
numérateur ou le dénominateur est secret n'est pas publié. Les cases masquées portent la mention
*{fmt.SECRET}*.

Dans ce rapport, {hidden} chiffre{'s' if hidden > 1 else ''} sur {sum(counts.values())} {'ont' if hidden > 1 else 'a'} été
masqué{'s' if hidden > 1 else ''} : {counts.get('secret_primary', 0)} au titre du secret primaire
(effectif inférieur à {secrecy['threshold']}), {counts.get('secret_secondary', 0)} au titre du secret
secondaire (pour empêcher de les recalculer) et {counts.get('secret_threshold', 0)} au titre du seuil
infra-communal ; {counts.get('missing', 0)} chiffre{'s' if counts.get('missing', 0) > 1 else ''} ne
figure{'nt' if counts.get('missing', 0) > 1 else ''} pas dans la source.

## Obligations du destinataire

Les données de la Caf sont transmises à {ctx['recipient']} pour la seule étude déclarée :
« {ctx['purpose']} ». Le destinataire s'engage à :

- utiliser ces données uniquement dans le cadre de cette étude ;
- ne pas les transmettre à un tiers sans l'accord préalable de la Caf ;
- citer la source « {ds['producer']} » pour toute reproduction d'un chiffre, d'un tableau ou d'un graphique ;
- transmettre le rapport final à la Caf sur sa demande.
"""
        return [Block(markdown=text)]


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " et " + names[-1]


def _definition(item: str) -> str:
    if item in MEASURES:
        return MEASURES[item].definition
    ind = INDICATORS[item]
    return (f"{ind.definition} (numérateur : {label(ind.numerator).lower()} ; "
            f"dénominateur : {label(ind.denominator).lower()}).")


def _short_label(item: str) -> str:
    text = label(item)
    for prefix in ("Part des foyers ", "Part des ", "Taux de "):
        if text.startswith(prefix):
            return text[len(prefix):].capitalize()
    return text


def _bar_svg(frame: pd.DataFrame, zone_order: list[str]) -> str:
    """Seaborn bars, territory in the accent colour; missing bars marked ``s`` or ``nd``."""
    single = frame["item"].nunique() == 1
    height = 0.42 * len(frame) + 0.8 if not single else 0.45 * len(zone_order) + 0.9
    fig, ax = plt.subplots(figsize=(6.3, max(height, 2.0)))
    palette = {z: (ACCENT if i == 0 else MUTED) for i, z in enumerate(zone_order)}
    plot = frame.assign(value=frame["value"].astype(float).fillna(0.0))
    if single:
        sns.barplot(data=plot, y="zone", x="value", hue="zone", palette=palette, order=zone_order,
                    legend=False, ax=ax)
        ax.set_ylabel("")
    else:
        sns.barplot(data=plot, y="item", x="value", hue="zone", palette=palette, hue_order=zone_order, ax=ax)
        ax.set_ylabel("")
        ax.legend(title="", frameon=False, fontsize=8, loc="lower right")
    unit = frame["unit"].iloc[0]
    for container in ax.containers:
        for bar, (_, row) in zip(container, _rows_for(container, frame, single, zone_order)):
            text = (fmt.value(row["value"], unit) if row["status"] == "published"
                    else (fmt.SECRET if row["status"].startswith("secret") else fmt.MISSING))
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5)
    ax.set_xlabel({"percent": "%", "euro": "€", "ratio": ""}.get(unit, "Effectif"))
    ax.margins(x=0.15)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()


def _rows_for(container, frame, single, zone_order):
    """Pair each bar of a seaborn container with its data row."""
    if single:
        ordered = frame.set_index("zone").loc[zone_order].reset_index()
        return ordered.iterrows()
    zone = container.get_label()
    sub = frame[frame["zone"] == zone]
    return sub.iterrows()


def _alt_text(title: str, frame: pd.DataFrame) -> str:
    unit = frame["unit"].iloc[0]
    parts = []
    for item, sub in frame.groupby("item", sort=False):
        values = ", ".join(
            f"{r.zone} {fmt.value(r.value, unit) if r.status == 'published' else 'secret' if r.status.startswith('secret') else 'non disponible'}"
            for r in sub.itertuples())
        parts.append(f"{item} : {values}" if frame["item"].nunique() > 1 else values)
    return f"Diagramme en barres, {title.lower()}. " + " ; ".join(parts) + "."


def show(blocks: list[Block]) -> None:
    """Display blocks as notebook outputs: Markdown, and SVG with caption and alt text."""
    from IPython.display import Markdown, display

    for block in blocks:
        if block.markdown is not None:
            display(Markdown(block.markdown))
        if block.svg is not None:
            meta = {"image/svg+xml": {"abs_report": {"caption": block.caption, "alt": block.alt}}}
            display({"image/svg+xml": block.svg}, raw=True, metadata=meta)
