"""``abs-report reissue``: correcting one commune's figure re-issues exactly the reports
that show it — the commune, its EPCI and the département — and no others.

Five reports on the small imported dataset (HTML only): Villard-de-Lans (compared
with its EPCI, Isère, the région and France), its EPCI, Isère, and two reports that
do not show Villard-de-Lans' figures: Lans-en-Vercors (same EPCI, no comparison
zone) and the other EPCI (no comparison zone). The CAF then corrects Villard-de-Lans'
foyers allocataires for 2024 (1 515 -> 1 530).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest

from abs_report import manifest as mf
from abs_report.cli import main
from abs_report.pipeline import render_report
from abs_report.reissue import reissue
from fixture_dataset import LANS, OTHER_EPCI, VERCORS, VILLARD, make_dataset, write_params_file

pytestmark = pytest.mark.slow

REPORTS = {
    VILLARD: (("commune", VILLARD), "CCAS de Villard-de-Lans", None),
    VERCORS: (("epci", VERCORS), "CC du Massif du Vercors", None),
    "38": (("departement", "38"), "Département de l'Isère", None),
    LANS: (("commune", LANS), "CCAS de Lans-en-Vercors", []),
    OTHER_EPCI: (("epci", OTHER_EPCI), "CC de l'autre EPCI", []),
}
AFFECTED = {VILLARD, VERCORS, "38"}


def _snapshot(folder):
    """Every file's name, size and modification time (nanoseconds), and the folder's own."""
    files = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}
    return files, folder.stat().st_mtime_ns


@pytest.fixture(scope="module")
def reissued(tmp_path_factory, geography):
    root = tmp_path_factory.mktemp("reissue")
    make_dataset(root, geography)
    outputs = root / "outputs"
    folders = {}
    for code, (territory, recipient, comparison) in REPORTS.items():
        params = write_params_file(root / "params" / f"{code}.yml", territory, recipient,
                                   comparison_zones=comparison)
        folders[code] = render_report(params, root=outputs, geography=geography)
    before = {code: _snapshot(f) for code, f in folders.items()}
    first_html = {code: (f / "report.html").read_bytes() for code, f in folders.items()}
    corrected = make_dataset(root, geography, name="corrected",
                             corrections={(VILLARD, 2024, "foyers_allocataires"): 1530})
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["reissue", "--corrected-data", str(corrected), "--reports", str(outputs),
                       "--date", "2025-03-14"])
    return {"root": root, "outputs": outputs, "folders": folders, "before": before, "status": status,
            "first_html": first_html, "corrected": corrected, "printed": printed.getvalue()}


def test_the_corrected_figure_is_what_the_fixture_changed(reissued):
    rows = {(r["table_id"], r["zone_code"], r["measure"]): r["value"] for r in
            csv.DictReader((reissued["folders"][VILLARD] / "published.csv").open(encoding="utf-8"))}
    assert rows[("T01_vue_ensemble", VILLARD, "foyers_allocataires")] == "1515"


def test_exactly_the_reports_showing_the_figure_are_reissued(reissued):
    assert reissued["status"] == 0
    for code, folder in reissued["folders"].items():
        has_v2 = (folder / "manifest-v2.json").exists()
        assert has_v2 == (code in AFFECTED), code


def test_unaffected_reports_are_not_touched(reissued):
    for code in set(REPORTS) - AFFECTED:
        folder = reissued["folders"][code]
        assert _snapshot(folder) == reissued["before"][code], code


def test_first_version_is_kept_and_version_2_written(reissued):
    for code in AFFECTED:
        folder = reissued["folders"][code]
        assert (folder / "report.html").read_bytes() == reissued["first_html"][code]
        for name in ("report-v2.html", "report-v2.ipynb", "published-v2.csv", "tables-v2.xlsx",
                     "manifest-v2.json", "params-v2.yml"):
            assert (folder / name).is_file(), (code, name)
        manifest = mf.read(folder)["reproducible"]
        assert manifest["version"] == 2 and manifest["edition"] == "2025-03-14"
        assert manifest["erratum"]["replaces"] == {"version": 1, "edition": "2024-12-31"}


def test_corrected_values_in_published_v2(reissued):
    rows = {(r["table_id"], r["zone_code"], r["measure"]): r["value"] for r in
            csv.DictReader((reissued["folders"][VILLARD] / "published-v2.csv").open(encoding="utf-8"))}
    assert rows[("T01_vue_ensemble", VILLARD, "foyers_allocataires")] == "1530"


def test_erratum_box_lists_the_corrected_figure_old_and_new(reissued):
    html = (reissued["folders"][VILLARD] / "report-v2.html").read_text(encoding="utf-8")
    erratum = html[html.index('class="erratum"'):]
    erratum = erratum[:erratum.index("</table>")]
    assert "Erratum" in erratum and "14 mars 2025" in erratum
    row = next(r for r in erratum.split("<tr") if "Villard-de-Lans" in r and "Foyers allocataires" in r)
    assert "1\u202f515" in row and "1\u202f530" in row
    assert "Erratum" not in (reissued["folders"][VILLARD] / "report.html").read_text(encoding="utf-8")


def test_list_of_reports_to_notify(reissued):
    printed = reissued["printed"]
    assert "3 rapport(s) réédité(s), 2 inchangé(s)" in printed
    for code in AFFECTED:
        assert REPORTS[code][1] in printed
    for code in set(REPORTS) - AFFECTED:
        assert REPORTS[code][1] not in printed
    outputs = reissued["outputs"]
    listing = json.loads((outputs / "reissue-2025-03-14.json").read_text(encoding="utf-8"))
    assert {r["code"] for r in listing["reissued"]} == AFFECTED
    assert {r["destinataire"] for r in listing["reissued"]} == {REPORTS[c][1] for c in AFFECTED}
    assert len(listing["unchanged"]) == len(REPORTS) - len(AFFECTED)
    with (outputs / "reissue-2025-03-14.csv").open(encoding="utf-8") as handle:
        assert {r["code"] for r in csv.DictReader(handle)} == AFFECTED


def test_reissuing_again_with_the_same_data_changes_nothing(reissued, geography):
    outcome = reissue(reissued["corrected"], reissued["outputs"], geography=geography,
                      day=__import__("datetime").date(2025, 3, 15))
    assert outcome.reissued == []
    assert not any((f / "manifest-v3.json").exists() for f in reissued["folders"].values())


def test_reissued_version_verifies(reissued, capsys):
    status = main(["verify", str(reissued["folders"][VILLARD])])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "(version 2)" in out and "report-v2.html" in out


def test_one_forged_manifest_stops_the_reissue_before_anything_is_written(reissued, tmp_path, capsys):
    """Every manifest is checked first: a report folder sent by someone else cannot half-run a re-issue."""
    import shutil

    outputs = tmp_path / "outputs"
    shutil.copytree(reissued["outputs"], outputs)
    forged = outputs / "zz" / "2024"
    forged.mkdir(parents=True)
    manifest = json.loads((reissued["folders"][LANS] / "manifest.json").read_text(encoding="utf-8"))
    manifest["reproducible"]["parameters"]["name"] = str(tmp_path / "victim.sh")
    manifest["reproducible"]["version"] = "1; rm -rf ~"
    (forged / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = sorted((str(p), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    status = main(["reissue", "--corrected-data", str(reissued["corrected"]), "--reports", str(outputs),
                   "--date", "2025-04-01"])
    err = capsys.readouterr().err
    assert status == 2 and "zz/2024/manifest.json" in err and "reproducible.version" in err
    assert "reproducible.parameters.name" in err
    assert sorted((str(p), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before
