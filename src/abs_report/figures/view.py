"""What the notebook calls: :class:`ReportView` assembles each chapter, :func:`show` displays it.

The view numbers tables and figures in reading order and puts under each
the note that says its source and what its ``s`` and ``nd`` mean; the
tables, charts, sentences and texts themselves come from the sibling modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..catalogue import label
from ..context import ReportContext
from ..published import read as read_published
from ..tables import CHAPTER_TITLES, CHAPTERS, MAP_RATES, QPV_SECTION, TableSpec, specs_of
from ..untrusted import plain_text
from . import charts, fit, tables, text
from . import maps as report_maps
from .labels import short_label
from .lookup import PublishedIndex, status_text
from .sentences import sentences


@dataclass
class Block:
    """One displayable piece: Markdown text, or an SVG chart with caption and alt text."""

    markdown: str | None = None
    svg: str | None = None
    caption: str | None = None
    alt: str | None = None


@dataclass
class ReportView:
    """Everything one report shows, built from its context and published rows."""

    context: ReportContext
    published: pd.DataFrame
    _tables: int = field(default=0, init=False)
    _figures: int = field(default=0, init=False)

    @classmethod
    def load(cls, context_json: str, published_csv: str | Path) -> "ReportView":
        return cls(ReportContext.from_json(context_json), read_published(Path(published_csv)))

    def __post_init__(self):
        self.rows = PublishedIndex(self.published, self.context.year)
        self._fiche = fit.is_fiche(self.context, self.rows)
        self._plan = self._make_plan()

    # --- notes and numbering ------------------------------------------------------
    def _foot(self, cells: list[str], absent=()) -> Block:
        return Block(markdown=text.source_note(self.context, cells, [z.name for z in absent]))

    def _table_blocks(self, spec: TableSpec, table: tables.Table, absent=()) -> list[Block]:
        lines, cells = table
        self._tables += 1
        caption = f": Tableau {self._tables} – {spec.title}"
        return [Block(markdown="\n".join(lines) + "\n\n" + caption + "\n"), self._foot(cells, absent)]

    def _figure_blocks(self, spec: TableSpec, svg: str, alt: str, statuses: list[str], absent=()) -> list[Block]:
        self._figures += 1
        cells = [status_text(s) for s in statuses if s != "published"]
        return [Block(svg=svg, caption=f"Figure {self._figures} – {spec.title}", alt=alt),
                self._foot(cells, absent)]

    # --- maps: figures too, one numbering in reading order ("Figure n – Carte : ...") ---------
    def locator_map(self, spec: TableSpec) -> list[Block]:
        """The territory within its EPCI and département, or why there is no map."""
        from ..maps import NO_MAP_TEXT, NoGeometry, to_svg

        if not self.context.maps:  # ``maps: false``: left out on purpose, nothing to excuse
            return []

        try:
            drawn = report_maps.locator(self.context)
        except NoGeometry:
            return [Block(markdown=f"**{spec.title}** : {NO_MAP_TEXT}.\n")]
        return self._map_blocks(drawn, to_svg(drawn), _map_caption(spec.title), [])

    def choropleths(self, spec: TableSpec) -> list[Block]:
        """One map per rate over the territory's communes or IRIS, coloured from this table's rows only."""
        from ..maps import NO_MAP_TEXT, NoGeometry, to_svg

        zones = {"commune_map": self.context.communes, "qpv_map": self.context.qpv}.get(spec.kind, self.context.iris)
        if not zones or not self.context.maps:
            return []
        if spec.kind == "qpv_map" and not self.rows.available(spec, zones):
            return []  # the QPV section already says the source has nothing on them
        blocks = []
        for item in (i for i in spec.items if i in MAP_RATES):
            caption = _map_caption(report_maps.map_title(spec, item, self.context))
            values = report_maps.map_values(self.published, spec.id, item)
            if not values["status"].eq("published").any():
                blocks.append(Block(markdown=f"**{caption}** : {text.NOT_AVAILABLE}\n"))
                continue
            try:
                drawn = report_maps.choropleth(spec, item, self.context, self.published)
            except NoGeometry:
                blocks.append(Block(markdown=f"**{caption}** : {NO_MAP_TEXT}.\n"))
                continue
            blocks += self._map_blocks(drawn, to_svg(drawn), caption, list(values["status"]))
        return blocks

    def _map_blocks(self, drawn, svg: str, caption: str, statuses: list[str]) -> list[Block]:
        self._figures += 1
        cells = [status_text(s) for s in statuses if s != "published"]
        return [Block(svg=svg, caption=f"Figure {self._figures} – {caption}", alt=drawn.alt),
                Block(markdown=text.source_note(self.context, cells, basemap=True))]

    # --- tables and charts ----------------------------------------------------------
    def _shown(self, spec: TableSpec) -> fit.Shown:
        """The spec as shown (items and zones with data); the whole spec when nothing is filtered."""
        return fit.shown(spec, self.context, self.rows) or fit.Shown(spec, self.context.zones, ())

    def table(self, spec: TableSpec) -> list[Block]:
        part = self._shown(spec)
        return self._table_blocks(part.spec, tables.zones_table(part.spec, self.context, self.rows, part.zones),
                                  part.absent)

    def evolution_table(self, spec: TableSpec) -> list[Block]:
        part = self._shown(spec)
        return self._table_blocks(part.spec, tables.evolution_table(part.spec, self.context, self.rows,
                                                                    part.zones), part.absent)

    def iris_table(self, spec: TableSpec) -> list[Block]:
        """The territory's quartiers, or a sentence saying why none can be shown."""
        iris = self.context.iris
        if not iris:
            return [Block(markdown="Le territoire n'a pas de découpage en quartiers IRIS dans la source.\n")]
        if not self.rows.published_any(spec, iris):
            return [Block(markdown=(
                "Moins de deux quartiers du territoire comptent au moins 100 allocataires : aucun chiffre "
                "par quartier ne peut être publié (secret statistique).\n"))]
        return self._table_blocks(spec, tables.iris_table(spec, self.context, self.rows))

    def qpv_section(self, spec: TableSpec) -> list[Block]:
        """The commune's quartiers prioritaires beside the commune hors QPV and the whole commune.

        Nothing at all for a commune without QPV: the plan leaves the section out.
        """
        blocks = [Block(markdown=f"## {QPV_SECTION}\n"), Block(markdown=text.qpv_intro(self.context))]
        zones = (*self.context.qpv, *((self.context.hors_qpv,) if self.context.hors_qpv else ()))
        if not self.rows.available(spec, zones):
            return blocks + [Block(markdown=text.QPV_NO_DATA + "\n")]
        return blocks + self._table_blocks(spec, tables.qpv_table(spec, self.context, self.rows))

    def bar_chart(self, spec: TableSpec) -> list[Block]:
        """Horizontal bars per zone (grouped by item); the territory stands out; secrets say ``s``."""
        part = self._shown(spec)
        data = []
        for item in part.spec.items:
            for z in part.zones:
                value, status, unit = self.rows.get(spec.id, z, item)
                data.append({"item": short_label(item), "zone": plain_text(z.name), "value": value,
                             "status": status, "unit": unit})
        frame = pd.DataFrame(data)
        svg = charts.bar_svg(frame, [plain_text(z.name) for z in part.zones])
        return self._figure_blocks(spec, svg, charts.alt_text(spec.title, frame), list(frame["status"]),
                                   part.absent)

    def index_chart(self, spec: TableSpec) -> list[Block]:
        """Each zone's index year by year (first year = 100): one line per zone, one panel per item."""
        part = self._shown(spec)
        years = list(dict.fromkeys((*self.context.years, self.context.year)))
        first = years[0]
        data = []
        for item in part.spec.items:
            for z in part.zones:
                for y in years:
                    value, status = 100.0, "published"
                    if y != first:
                        value, status, _ = self.rows.get(spec.id, z, f"indice_{item}", y)
                    elif self.rows.get("T13_evolution", z, item, y)[1] != "published":
                        value, status = float("nan"), self.rows.get("T13_evolution", z, item, y)[1]
                    data.append({"item": label(item), "zone": plain_text(z.name), "year": y, "value": value,
                                 "status": status})
        frame = pd.DataFrame(data)
        svg = charts.line_svg(frame, [plain_text(z.name) for z in part.zones], years, reference=100.0,
                              ylabel=f"indice (base 100 en {first})")
        alt = charts.line_alt_text(f"{spec.title} : indice base 100 en {first}", frame)
        return self._figure_blocks(spec, svg, alt, list(frame["status"]), part.absent)

    # --- chapters -------------------------------------------------------------------
    @property
    def is_fiche(self) -> bool:
        """A short fiche: most of the territory's key figures are hidden (:func:`.fit.is_fiche`)."""
        return self._fiche

    def chapters(self) -> tuple[str, ...]:
        """The chapters this report shows, in reading order."""
        return fit.FICHE_CHAPTERS if self.is_fiche else CHAPTERS

    def _specs(self, chapter: str) -> tuple[TableSpec, ...]:
        """The chapter's tables and charts that hold something for the territory."""
        return self._plan.get(chapter, ())

    def _make_plan(self) -> dict[str, tuple[TableSpec, ...]]:
        """Each chapter's tables and charts to show, decided once for the whole report.

        A table whose rows left are all printed by an earlier table (the total
        ``foyers_allocataires`` alone under « configuration familiale ») says
        nothing new and is left out with its empty rows. Charts draw numbers of
        the tables by design and are kept when they have anything to draw.
        """
        plan, seen = {}, set()
        for chapter in self.chapters():
            specs = specs_of(chapter)
            if self._fiche:
                specs = tuple(s for s in specs if s.id == fit.KEY_TABLE)
            kept = []
            for spec in specs:
                if not self._fits_territory(spec):
                    continue
                part = fit.shown(spec, self.context, self.rows)
                if spec.kind == "iris" or spec.is_map:  # maps say themselves when they have nothing
                    kept.append(spec)
                elif part and (spec.kind != "table" or set(part.spec.items) - seen):
                    kept.append(spec)
                    if spec.kind == "table":
                        seen.update(part.spec.items)
            plan[chapter] = tuple(kept)
        return plan

    def _fits_territory(self, spec: TableSpec) -> bool:
        """Whether the spec applies to this territory at all (before looking at its data).

        The QPV section and its map belong to communes with QPV only; a QPV report
        has no IRIS quartiers (its commune's are in the commune's report).
        """
        if spec.kind in ("qpv", "qpv_map"):
            return bool(self.context.qpv)
        if spec.kind in ("iris", "iris_map"):
            return self.context.territory.level != "qpv"
        return True

    def chapter(self, chapter: str) -> list[Block]:
        """The heading, a few sentences and every table and chart of a chapter (nothing when it is empty)."""
        if chapter not in self.chapters():
            return []
        intro = sentences(self.context, self.rows, chapter)
        specs = self._specs(chapter)
        if not intro and not specs and not self.is_fiche:
            return []
        blocks = [Block(markdown=f"# {CHAPTER_TITLES[chapter]}\n")]
        if self.is_fiche:
            hidden, total = fit.hidden_key_figures(self.context, self.rows)
            blocks.append(Block(markdown=text.fiche_notice(self.context, hidden, total)))
        elif intro:
            blocks.append(Block(markdown=" ".join(intro) + "\n"))
        for spec in specs:
            blocks += self._spec_blocks(spec)
        if self.is_fiche:
            blocks.append(Block(markdown=text.proposal_paragraph(self.context)))
        return blocks

    def _spec_blocks(self, spec: TableSpec) -> list[Block]:
        build = {"table": self.table, "bar": self.bar_chart, "evolution": self.evolution_table,
                 "index": self.index_chart, "iris": self.iris_table, "locator": self.locator_map,
                 "commune_map": self.choropleths, "iris_map": self.choropleths, "qpv": self.qpv_section,
                 "qpv_map": self.choropleths}[spec.kind]
        return build(spec)

    def _shown_measures(self) -> set[str]:
        """Every measure some shown table or chart prints."""
        out = set()
        for chapter in self.chapters():
            for spec in self._specs(chapter):
                part = fit.shown(spec, self.context, self.rows)
                items = part.spec.items if part else spec.items
                out.update(items)
                if spec.kind == "evolution":
                    out.update(f"evolution_{i}" for i in items)
                if spec.kind == "index":
                    out.update(f"indice_{i}" for i in items)
        return out

    def closing_section(self) -> list[Block]:
        """Sources, what the source lacks, definitions, method, secret statistique and obligations."""
        shown = self._shown_measures()
        measures = [m for m in self.rows.measures if m in shown]
        missing, absent = fit.lacking(self.context, self.rows)
        section = text.closing_section(self.context, measures, text.lacking_section(missing, absent))
        if self.is_fiche:  # one flow after the fiche's page, not a chapter of its own
            section = text.demote_headings(section)
        return [Block(markdown=section)]

    def erratum(self) -> list[Block]:
        """The "Erratum" box opening a re-issued report (nothing for a first edition)."""
        box = text.erratum_box(self.context)
        return [Block(markdown=box)] if box else []


def _map_caption(title: str) -> str:
    """``Taux de couverture par commune`` -> ``Carte : taux de couverture par commune``."""
    return f"Carte : {title[:1].lower()}{title[1:]}"


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
