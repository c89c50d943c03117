"""The naive path a batch is measured against: one territory after another, papermill's
CLI (``-r`` string parameters, a new kernel that imports everything), then a separate
render process.

Data preparation (reading the data, protecting it) is done beforehand for both paths
and is not timed here, so the comparison is the per-report execution and rendering
path only, which favours the naive side.

``python -m benchmarks.naive render FOLDER``: the separate render process (PDF, HTML,
workbook, manifest) for a folder whose notebook papermill has executed.
"""

from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path


def prepare_folder(prepared, folder: Path) -> list[str]:
    """Write what the notebook reads; return papermill's command line for this folder."""
    from abs_report import published as pub
    from abs_report.execute import NOTEBOOK

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "published.csv").write_bytes(pub.to_csv(prepared.published))
    with open(folder / "prepared.pkl", "wb") as stream:
        pickle.dump(prepared, stream)
    context_json = prepared.context.to_json()
    return [sys.executable, "-m", "papermill", str(NOTEBOOK), str(folder / "report.ipynb"),
            "-r", "context_json", context_json, "-r", "published_csv", "published.csv",
            "--cwd", str(folder), "-k", "python3", "--no-progress-bar"]


def render_folder(folder: Path) -> None:
    """PDF, HTML, workbook and manifest from an executed notebook (what build_report does next)."""
    from abs_report import manifest, render, workbook
    from abs_report.figures.text import source_line
    from abs_report.pipeline import default_edition, render_metadata
    from abs_report.tables import SPECS

    with open(folder / "prepared.pkl", "rb") as stream:
        prepared = pickle.load(stream)
    (folder / "prepared.pkl").unlink()
    edition = default_edition(prepared.params)
    notebook = folder / "report.ipynb"
    manifest.normalise_notebook(notebook)
    work = folder / ".render"
    work.mkdir()
    produced = render.render(notebook, work, render_metadata(prepared, edition), tuple(prepared.params.formats),
                             "builtin")
    for name, path in produced.items():
        shutil.move(str(path), folder / f"report.{name}")
    shutil.rmtree(work)
    workbook.write(folder / "tables.xlsx", SPECS, prepared.published, prepared.context.zone_names(),
                   source_line(prepared.context), stamp=edition)
    import datetime as dt

    manifest.write(folder, prepared, "builtin", edition, dt.datetime.now(dt.timezone.utc))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "render":
        sys.exit("usage: python -m benchmarks.naive render FOLDER")
    render_folder(Path(sys.argv[2]))
