"""A batch worker runs hundreds of reports: what one report opens, its end must close.

papermill does not stop the channels of a kernel client when it did not start
the kernel itself; each report then left a heartbeat thread, a ZMQ context (two
threads) and a dozen file descriptors behind, and a 531-report batch slowed
down from 2.4 s to 4 s per report. The kernel pool now stops them.
"""

from __future__ import annotations

import os
import threading

import nbformat
import pytest

from abs_report.execute import execute
from abs_report.kernels import KernelPool, fork_supported

pytestmark = pytest.mark.skipif(not fork_supported(), reason="kernels are forked from a zygote (POSIX only)")


def _open_resources() -> tuple[int, int]:
    """File descriptors and OS threads of this process."""
    return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


def tiny_notebook(path, parameters: str, body: str):
    """A two-cell notebook papermill can parameterise: a parameters cell, then ``body``."""
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


def test_reports_leave_no_threads_sockets_or_files_behind(tmp_path):
    notebook = tiny_notebook(tmp_path / "tiny.ipynb", "x = 1", "print(x * 2)")
    pool = KernelPool(tmp_path / "scratch")
    try:
        counts = []
        for _ in range(4):
            kernel = pool.take()
            out = execute(kernel.cwd / "out.ipynb", {"x": "2"}, notebook=notebook, kernel=kernel)
            assert "22" in out.read_text(encoding="utf-8")  # parameters are strings: "2" * 2
            kernel.shutdown()
            counts.append((_open_resources(), len(threading.enumerate())))
    finally:
        pool.close()
    # After the first report (the pool has started its next kernel) nothing grows.
    assert counts[1:] == [counts[1]] * 3, counts


def test_kernels_keep_no_ipython_history(tmp_path, monkeypatch):
    # The injected parameters carry the report's data: they must not pile up in the
    # user's ~/.ipython history database, for batch kernels and single renders alike.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    notebook = tiny_notebook(tmp_path / "tiny.ipynb", "secret = 'x'", "print(secret)")
    pool = KernelPool(tmp_path / "scratch")
    try:
        kernel = pool.take()
        execute(kernel.cwd / "out.ipynb", {"secret": "38185-data"}, notebook=notebook, kernel=kernel)
        kernel.shutdown()
    finally:
        pool.close()
    (tmp_path / "single").mkdir()
    execute(tmp_path / "single" / "out.ipynb", {"secret": "38185-data"}, notebook=notebook)
    for db in (tmp_path / "ipython").rglob("history.sqlite"):
        assert b"38185-data" not in db.read_bytes()


def test_warm_imports_start_no_thread():
    # The zygote forks after importing these: a thread alive at fork time would be
    # missing from every kernel, holding whatever lock it held.
    import subprocess
    import sys

    code = ("import importlib, threading\n"
            "from abs_report.kernels import WARM_CALLS, WARM_IMPORTS\n"
            "for name in WARM_IMPORTS:\n"
            "    importlib.import_module(name)\n"
            "    assert threading.active_count() == 1, name\n"
            "for call in WARM_CALLS:\n"
            "    module, function = call.split(':')\n"
            "    getattr(importlib.import_module(module), function)()\n"
            "    assert threading.active_count() == 1, call\n"
            "import sys\n"
            "assert 'mapclassify' in sys.modules\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets are POSIX only")
def test_a_single_report_kernel_listens_on_private_unix_sockets(tmp_path):
    # Over TCP any local user could reach the report's kernel, and the kernel warns
    # about it on the terminal at every render.
    notebook = tiny_notebook(tmp_path / "tiny.ipynb", "x = 1",
                             "from ipykernel.kernelapp import IPKernelApp\n"
                             "app = IPKernelApp.instance()\n"
                             "print(app.transport, app.ip)")
    (tmp_path / "out").mkdir()
    executed = execute(tmp_path / "out" / "tiny.ipynb", {"x": "1"}, notebook=notebook)
    printed = nbformat.read(executed, as_version=4).cells[-1].outputs[0]["text"].split()
    assert printed[0] == "ipc"
    socket_folder = os.path.dirname(printed[1])
    assert not os.path.exists(socket_folder), "the socket folder outlives the run"
