"""abs-report batch: complete folders, skips, selective rebuilds, failures, Dask, Ctrl-C.

One small batch (two communes of Grenoble-Alpes-Métropole and the EPCI, HTML
only, one territory made to fail) is built once per module and then re-run
in the ways a user would; each run is a real ``abs-report batch`` command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from abs_report.batch import FINGERPRINT_FILE
from abs_report.cli import main

COMMUNES = ("38057", "38150")
EPCI = "200040715"
FAILING = "38151"
FAULTS = Path(__file__).parent / "fault_injection"
BUILT = (*COMMUNES, EPCI)


def _params(folder: Path, level: str, code: str, recipient: str = "CCAS de test") -> Path:
    path = folder / f"{level}-{code}.yml"
    path.write_text(f'territory:\n  level: {level}\n  code: "{code}"\nyear: 2024\n'
                    f"recipient: {recipient}\npurpose: Test du traitement par lots\n"
                    "formats: [html]\n", encoding="utf-8")
    return path


def _batch(outputs: Path, params_dir: Path, *extra: str) -> int:
    return main(["batch", "--departement", "38", "--year", "2024", "--params-dir", str(params_dir),
                 "--outputs", str(outputs), "--workers", "2", *extra])


def _summary(outputs: Path) -> dict:
    latest = max(outputs.glob("batch-*.json"), key=lambda p: p.stat().st_mtime_ns)
    return json.loads(latest.read_text(encoding="utf-8"))


def _statuses(outputs: Path) -> dict[str, str]:
    return {r["zone_code"]: r["status"] for r in _summary(outputs)["reports"]}


@pytest.fixture(scope="module")
def first_batch(tmp_path_factory):
    """Three territories built, one failing on purpose."""
    root = tmp_path_factory.mktemp("batch")
    params_dir, outputs = root / "params", root / "outputs"
    params_dir.mkdir()
    for code in (*COMMUNES, FAILING):
        _params(params_dir, "commune", code)
    _params(params_dir, "epci", EPCI)
    # Spawned workers start with build_report failing for FAILING (tests/fault_injection).
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "ABS_REPORT_TEST_FAIL_CODES")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAULTS), saved["PYTHONPATH"]]))
    os.environ["ABS_REPORT_TEST_FAIL_CODES"] = FAILING
    try:
        status = _batch(outputs, params_dir)
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value
    return {"status": status, "outputs": outputs, "params_dir": params_dir, "summary": _summary(outputs)}


def test_failure_does_not_stop_the_others(first_batch):
    assert first_batch["status"] == 1
    summary = first_batch["summary"]
    assert summary["counts"] == {"built": 3, "skipped": 0, "failed": 1}
    [failure] = summary["failures"]
    assert failure["zone_code"] == FAILING and f"échec provoqué pour le test ({FAILING})" in failure["reason"]
    assert not (first_batch["outputs"] / FAILING).exists()


def test_every_output_folder_is_complete(first_batch):
    for code in BUILT:
        folder = first_batch["outputs"] / code / "2024"
        names = {p.name for p in folder.iterdir()}
        assert {"report.html", "report.ipynb", "published.csv", "tables.xlsx", "manifest.json",
                FINGERPRINT_FILE} <= names, code
        assert "report.pdf" not in names  # formats: [html]
        notebook = json.loads((folder / "report.ipynb").read_text(encoding="utf-8"))
        assert notebook["metadata"]["papermill"]["parameters"]["published_csv"] == "published.csv"
    # no scratch folder left behind
    assert not [p for p in (first_batch["outputs"] / ".batch-work").glob("*")]


def test_catalogue_lists_every_report(first_batch):
    page = (first_batch["outputs"] / "index.html").read_text(encoding="utf-8")
    for code in BUILT:
        assert f'href="{code}/2024/report.html"' in page
    assert "http://" not in page and "https://" not in page


def test_second_run_skips_all_then_one_change_rebuilds_one(first_batch):
    outputs, params_dir = first_batch["outputs"], first_batch["params_dir"]
    (params_dir / f"commune-{FAILING}.yml").unlink()
    before = {c: (outputs / c / "2024" / "report.html").stat().st_mtime_ns for c in BUILT}
    assert _batch(outputs, params_dir) == 0
    assert set(_statuses(outputs).values()) == {"skipped"}

    _params(params_dir, "commune", COMMUNES[0], recipient="CCAS modifié")
    assert _batch(outputs, params_dir) == 0
    assert _statuses(outputs) == {COMMUNES[0]: "built", COMMUNES[1]: "skipped", EPCI: "skipped"}
    after = {c: (outputs / c / "2024" / "report.html").stat().st_mtime_ns for c in BUILT}
    assert after[COMMUNES[0]] != before[COMMUNES[0]]
    assert all(after[c] == before[c] for c in BUILT[1:])
    assert "CCAS modifié" in (outputs / COMMUNES[0] / "2024" / "report.html").read_text(encoding="utf-8")


def test_prewarm_of_a_cached_batch_protects_and_decodes_nothing(first_batch, monkeypatch):
    """Every year of every scope is in the mask cache after the first batch: prewarm only reads
    the cache's metadata (workers decode what they use), it starts no mask computation."""
    from abs_report import batch, pipeline
    from abs_report.geography import load_geography
    from abs_report.secrecy import mask

    jobs = batch.plan(load_geography(), "38", 2024, levels=["commune", "epci"], zones=[*COMMUNES, EPCI],
                      params_dir=first_batch["params_dir"], root=first_batch["outputs"])
    assert len(jobs) == 3
    monkeypatch.setattr(pipeline, "protect_years", lambda *a, **k: pytest.fail(f"protected again: {a[-1]}"))
    monkeypatch.setattr(mask, "_decode", lambda *a: pytest.fail("prewarm decoded a cached mask"))
    batch.prewarm(jobs)


def test_dask_executor_gives_the_same_published_csv(first_batch, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        status = main(["batch", "--departement", "38", "--year", "2024", "--params-dir",
                       str(first_batch["params_dir"]), "--zones", COMMUNES[1], "--outputs", str(tmp_path),
                       "--executor", "dask", "--scheduler", cluster.scheduler_address])
    assert status == 0
    local = first_batch["outputs"] / COMMUNES[1] / "2024" / "published.csv"
    assert (tmp_path / COMMUNES[1] / "2024" / "published.csv").read_bytes() == local.read_bytes()


def test_bad_selection_is_exit_2(tmp_path, capsys):
    assert main(["batch", "--departement", "38", "--year", "2024", "--zones", "99999",
                 "--outputs", str(tmp_path)]) == 2
    assert "99999" in capsys.readouterr().err


def _tagged_processes(tag: str) -> list[int]:
    """Processes whose environment carries ``tag`` (the batch, its workers, zygotes, kernels)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_leaves_no_kernel_and_no_partial_report(tmp_path):
    params_dir = tmp_path / "params"
    params_dir.mkdir()
    for code in COMMUNES:
        _params(params_dir, "commune", code)
    tag = f"ABS_BATCH_TEST_TAG={uuid.uuid4().hex}"
    env = {**os.environ, tag.split("=")[0]: tag.split("=")[1]}
    outputs = tmp_path / "outputs"
    process = subprocess.Popen([sys.executable, "-m", "abs_report.cli", "batch", "--departement", "38",
                                "--year", "2024", "--params-dir", str(params_dir), "--outputs", str(outputs),
                                "--force", "--workers", "1"], env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # One worker: wait until it has published its first report (a whole papermill run,
    # which used to reset its signal handlers) and builds the second, then press Ctrl-C:
    # SIGINT to the whole group.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(outputs.glob("*/2024/report.html")):
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)  # second Ctrl-C: stop now
        process.wait(30)
    time.sleep(1.0)
    assert _tagged_processes(tag.split("=")[1]) == []
    assert process.returncode in (0, 130)
    for folder in outputs.glob("*/2024"):
        assert {"report.html", "published.csv", "manifest.json", "tables.xlsx"} <= {p.name for p in folder.iterdir()}
    # The reports being built when Ctrl-C came were finished, not abandoned: neither
    # their kernel (papermill's own SIGINT handler) nor their pandoc process (in the
    # terminal's process group) may take the key press for themselves.
    summaries = list(outputs.glob("batch-*.json"))
    assert summaries, process.stderr.read().decode()
    summary = json.loads(summaries[0].read_text())
    assert summary["counts"]["failed"] == 0, summary
    assert summary["counts"]["built"] >= 2, summary
