"""Bar charts are laid out without drawing them first: nothing may fall outside the figure.

The margins are computed from the label widths (``figures.charts._Layout``) instead of
``tight_layout`` and a "tight" bounding box, so these tests draw each chart and
check every text, the legend and the axes against the figure's edges.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from abs_report.figures.charts import bar_figure

SHORT = ["Grenoble", "Isère", "France"]
LONG = ["Saint-Martin-d'Hères", "Communauté de communes Bièvre Est", "Communauté d'agglomération "
        "Porte de l'Isère (CAPI)", "Isère", "Auvergne-Rhône-Alpes", "France"]


def frame(items, zones, unit="percent", status=lambda i, z: "published", value=lambda i, z: 10.0 + 7 * i + z):
    return pd.DataFrame([{"item": item, "zone": zone, "value": value(i, j), "status": status(i, j),
                          "unit": unit} for i, item in enumerate(items) for j, zone in enumerate(zones)])


CASES = {
    "one item, short names": (frame(["Taux de couverture"], SHORT), SHORT, {}),
    "one item, long names": (frame(["Taux de couverture"], LONG), LONG, {}),
    "grouped, long names": (frame(["Au RSA", "Aidés pour le logement", "À la prime d'activité"], LONG), LONG, {}),
    "grouped, long items": (frame(["Foyers bénéficiaires de la prime d'activité et d'une aide au logement",
                                   "Foyers bénéficiaires du RSA"], SHORT), SHORT, {}),
    "index with reference": (frame(["Foyers allocataires", "Foyers bénéficiaires du RSA"], LONG,
                                   unit="ratio", value=lambda i, z: 85.0 + 5 * z), LONG,
                             {"reference": 100.0, "xlabel": "indice 2024 (base 100 en 2020)"}),
    "secret bars": (frame(["Au RSA"], SHORT, unit="count",
                          status=lambda i, z: "secret_primary" if z == 0 else "published",
                          value=lambda i, z: None if z == 0 else 1234.0), SHORT, {}),
}


@pytest.mark.parametrize("case", CASES)
def test_every_text_and_the_legend_lie_inside_the_figure(case):
    data, zones, options = CASES[case]
    fig = bar_figure(data, zones, **options)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    edge = fig.bbox
    axes = fig.axes[0]
    low, high = sorted(axes.get_xlim())
    beyond = {id(label) for tick in axes.xaxis.get_major_ticks() if not low - 1e-9 <= tick.get_loc() <= high + 1e-9
              for label in (tick.label1, tick.label2)}  # ticks past the axis are not drawn
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in beyond]
    assert texts
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for legend in fig.legends:
        boxes.append(("legend", legend.get_window_extent(renderer)))
    for name, box in boxes:
        assert box.x0 >= edge.x0 - 1 and box.x1 <= edge.x1 + 1, (case, name, box, edge)
        assert box.y0 >= edge.y0 - 1 and box.y1 <= edge.y1 + 1, (case, name, box, edge)
    xlabel = axes.xaxis.label.get_window_extent(renderer)
    for legend in fig.legends:
        assert legend.get_window_extent(renderer).y1 <= xlabel.y0 + 1, "legend over the axis title"
    assert axes.get_window_extent(renderer).width > 0.3 * edge.width, "labels left the bars no room"
    plt.close(fig)


def test_tick_labels_are_french():
    data, zones, options = CASES["grouped, long items"]
    fig = bar_figure(data, zones, **options)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert any("," in t for t in labels) and not any("." in t for t in labels), labels
    plt.close(fig)
    big = bar_figure(*CASES["secret bars"][:2])
    FigureCanvasAgg(big).draw()
    assert "1\u202f000" in [t.get_text() for t in big.axes[0].get_xticklabels()]
    plt.close(big)


def test_secret_bars_are_marked_s():
    data, zones, options = CASES["secret bars"]
    fig = bar_figure(data, zones, **options)
    marks = [t.get_text() for t in fig.axes[0].texts]
    assert marks[0] == "s" and marks[1] == "1 234".replace(" ", "\u202f")
    plt.close(fig)


def test_marks_near_the_reference_line_stay_readable():
    # Bars ending just short of 100 put their value where the dotted line runs: the
    # marks sit on a white ground drawn over the line, not struck through by it.
    data = frame(["Foyers allocataires"], SHORT, unit="ratio", value=lambda i, z: 98.5 + 0.1 * z)
    fig = bar_figure(data, SHORT, reference=100.0)
    axes = fig.axes[0]
    line = next(artist for artist in axes.lines if artist.get_linestyle() == ":")
    for mark in axes.texts:
        ground = mark.get_bbox_patch()
        assert ground is not None and ground.get_facecolor()[:3] == (1.0, 1.0, 1.0), mark.get_text()
        assert mark.get_zorder() > line.get_zorder()
    plain = bar_figure(frame(["Au RSA"], SHORT), SHORT)
    assert all(mark.get_bbox_patch() is None for mark in plain.axes[0].texts)
    plt.close(fig)
    plt.close(plain)


def test_line_chart_breaks_at_a_hidden_year_and_marks_it_s():
    """Issue 13: a hidden year is marked ``s`` and never interpolated across; same bytes twice."""
    import math

    import pandas as pd

    from abs_report.figures import charts

    years = [2020, 2021, 2022, 2023, 2024]
    rows = [{"item": "Foyers au RSA", "zone": zone, "year": y, "value": 100.0 + k,
             "status": "secret_secondary" if (zone == "Ville" and y == 2022) else "published"}
            for zone in ("Ville", "Isère") for k, y in enumerate(years)]
    frame = pd.DataFrame(rows)
    fig = charts.line_figure(frame, ["Ville", "Isère"], years, reference=100.0)
    ax = fig.axes[0]
    town = next(line for line in ax.get_lines() if line.get_label() == "Ville")
    assert math.isnan(town.get_ydata()[2]) and not math.isnan(town.get_ydata()[1])
    assert [t.get_text() for t in ax.texts] == ["s"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in years]
    assert charts.line_svg(frame, ["Ville", "Isère"], years) == charts.line_svg(frame, ["Ville", "Isère"], years)


@pytest.mark.parametrize("items", [1, 2, 4, 5])
def test_every_text_of_the_index_chart_lies_inside_the_figure(items):
    """The index chart's panel titles, its axis title and its tick labels (``97,5``) stay inside the
    figure: the first row's titles and the axis title were cut at its top and left edges."""
    from abs_report.figures import charts

    years = [2020, 2021, 2022, 2023, 2024]
    names = ["Foyers allocataires", "Foyers bénéficiaires du RSA", "Foyers bénéficiaires de la prime "
             "d'activité", "Foyers bénéficiaires d'une aide au logement", "Personnes couvertes"][:items]
    rows = [{"item": item, "zone": zone, "year": y, "value": 100.0 - (i + 1) * k * 0.6 + z,
             "status": "published"} for i, item in enumerate(names) for z, zone in enumerate(LONG)
            for k, y in enumerate(years)]
    fig = charts.line_figure(pd.DataFrame(rows), LONG, years, reference=100.0,
                             ylabel="indice (base 100 en 2020)")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer, edge = canvas.get_renderer(), fig.bbox
    shown = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        low, high = sorted(ax.get_ylim())
        shown += [ax.title, ax.yaxis.label]
        shown += [t.label1 for t in ax.yaxis.get_major_ticks() if low - 1e-9 <= t.get_loc() <= high + 1e-9]
    texts = [t for t in shown if t.get_visible() and t.get_text().strip()]
    assert any(t.get_text() == "indice (base 100 en 2020)" for t in texts)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    boxes += [("legend", legend.get_window_extent(renderer)) for legend in fig.legends]
    for name, box in boxes:
        assert box.x0 >= edge.x0 - 1 and box.x1 <= edge.x1 + 1, (items, name, box, edge)
        assert box.y0 >= edge.y0 - 1 and box.y1 <= edge.y1 + 1, (items, name, box, edge)
    plt.close(fig)
