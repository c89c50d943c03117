"""``abs-report verify``: passes on an untouched report (even copied elsewhere), fails
with exit 1 and a precise diff after one published value is edited, and with exit 2,
before re-running anything, when an input file changed or is missing."""

from __future__ import annotations

import shutil

import pytest

from abs_report import manifest as mf
from abs_report.cli import main
from abs_report.pipeline import render_report
from fixture_dataset import VILLARD, make_dataset, write_params_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(tmp_path_factory, geography):
    """root/data (imported), root/params/villard.yml, root/outputs/38548/2024 (HTML only)."""
    root = tmp_path_factory.mktemp("verify")
    data = make_dataset(root, geography)
    params = write_params_file(root / "params" / "villard.yml", ("commune", VILLARD), "CCAS de Villard-de-Lans")
    report = render_report(params, root=root / "outputs", geography=geography)
    return root, data, report


def test_untouched_report_copied_elsewhere_verifies(setup, tmp_path, capsys):
    root, _, _ = setup
    # Another machine: the same data files and report folder, in another place (paths are relative).
    copy = tmp_path / "machine-b"
    for name in ("data", "data.csv", "outputs"):
        (shutil.copytree if (root / name).is_dir() else shutil.copy2)(root / name, copy / name)
    status = main(["verify", str(copy / "outputs" / VILLARD / "2024")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "toutes identiques" in out and "reproduit à l'identique" in out
    assert "DIFFÉRENT" not in out


def _edit_one_value(published, zone: str, measure: str, table: str, new: str) -> str:
    lines = published.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == table and cells[1] == zone and cells[4] == measure:
            old, cells[8] = cells[8], new
            lines[i] = ",".join(cells)
            published.write_text("".join(lines), encoding="utf-8")
            return old
    raise AssertionError("row not found")


def test_one_edited_value_fails_with_a_precise_diff(setup, tmp_path, capsys):
    root, data, report = setup
    edited = tmp_path / "edited"
    shutil.copytree(report, edited)
    old = _edit_one_value(edited / "published.csv", VILLARD, "foyers_allocataires", "T01_vue_ensemble", "9999")
    status = main(["verify", str(edited), "--data-dir", str(data)])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "1 différence(s)" in out
    diff_rows = [line.split() for line in out.splitlines() if line.startswith("Villard-de-Lans (38548)")]
    assert diff_rows == [["Villard-de-Lans", "(38548)", "foyers_allocataires", "2024", "T01_vue_ensemble",
                          "9999", old]]
    hash_rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()
                 if line.startswith(("published.csv", "report.html", "report.ipynb"))}
    assert hash_rows == {"published.csv": "DIFFÉRENT", "report.html": "identique", "report.ipynb": "identique"}
    assert "PAS reproduit" in out


def test_changed_input_exits_2_naming_the_file_and_both_hashes(setup, tmp_path, geography, capsys):
    _, _, report = setup
    changed = make_dataset(tmp_path, geography, corrections={(VILLARD, 2024, "foyers_rsa"): 99})
    recorded = {i["path"].rsplit("/", 1)[-1]: i["sha256"] for i in mf.read(report)["reproducible"]["inputs"]}
    status = main(["verify", str(report), "--data-dir", str(changed)])
    err = capsys.readouterr().err
    assert status == 2
    assert "observations.parquet" in err and "modifié" in err
    assert recorded["observations.parquet"] in err and mf.sha256(changed / "observations.parquet") in err


def test_missing_input_exits_2(setup, tmp_path, capsys):
    _, _, report = setup
    status = main(["verify", str(report), "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert status == 2
    assert "dataset.json" in err and "introuvable" in err


def test_not_a_report_folder_exits_2(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_report_folder_has_ordinary_modes(setup):
    """Published folders are not mkdtemp's 0700: readable by others as any folder the user creates."""
    import os
    import stat

    _, _, report = setup
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(report.stat().st_mode) == 0o777 & ~mask
    for name in ("published.csv", "manifest.json", "report.html"):
        assert stat.S_IMODE((report / name).stat().st_mode) == 0o666 & ~mask, name
