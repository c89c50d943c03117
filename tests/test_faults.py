"""Faults: kill -9 at each publishing step, overlapping publications, orphans, leftovers, modes.

A kill is simulated in a forked child: the step after which to die is wrapped so
that the child calls ``os._exit`` right after it (no ``finally``, no ``atexit``,
like ``kill -9``). Every test is structural: none measures time.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from abs_report import atomic, pipeline
from abs_report.cli import main
from secrecy_fixtures import SolveStopped, spy_presolve_rules

FILES = pipeline.OUTPUT_FILES
FORK = multiprocessing.get_context("fork")


def _fill(folder: Path, label: str) -> None:
    for name in FILES:
        (folder / name).write_text(f"{label} {name}\n", encoding="utf-8")


def _edition(folder: Path) -> str:
    """``old`` or ``new`` when ``folder`` is a complete report of one edition; fails otherwise."""
    assert folder.is_dir(), f"{folder} is missing"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(FILES), names
    labels = {(folder / n).read_text(encoding="utf-8").split()[0] for n in FILES}
    assert len(labels) == 1, f"mixed editions: {labels}"
    return labels.pop()


def _hidden(parent: Path) -> list[str]:
    """Hidden entries left in a territory folder, its lock file excepted."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


def _run_in_child(target, *args) -> int:
    process = FORK.Process(target=target, args=args)
    process.start()
    process.join(60)
    assert process.exitcode is not None, "child did not finish"
    return process.exitcode


STEPS = ("os.rename", "os.replace", "shutil.rmtree", "atomic.exchange")


def _publish_dying_after(step_number: int, target: Path) -> None:
    """In a child: build a scratch folder, publish, die right after the n-th file-system step."""
    count = [0]

    def dying(original):
        def wrapper(*args, **kwargs):
            result = original(*args, **kwargs)
            count[0] += 1
            if count[0] == step_number:
                os._exit(9)
            return result
        return wrapper

    os.rename = dying(os.rename)
    os.replace = dying(os.replace)
    shutil.rmtree = dying(shutil.rmtree)
    atomic.exchange = dying(atomic.exchange)
    scratch = atomic.scratch_folder(target)
    _fill(scratch, "new")
    pipeline.publish(scratch, target)
    os._exit(0)


@pytest.fixture
def old_report(tmp_path) -> Path:
    target = tmp_path / "outputs" / "38185" / "2024"
    target.mkdir(parents=True)
    _fill(target, "old")
    return target


@pytest.mark.parametrize("portable", [False, True], ids=["renameat2", "portable"])
@pytest.mark.parametrize("step_number", [1, 2, 3, 4])
def test_kill_at_each_publishing_step_leaves_a_complete_report(old_report, monkeypatch, step_number, portable):
    if portable:
        monkeypatch.setattr(atomic, "_RENAMEAT2", None)
    status = _run_in_child(_publish_dying_after, step_number, old_report)
    assert status in (0, 9)
    if not portable:
        # Linux: at every instant the folder is the old report or the new one, never missing.
        assert _edition(old_report) in ("old", "new")
    # The next run (here: the next publication's recovery) restores and cleans.
    atomic.recover(old_report.parent)
    assert _edition(old_report) in ("old", "new")
    assert _hidden(old_report.parent) == []


def test_next_render_removes_scratch_of_a_dead_process(old_report):
    status = _run_in_child(_publish_dying_after, 1, old_report)
    assert status == 9
    if atomic._RENAMEAT2 is not None:
        assert _hidden(old_report.parent), "the killed publication should have left its scratch folder"
    scratch = atomic.scratch_folder(old_report)
    _fill(scratch, "third")
    pipeline.publish(scratch, old_report)
    assert _edition(old_report) == "third"
    assert _hidden(old_report.parent) == []


def test_scratch_of_a_live_process_is_kept(old_report):
    scratch = atomic.scratch_folder(old_report)  # ours: this process is alive
    assert atomic.recover(old_report.parent) == []
    assert scratch.is_dir()


def _publish_many(target: Path, label: str, times: int) -> None:
    for _ in range(times):
        scratch = atomic.scratch_folder(target)
        _fill(scratch, label)
        pipeline.publish(scratch, target)
    os._exit(0)


def test_overlapping_publications_of_one_territory_both_succeed(old_report):
    children = [FORK.Process(target=_publish_many, args=(old_report, label, 150)) for label in ("a", "b", "c")]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert [c.exitcode for c in children] == [0, 0, 0]
    assert _edition(old_report) in ("a", "b", "c")
    assert _hidden(old_report.parent) == []


def test_killed_file_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "mask.json"
    path.write_text("old", encoding="utf-8")

    def half_then_die():
        def writer(tmp):
            Path(tmp).write_text("partial", encoding="utf-8")
            os._exit(9)
        atomic.write_file(path, writer)

    assert _run_in_child(half_then_die) == 9
    assert path.read_text(encoding="utf-8") == "old"
    atomic.recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.json"]


# --- modes -----------------------------------------------------------------------------

def test_published_report_has_ordinary_modes(tmp_path):
    previous = os.umask(0o022)
    try:
        target = tmp_path / "outputs" / "38185" / "2024"
        scratch = atomic.scratch_folder(target)
        _fill(scratch, "new")
        atomic.write_file(scratch / "manifest.json", "{}")
        pipeline.publish(scratch, target)
        cached = atomic.write_file(tmp_path / "cache.parquet", b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o755
    assert {stat.S_IMODE((target / n).stat().st_mode) for n in FILES} == {0o644}
    assert stat.S_IMODE(cached.stat().st_mode) == 0o644


# --- orphans -----------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _sleeping_protect(params, dataset, geography, year, cache=None):
    Path(os.environ["FAULTS_PIDS"], str(os.getpid())).touch()
    time.sleep(120)


def _mask_parent(pids: str) -> None:
    os.environ["FAULTS_PIDS"] = pids
    pipeline.protect_for = _sleeping_protect
    os.cpu_count = lambda: 2
    pipeline.protect_years(None, None, None, (2023, 2024))


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="Linux only (PR_SET_PDEATHSIG)")
def test_forked_mask_workers_die_with_their_parent(tmp_path):
    parent = FORK.Process(target=_mask_parent, args=(str(tmp_path),))
    parent.start()
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    assert len(workers) == 2, "the mask workers did not start"
    os.kill(parent.pid, signal.SIGKILL)
    parent.join(10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # never leave a sleeping worker behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


@pytest.fixture
def short_tmp(monkeypatch):
    """A short temporary folder (Unix socket paths max 107 bytes) used as the system's."""
    folder = Path(tempfile.mkdtemp(prefix="tf-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folder / "runtime"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _tiny_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("context_json = ''\npublished_csv = ''", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("from ipykernel.connect import get_connection_file\n"
                                          "open('connection.txt', 'w').write(get_connection_file())")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _leave_private_folder() -> None:
    from abs_report.orphans import private_folder

    (private_folder() / "kernel.json").write_text('{"key": "secret"}', encoding="utf-8")
    os._exit(9)


def test_kernel_connection_files_are_private_and_removed(short_tmp):
    from abs_report.execute import execute

    # A render killed earlier left its private folder (connection file with the HMAC key).
    assert _run_in_child(_leave_private_folder) == 9
    assert [p.name for p in short_tmp.iterdir() if p.name.startswith("abs-k-")]
    work = short_tmp / "work"
    work.mkdir()
    execute(work / "out.ipynb", {"context_json": "", "published_csv": ""},
            notebook=_tiny_notebook(short_tmp / "tiny.ipynb"))
    connection = Path((work / "connection.txt").read_text(encoding="utf-8"))
    assert connection.parent.name.startswith("abs-k-"), connection
    assert not connection.exists()
    assert [p.name for p in short_tmp.iterdir() if p.name.startswith("abs-k-")] == []
    runtime = short_tmp / "runtime"
    assert not runtime.exists() or list(runtime.iterdir()) == []


# --- audit -------------------------------------------------------------------------------

def _published(code: str, majore_status: str) -> pd.DataFrame:
    from abs_report.published import COLUMNS

    rows = [("foyers_rsa", "40", "published"), ("foyers_rsa_majore", "", "secret_primary"),
            ("foyers_rsa_non_majore", "37" if majore_status == "leak" else "", "published"
             if majore_status == "leak" else "secret_secondary")]
    return pd.DataFrame([{"table_id": "T01", "zone_code": code, "zone_level": "commune", "year": "2024",
                          "measure": m, "unit": "count", "numerator": "", "denominator": "", "value": v,
                          "status": s} for m, v, s in rows], columns=list(COLUMNS))


def test_audit_ignores_hidden_and_incomplete_folders(tmp_path, capsys):
    root = tmp_path / "outputs"
    good = root / "38185" / "2024"
    good.mkdir(parents=True)
    _published("38185", "safe").to_csv(good / "published.csv", index=False)
    (good / "manifest.json").write_text("{}", encoding="utf-8")
    # A scratch folder left by a killed render and a report whose manifest was never written.
    for folder in (root / "38185" / ".2024.scratch.1.ab@host", root / "38421" / "2024"):
        folder.mkdir(parents=True)
        _published("38185", "leak").to_csv(folder / "published.csv", index=False)
        (folder / "report.ipynb").write_text("{}", encoding="utf-8")
    assert main(["audit", str(root)]) == 0
    out = capsys.readouterr().out
    assert "1 fichier(s)" in out and "2 dossier(s) ignoré(s)" in out


# --- Paris: a commune of hundreds of hidden IRIS -------------------------------------------

def _one_sum(n: int, seed: int = 0):
    """A component like a commune's hidden IRIS: ``n`` small cells summing to a published total."""
    import numpy as np
    from scipy import sparse

    from abs_report.secrecy import lp

    truth = np.random.default_rng(seed).integers(0, 5, n).astype(float)
    return lp._Component(cells=np.arange(n), a_eq=sparse.csr_matrix(np.ones((1, n))), b_eq=np.array([truth.sum()]),
                         a_ub=sparse.csr_matrix((0, n)), b_ub=np.zeros(0), rows=np.array([0]))


def test_push_small_lp_skips_the_presolve_rule_that_never_ends_on_paris(monkeypatch):
    # HiGHS's presolve aggregator grows steeply with the cells of one equality: 0.05 s for 50
    # hidden IRIS, 7 s for 170, unfinished after minutes for Paris's 563. The joint LP that
    # certifies small cells must run without that rule (checked before solving: no timing).
    import numpy as np

    from abs_report.secrecy import lp

    seen = spy_presolve_rules(monkeypatch)
    attacker = lp.Attacker.__new__(lp.Attacker)
    attacker.level, attacker.cap, attacker.n_lp = 5.0, 1e6, 0
    with pytest.raises(SolveStopped):
        attacker._push_small(_one_sum(600), np.arange(600))
    assert seen and seen[0] & (1 << 12), "HiGHS presolve rule 12 (aggregator) must be off"


def test_components_match_a_selection_component_by_component():
    """Grouped slicing (linear) gives each component exactly its rows, columns and constants."""
    import numpy as np
    from scipy import sparse

    from abs_report.secrecy import lp
    from abs_report.secrecy.relations import LinearSystem

    rng = np.random.default_rng(3)
    n = 400
    eq = sparse.random(120, n, density=0.01, random_state=1, format="csr")
    eq.data[:] = rng.choice([-1.0, 1.0], eq.nnz)
    ineq = sparse.random(60, n, density=0.01, random_state=2, format="csr")
    values = rng.integers(0, 50, n).astype(float)
    hidden = rng.random(n) < 0.4
    comps = lp.Attacker(values, LinearSystem(eq=eq, ineq=ineq), 5.0).components(hidden)
    cols = np.flatnonzero(hidden)
    published = np.where(hidden, 0.0, values)
    assert sorted(c for comp in comps for c in comp.cells.tolist()) == cols.tolist()
    assert len(comps) > 20, "the case needs many components to mean anything"
    for comp in comps:
        touching = [np.flatnonzero(m[:, comp.cells].getnnz(axis=1)) for m in (eq, ineq)]
        assert comp.rows.tolist() == [*touching[0].tolist(), *(eq.shape[0] + touching[1]).tolist()]
        assert (comp.a_eq != eq[touching[0]][:, comp.cells]).nnz == 0
        assert (comp.a_ub != -ineq[touching[1]][:, comp.cells]).nnz == 0
        assert np.allclose(comp.b_eq, -(eq[touching[0]] @ published))
        assert np.allclose(comp.b_ub, ineq[touching[1]] @ published)
        # A component is closed: its rows hold no hidden cell of another component.
        for m, rows in zip((eq, ineq), touching):
            assert m[rows][:, cols].nnz == m[rows][:, comp.cells].nnz
