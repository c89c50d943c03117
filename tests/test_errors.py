"""One error root, one exit status per kind of failure, never a traceback for a known one.

Exit statuses (README.md, ``abs-report --help``): 0 success, 1 a check failed,
2 bad input, 3 the build failed on valid input (pandoc, Typst, the notebook's
kernel, a full disk), 70 an unexpected error (a bug: the traceback is shown),
130 interrupted, 141 standard output closed (``| head``).
Failures are injected with monkeypatch; the product has no test hook.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from abs_report import errors
from abs_report.cli import main
from small_dataset import VILLARD, make_dataset, write_params

VENV_BIN = Path(sys.executable).parent


def _classes():
    from abs_report.execute import ExecutionError
    from abs_report.geography import UnknownZone
    from abs_report.kernels import KernelStartError
    from abs_report.observations import DataError
    from abs_report.render import RenderError, RendererUnavailable

    return {errors.InputError: 2, errors.CheckFailed: 1, errors.BuildFailed: 3, DataError: 2,
            UnknownZone: 2, RendererUnavailable: 2, RenderError: 3, ExecutionError: 3, KernelStartError: 3}


def test_every_error_class_derives_from_the_one_root_with_its_exit_status():
    for cls, status in _classes().items():
        assert issubclass(cls, errors.AbsReportError), cls
        assert cls.exit_status == status, cls
    # Secondary bases kept for callers that catch them.
    from abs_report.geography import UnknownZone
    from abs_report.observations import DataError

    assert issubclass(DataError, ValueError) and issubclass(UnknownZone, LookupError)


def _known_failures():
    from abs_report.execute import ExecutionError
    from abs_report.geography import UnknownZone
    from abs_report.observations import DataError
    from abs_report.render import RenderError

    return [
        ("input", errors.InputError(errors.Problem("p.yml", "valeur refusée")), 2, "p.yml"),
        ("check", errors.CheckFailed("2 différences"), 1, "2 différences"),
        ("render", RenderError("pandoc a échoué : boum", Path("x.md")), 3, "pandoc a échoué"),
        ("execution", ExecutionError("le carnet a échoué"), 3, "le carnet a échoué"),
        ("data", DataError("jeu de données illisible"), 2, "jeu de données illisible"),
        ("zone", UnknownZone("commune", "99999", []), 2, "99999"),
        ("disk_full", OSError(errno.ENOSPC, "No space left on device", "/x/report.pdf"), 3, "espace disque"),
        ("quota", OSError(errno.EDQUOT, "Disk quota exceeded", "/x/report.pdf"), 3, "espace disque"),
        ("read_only", OSError(errno.EROFS, "Read-only file system", "/x"), 2, "lecture seule"),
        ("denied", PermissionError(errno.EACCES, "Permission denied", "/x"), 2, "permission refusée"),
        ("not_a_dir", NotADirectoryError(errno.ENOTDIR, "Not a directory", "/x/y"), 2, "/x/y"),
        ("io", OSError(errno.EIO, "Input/output error", "/x"), 3, "entrée-sortie"),
    ]


@pytest.mark.parametrize("name,exc,status,fragment", _known_failures(), ids=[c[0] for c in _known_failures()])
def test_the_cli_turns_each_known_failure_into_a_french_message_and_its_status(monkeypatch, capsys, name, exc,
                                                                            status, fragment):
    import abs_report.commands.audit as audit_command

    def fail(args):
        raise exc

    monkeypatch.setattr(audit_command, "run", fail)
    assert main(["audit", "nowhere"]) == status
    err = capsys.readouterr().err
    assert err.startswith("abs-report: ") and fragment in err, err
    assert "Traceback" not in err and "Errno" not in err and len(err.splitlines()) <= 3, err


def test_an_unexpected_exception_is_a_bug_shown_with_its_traceback_and_status_70(monkeypatch, capsys):
    import abs_report.commands.audit as audit_command

    def fail(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(audit_command, "run", fail)
    assert main(["audit", "nowhere"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err and "erreur interne" in err


def test_the_help_and_the_readme_document_every_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("Exit status:"):].split("\n\n")[0]
    epilog = out[out.index("statut de sortie"):]
    for status in ("0", "1", "2", "3", "70", "130", "141"):
        assert f" {status} " in epilog, status
        assert f" {status} " in paragraph.replace("\n", " "), status


# --- the four failures of a real render -----------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory, geography):
    root = tmp_path_factory.mktemp("errors")
    make_dataset(root, geography)
    return root


def _render(root: Path, capsys, formats=("html",)) -> tuple[int, str, Path]:
    params = write_params(root / "params" / "villard.yml", formats=formats)
    outputs = root / "outputs"
    status = main(["render", str(params), "--outputs", str(outputs)])
    return status, capsys.readouterr().err, outputs / VILLARD / "2024"


def _assert_failed_build(status: int, err: str, report: Path, fragment: str) -> None:
    assert status == 3, err
    assert fragment in err and "Traceback" not in err, err
    assert not report.exists(), "a failed build publishes nothing"


@pytest.mark.slow
def test_a_pandoc_failure_ends_in_a_french_message_and_status_3(small, monkeypatch, capsys, tmp_path):
    import pypandoc

    from abs_report import render

    broken = tmp_path / "pandoc"
    broken.write_text("#!/bin/sh\necho 'pandoc: out of memory' >&2\nexit 83\n")
    broken.chmod(0o755)
    # pandoc_editions sends its request to the process named in its own module.
    monkeypatch.setattr(render.pandoc, "PANDOC", render.PandocProcess())
    monkeypatch.setattr(pypandoc, "get_pandoc_path", lambda: str(broken))
    status, err, report = _render(small, capsys)
    _assert_failed_build(status, err, report, "pandoc")


@pytest.mark.slow
def test_a_typst_failure_ends_in_a_french_message_and_status_3(small, monkeypatch, capsys, tmp_path):
    from abs_report import render

    template = tmp_path / "report.typ"
    template.write_text(render.typst_pdf.TYPST_TEMPLATE.read_text(encoding="utf-8") + "\n#let broken = (\n",
                        encoding="utf-8")
    monkeypatch.setattr(render.typst_pdf, "TYPST_TEMPLATE", template)
    status, err, report = _render(small, capsys, formats=("pdf",))
    _assert_failed_build(status, err, report, "Typst")
    # The Typst source it names is there to read, although the build's scratch folder is gone.
    kept = Path(re.search(r"Fichier intermédiaire conservé : (\S+)", err).group(1))
    assert kept.is_file() and kept.name == "report.typ" and "#let broken" in kept.read_text(encoding="utf-8")


def _suicidal_notebook(path: Path) -> Path:
    """A notebook whose kernel dies: SIGKILL from inside, as the OOM killer would."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('context_json = ""\npublished_csv = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_dead_kernel_ends_in_a_french_message_and_status_3(small, monkeypatch, capsys, tmp_path):
    from abs_report import execute, pipeline

    notebook = _suicidal_notebook(tmp_path / "dies.ipynb")
    real = execute.execute
    monkeypatch.setattr(pipeline, "execute",
                        lambda output, parameters, kernel=None: real(output, parameters, notebook, kernel))
    status, err, report = _render(small, capsys)
    _assert_failed_build(status, err, report, "noyau")


@pytest.mark.slow
def test_a_full_disk_ends_in_a_french_message_and_status_3(small, monkeypatch, capsys):
    real = Path.write_bytes

    def full(self, data):
        if self.name == "published.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    status, err, report = _render(small, capsys)
    _assert_failed_build(status, err, report, "espace disque")


@pytest.mark.slow
def test_a_successful_render_never_interrupts_its_kernel(small, monkeypatch, capfd):
    """jupyter_client sends SIGINT before a shutdown: the kernel logged 'KeyboardInterrupt caught'."""
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    sent = []
    real = LocalProvisioner.send_signal

    async def spy(self, signum):
        sent.append(signum)
        return await real(self, signum)

    monkeypatch.setattr(LocalProvisioner, "send_signal", spy)
    params = write_params(small / "params" / "ok.yml")
    assert main(["render", str(params), "--outputs", str(small / "ok")]) == 0
    err = capfd.readouterr().err
    assert signal.SIGINT not in sent
    assert "IPKernelApp" not in err and "KeyboardInterrupt" not in err, err


# --- clear errors of item 14 -----------------------------------------------------------------------

def test_outputs_naming_a_file_or_dev_null_is_refused(small, capsys, tmp_path):
    params = write_params(small / "params" / "villard.yml")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for outputs in (a_file, Path("/dev/null"), a_file / "below"):
        assert main(["render", str(params), "--outputs", str(outputs)]) == 2
        err = capsys.readouterr().err
        assert str(outputs) in err and "--outputs" in err and "Traceback" not in err, err
    assert a_file.read_text() == "x"


def test_a_parameter_path_that_is_a_folder_or_a_device_is_refused(tmp_path, capsys):
    for path in (tmp_path, Path("/dev/zero"), Path("/dev/null")):
        assert main(["render", str(path), "--outputs", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_read_only_outputs_folder_is_refused(small, monkeypatch, capsys):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir") or str(small / "outputs"))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    status, err, report = _render(small, capsys)
    assert status == 2 and "lecture seule" in err and "Traceback" not in err, err
    assert not report.exists()


def test_broken_pipe_exits_quietly(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("dtreffre;numcomdo;nomcom;indfoy_ndur\n2022-12;38185;Grenoble;51135\n", encoding="utf-8")
    process = subprocess.Popen([str(VENV_BIN / "abs-report"), "data", "import", str(data), "--into",
                                str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # like `| head` that has read enough
    err = process.stderr.read().decode()
    status = process.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert status == 141, (status, err)


def test_a_batch_retries_dead_kernels_and_timeouts_by_type_never_by_message():
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from abs_report.batch.worker import _retryable
    from abs_report.execute import ExecutionError, KernelLost
    from abs_report.kernels import KernelStartError

    for exc in (DeadKernelError("Kernel died"), CellTimeoutError("timeout"), KernelLost("noyau arrêté"),
                KernelStartError("zygote gone")):
        assert _retryable(exc), exc
    for exc in (ExecutionError("cellule en échec"), RuntimeError("the kernel said no"), ValueError("kernel"),
                TimeoutError("socket")):
        assert not _retryable(exc), exc
