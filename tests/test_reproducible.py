"""Same inputs, same bytes: one parameter file rendered twice, into two folders.

published.csv, the PDF, the HTML and tables.xlsx come out byte for byte the
same; the executed notebook too once papermill's timings are left out (the
only fields the manifest marks as excluded). The manifest's reproducible part
is the same and holds no absolute path.
"""

from __future__ import annotations

import json

import pytest

from abs_report import manifest as mf
from abs_report.pipeline import render_report
from fixture_dataset import VILLARD, make_dataset, write_params_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_renders(tmp_path_factory, geography):
    root = tmp_path_factory.mktemp("reproducible")
    make_dataset(root, geography)
    params = write_params_file(root / "params" / "villard.yml", ("commune", VILLARD),
                               "CCAS de Villard-de-Lans", formats=("pdf", "html"))
    return [render_report(params, root=root / name, geography=geography) for name in ("first", "second")]


@pytest.mark.parametrize("name", ["published.csv", "report.pdf", "report.html", "tables.xlsx"])
def test_outputs_are_byte_identical(two_renders, name):
    first, second = two_renders
    assert (first / name).read_bytes() == (second / name).read_bytes()


def test_notebook_identical_but_for_papermill_timings(two_renders):
    first, second = two_renders
    assert mf.notebook_digest(first / "report.ipynb") == mf.notebook_digest(second / "report.ipynb")
    first_nb = json.loads((first / "report.ipynb").read_text(encoding="utf-8"))
    assert "start_time" in first_nb["metadata"]["papermill"]  # kept in the file, left out of the hash
    assert first_nb["metadata"]["papermill"]["output_path"] == "report.ipynb"


def test_manifest_reproducible_part_is_identical(two_renders):
    first, second = (json.loads((f / "manifest.json").read_text(encoding="utf-8"))["reproducible"]
                     for f in two_renders)
    # Another engineer may commit between the two renders of this shared checkout.
    first.pop("code"), second.pop("code")
    assert first == second


def test_manifest_records_what_the_issue_lists(two_renders):
    folder = two_renders[0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rep, run = manifest["reproducible"], manifest["run"]
    assert rep["parameters"]["as_given"]["territory"]["code"] == VILLARD
    assert rep["parameters"]["text"] == (folder.parents[2] / "params" / "villard.yml").read_text(encoding="utf-8")
    assert rep["parameters"]["resolved"]["comparison_zones"][0]["code"] == "243801024"
    assert {i["role"] for i in rep["inputs"]} == {"dataset", "source"}
    for item in rep["inputs"]:
        assert (folder / item["path"]).is_file() and mf.sha256(folder / item["path"]) == item["sha256"]
    assert rep["secrecy"]["rules_version"] and len(rep["secrecy"]["mask_hash"]) == 64
    assert set(rep["code"]) >= {"commit", "dirty"}
    env = rep["environment"]
    assert env["python"] and env["pandoc"] and env["typst"] and env["packages"]["papermill"]
    assert rep["renderer"] == "builtin"
    assert rep["edition"] == "2024-12-31"  # the data's reference date, not the clock
    assert set(rep["outputs"]) == {"published.csv", "report.pdf", "report.html", "report.ipynb", "tables.xlsx"}
    for name, entry in rep["outputs"].items():
        digest = mf.notebook_digest if name.endswith(".ipynb") else mf.sha256
        assert digest(folder / entry["file"]) == entry["sha256"]
    assert {"started_at", "finished_at", "host"} <= set(run)


def test_manifest_paths_are_relative(two_renders):
    folder = two_renders[0]
    rep = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reproducible"]
    paths = [rep["parameters"]["path"], rep["parameters"]["resolved"]["dataset_folder"]]
    paths += [i["path"] for i in rep["inputs"]]
    assert not any(p.startswith("/") for p in paths), paths
    assert (folder / rep["parameters"]["path"]).resolve() == (folder.parents[2] / "params" / "villard.yml")
