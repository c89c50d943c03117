"""manifest.json pieces that need no rendering (the small dataset lives in ``fixture_dataset``)."""

from __future__ import annotations

import datetime as dt
import json
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from abs_report import manifest as mf
from abs_report.published import compare_published, published_rows
from abs_report.verify import check_inputs


# --- versions ------------------------------------------------------------------------------------

def test_version_file_names():
    assert mf.versioned("report.pdf", 1) == "report.pdf"
    assert mf.versioned("report.pdf", 2) == "report-v2.pdf"
    assert mf.versioned("published.csv", 3) == "published-v3.csv"
    assert mf.versioned("manifest.json", 2) == "manifest-v2.json"


def test_versions_of_a_folder(tmp_path):
    assert mf.versions(tmp_path) == []
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "manifest-v2.json").write_text("{}")
    (tmp_path / "manifest-vx.json").write_text("{}")
    assert mf.versions(tmp_path) == [1, 2]


# --- the executed notebook -----------------------------------------------------------------------

def _executed_notebook(path: Path, output: str = "42", when: str = "2026-01-01T10:00:00") -> Path:
    """A notebook as papermill leaves it: timings in cell and notebook metadata, random ids."""
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]})
    injected["id"] = "a1b2c3d4"
    cell = nbformat.v4.new_code_cell("print(x)")
    cell["id"] = "cell-2"
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    for c in (injected, cell):
        c.metadata["papermill"] = {"start_time": when, "end_time": when, "duration": 0.123,
                                   "exception": False, "status": "completed"}
        c.metadata["execution"] = {"iopub.execute_input": when, "shell.execute_reply": when}
    nb.cells = [injected, cell]
    nb.metadata["papermill"] = {"start_time": when, "end_time": when, "duration": 1.5,
                                "input_path": str(mf.PROJECT_ROOT / "notebooks" / "report.ipynb"),
                                "output_path": str(path.resolve()), "parameters": {"x": "1"}}
    nbformat.write(nb, str(path))
    return path


def test_notebook_digest_ignores_only_the_timings(tmp_path):
    first = _executed_notebook(tmp_path / "a.ipynb", when="2026-01-01T10:00:00")
    later = _executed_notebook(tmp_path / "b.ipynb", when="2026-03-04T23:59:59.999999")
    other = _executed_notebook(tmp_path / "c.ipynb", output="43", when="2026-01-01T10:00:00")
    for path in (first, later, other):
        mf.normalise_notebook(path)
    assert first.read_bytes() != later.read_bytes()  # the file keeps its timings...
    assert mf.notebook_digest(first) == mf.notebook_digest(later)  # ...the hash leaves them out
    assert mf.notebook_digest(first) != mf.notebook_digest(other)  # and nothing else


def test_normalised_notebook_has_no_scratch_path_nor_random_id(tmp_path):
    path = _executed_notebook(tmp_path / "report.ipynb")
    mf.normalise_notebook(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["input_path"] == "notebooks/report.ipynb"
    assert nb["metadata"]["papermill"]["output_path"] == "report.ipynb"
    assert nb["cells"][0]["id"] == mf.INJECTED_CELL_ID
    assert nb["cells"][0]["metadata"]["papermill"]["duration"] == 0.123  # timings stay in the file


def test_manifest_marks_the_fields_left_out_of_the_notebook_hash(tmp_path):
    entry = mf.output_digest(_executed_notebook(tmp_path / "report.ipynb"))
    assert entry["excluded_fields"] == list(mf.TIMING_FIELDS)
    assert "size" not in entry  # the timings' digits change the length


# --- tables.xlsx -----------------------------------------------------------------------------------

def test_workbook_bytes_do_not_depend_on_the_clock(tmp_path):
    import pandas as pd

    from abs_report.published import COLUMNS
    from abs_report.tables import SPECS
    from abs_report.workbook import write

    rows = pd.DataFrame([("T01_vue_ensemble", "38548", "commune", 2024, "foyers_allocataires", "count",
                          "", "", 1515.0, "published")], columns=list(COLUMNS))
    zones = {("commune", "38548"): "Villard-de-Lans"}
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write(first, SPECS[:2], rows, zones, "Source : Caf de l'Isère.", stamp=dt.date(2024, 12, 31))
    time.sleep(1.1)  # unless told otherwise the writer stamps the document with the clock
    write(second, SPECS[:2], rows, zones, "Source : Caf de l'Isère.", stamp=dt.date(2024, 12, 31))
    assert first.read_bytes() == second.read_bytes()
    core = zipfile.ZipFile(first).read("docProps/core.xml").decode()
    assert "2024-12-31T00:00:00Z" in core


# --- published.csv, cell by cell -----------------------------------------------------------------

HEADER = "table_id,zone_code,zone_level,year,measure,unit,numerator,denominator,value,status\n"


def test_compare_published_names_each_changed_cell():
    before = published_rows((HEADER + "T01,38548,commune,2024,foyers_allocataires,count,,,1515,published\n"
                             "T01,38548,commune,2024,foyers_rsa,count,,,3,secret_primary\n").encode())
    after = published_rows((HEADER + "T01,38548,commune,2024,foyers_allocataires,count,,,1530,published\n"
                            "T01,38548,commune,2024,foyers_rsa,count,,,,secret_primary\n"
                            "T01,38,departement,2024,foyers_rsa,count,,,120,published\n").encode())
    changes = compare_published(before, after)
    assert [(c.zone_code, c.measure, c.before, c.after, c.columns) for c in changes] == [
        ("38548", "foyers_allocataires", "1515", "1530", ("value",)),
        ("38548", "foyers_rsa", "3", "", ("value",)),
        ("38", "foyers_rsa", "", "120", ("row",)),
    ]


def test_identical_published_files_have_no_change():
    rows = published_rows((HEADER + "T01,38548,commune,2024,foyers_allocataires,count,,,1515,published\n").encode())
    assert compare_published(rows, dict(rows)) == []


# --- inputs against the manifest -------------------------------------------------------------------

def _recorded_inputs(report: Path, data: Path) -> dict:
    files = [{"role": "dataset", "path": mf.relative(data / n, report), **mf.fingerprint(data / n)}
             for n in mf.DATASET_FILES]
    return {"parameters": {"resolved": {"dataset_folder": mf.relative(data, report)}},
            "inputs": files, "dataset": {"synthetic": False}}


def test_changed_or_missing_input_names_the_file_and_both_hashes(tmp_path):
    data, report = tmp_path / "data", tmp_path / "outputs" / "38548" / "2024"
    data.mkdir()
    report.mkdir(parents=True)
    for name in mf.DATASET_FILES:
        (data / name).write_text(name)
    recorded = _recorded_inputs(report, data)
    assert check_inputs(report, recorded).resolve() == data.resolve()

    old = mf.sha256(data / "observations.parquet")
    (data / "observations.parquet").write_text("corrigé")
    (data / "dataset.json").unlink()
    from abs_report.errors import InputError

    with pytest.raises(InputError) as err:
        check_inputs(report, recorded)
    text = str(err.value)
    assert "observations.parquet" in text and old in text and mf.sha256(data / "observations.parquet") in text
    assert "dataset.json" in text and "introuvable" in text
    assert err.value.exit_status == 2


def test_data_dir_replaces_the_recorded_location(tmp_path):
    data, report, moved = tmp_path / "data", tmp_path / "outputs" / "x" / "2024", tmp_path / "elsewhere" / "d"
    for folder in (data, report, moved):
        folder.mkdir(parents=True)
    for name in mf.DATASET_FILES:
        (data / name).write_text(name)
        (moved / name).write_text(name)
    recorded = _recorded_inputs(report, data)
    assert check_inputs(report, recorded, data_dir=moved) == moved
