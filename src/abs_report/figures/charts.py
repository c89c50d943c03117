"""Bar charts as SVG: matplotlib Figures in seaborn's look, French labels, ``s`` and ``nd`` marks.

Deterministic: the same rows give the same SVG bytes (``svg.hashsalt``, no
date, glyphs as paths), so that a report reproduces byte for byte.
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib

matplotlib.use("svg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import text_to_path  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .. import formatting as fmt  # noqa: E402
from .lookup import status_text  # noqa: E402

ACCENT = "#0b5563"  # the territory
MUTED = ("#7fa7ad", "#a9c3c7", "#c9d9db", "#d9c9a3", "#b5b5b5")  # comparison zones

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


def bar_svg(frame: pd.DataFrame, zone_order: list[str], reference: float | None = None,
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
            text = fmt.value(value, unit) if status == "published" else status_text(status)
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
                   fontsize=LEGEND_SIZE, loc="lower center", bbox_to_anchor=layout.legend_anchor(fig),
                   ncol=layout.legend_columns, borderaxespad=0.0)
    return fig


def alt_text(title: str, frame: pd.DataFrame) -> str:
    unit = frame["unit"].iloc[0]
    parts = []
    for item, sub in frame.groupby("item", sort=False):
        values = ", ".join(
            f"{r.zone} {fmt.value(r.value, unit) if r.status == 'published' else 'secret' if r.status.startswith('secret') else 'non disponible'}"
            for r in sub.itertuples())
        parts.append(f"{item} : {values}" if frame["item"].nunique() > 1 else values)
    return f"Diagramme en barres, {title[0].lower() + title[1:]}. " + " ; ".join(parts) + "."


def line_svg(frame: pd.DataFrame, zone_order: list[str], years: list[int], reference: float | None = None,
             ylabel: str = "") -> str:
    """:func:`line_figure` as SVG text."""
    return _svg(line_figure(frame, zone_order, years, reference, ylabel))


def line_figure(frame: pd.DataFrame, zone_order: list[str], years: list[int], reference: float | None = None,
                ylabel: str = ""):
    """One small panel per item, one line per zone across ``years``; the territory in the accent colour.

    ``frame`` has ``item, zone, year, value, status``. A year not published is
    marked ``s`` (or ``nd``) on the axis floor and the line is broken there:
    never drawn across a hidden year, which would suggest a value.
    """
    items = list(dict.fromkeys(frame["item"]))
    columns = min(2, len(items))
    rows_n = -(-len(items) // columns)
    layout = _Layout([fmt.axis_tick(100.0)], zone_order)
    fig = Figure(figsize=(6.3, 1.0))
    axes = fig.subplots(rows_n, columns, squeeze=False, sharex=True)
    layout.apply(fig, 1.9 * rows_n + 0.4)
    fig.subplots_adjust(hspace=0.45, wspace=0.25)
    colours = _palette(zone_order)
    numbers = pd.to_numeric(frame["value"], errors="coerce")
    frame = frame.assign(number=numbers.where(frame["status"] == "published"))
    for k, item in enumerate(items):
        ax = axes[k // columns][k % columns]
        sub = frame[frame["item"] == item]
        for zone in zone_order:
            line = sub[sub["zone"] == zone].set_index("year").reindex(years)
            # NaN breaks the line: a hidden year is not interpolated.
            ax.plot(years, line["number"].to_numpy(float), color=colours[zone], linewidth=1.6 if
                    zone == zone_order[0] else 1.1, marker="o", markersize=2.5, label=zone)
        if reference is not None:
            ax.axhline(reference, color="#555555", linewidth=0.8, linestyle=":")
        floor = ax.get_ylim()[0]
        for r in sub[sub["status"] != "published"].itertuples():
            ax.annotate(status_text(r.status), (r.year, floor), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=ANNOTATION_SIZE, color=colours[r.zone])
        ax.set_title(item, fontsize=TICK_SIZE)
        ax.set_xticks(years, [str(y) for y in years])
        ax.tick_params(labelsize=TICK_SIZE - 1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt.axis_tick(x)))
        if k % columns == 0:
            ax.set_ylabel(ylabel, fontsize=TICK_SIZE - 1)
    for k in range(len(items), rows_n * columns):
        axes[k // columns][k % columns].set_visible(False)
    _fit_panel_margins(fig, [ax for row in axes for ax in row if ax.get_visible()], bool(ylabel))
    fig.legend(*axes[0][0].get_legend_handles_labels(), title="", frameon=False, fontsize=LEGEND_SIZE,
               loc="lower center", bbox_to_anchor=layout.legend_anchor(fig), ncol=layout.legend_columns,
               borderaxespad=0.0)
    return fig


def _fit_panel_margins(fig, panels: list, ylabel: bool) -> None:
    """Room above the first row for the panels' titles, and on the left for the y tick labels
    the data gave (``99,5``, ``97,5``: wider than ``100``) and the axis title.

    :class:`_Layout` sizes a bar chart, whose axes have no title and whose tick labels are
    known before drawing: the panels' titles and the axis title of the index chart were cut
    off at the top and the left edge of the figure.
    """
    rc = matplotlib.rcParams
    ticks = [fmt.axis_tick(t) for ax in panels for t in ax.get_yticks()
             if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    widest = max((_text_width(t, TICK_SIZE - 1) for t in ticks), default=0.0)
    tick_offset = rc["ytick.major.size"] + rc["ytick.major.pad"]
    title = _Layout.LINE * (TICK_SIZE - 1) + rc["axes.labelpad"] if ylabel else 0.0
    left = _Layout.PAD + (widest + tick_offset + title + 1.0) / 72
    top = _Layout.PAD + (_Layout.LINE * TICK_SIZE + rc["axes.titlepad"]) / 72
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, top=1 - top / height)


def line_alt_text(title: str, frame: pd.DataFrame) -> str:
    """What the line chart shows, year by year, for a reader who cannot see it."""
    parts = []
    for (item, zone), sub in frame.groupby(["item", "zone"], sort=False):
        values = ", ".join(f"{r.year} {fmt.value(r.value, 'ratio') if r.status == 'published' else 'secret' if r.status.startswith('secret') else 'non disponible'}"
                           for r in sub.itertuples())
        parts.append(f"{item}, {zone} : {values}")
    return f"Graphique en courbes, {title[0].lower() + title[1:]}. " + " ; ".join(parts) + "."
