"""Presentation: French tables, charts and sentences, from published rows only.

Every number shown comes from ``published.csv`` (already protected), so the
presentation can neither leak a secret nor print a number the CSV lacks.

- :mod:`.lookup`: the published rows, looked up by table, zone, item and year;
- :mod:`.labels`: French labels and definitions of measures;
- :mod:`.text`: source lines, notes, the closing section, the erratum box
  (texts only: the main process uses them without drawing anything);
- :mod:`.sentences`: the generated sentences of the synthèse and evolution chapters;
- :mod:`.tables`: tables as Markdown;
- :mod:`.charts`: bar charts as SVG (matplotlib, in seaborn's look);
- :mod:`.view`: :class:`~.view.ReportView`, which assembles a chapter, and
  :func:`~.view.show`, which displays it in the notebook.
"""
