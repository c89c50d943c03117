"""Fresh Jupyter kernels, started before they are needed, with the heavy imports done.

Every report runs in its own kernel (auditors need one executed notebook per
territory and no state may pass from one territory to the next). Starting a
kernel and importing pandas, matplotlib, seaborn and scipy costs about 2 s of
CPU per report, more than everything else a report needs. So a *zygote*
process imports those modules once and then forks one kernel per report: each
fork is a new process that never ran any user code, starts in a fraction of a
second, and already holds the imports (copy-on-write).

:class:`KernelPool` keeps the next kernel of a worker running while the
current one executes. Kernels talk over Unix sockets (``ipc`` transport) in a
private folder, so parallel workers never clash on TCP ports.

No orphan kernel survives its batch: each pool shuts its kernels down when
closed (``finally``/``atexit``); the zygote kills its kernels when its pipe
closes (its worker ended, however it ended); and each kernel is killed by the
kernel (``PR_SET_PDEATHSIG``) if the zygote itself dies.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from .atomic import scratch_folder
from .errors import BuildFailed
from .orphans import die_with_parent, private_folder

WARM_IMPORTS = ("abs_report.figures.view", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
                "ipykernel.zmqshell", "IPython.display",
                # What every kernel imported again when it started or ran a report (sys.modules of
                # a kernel against the zygote's): the debugger (debugpy, pydevd: 46 ms), psutil,
                # sqlite3 (IPython's history module), pdb, the SVG backend, pandas' Arrow bridge.
                "ipykernel.debugger", "psutil", "sqlite3", "pdb", "matplotlib.backends.backend_svg",
                "pyarrow.pandas_compat", "mimetypes",
                # Maps: mapclassify loads scikit-learn and scipy (about 1 s of CPU a kernel).
                "abs_report.maps")
"""Modules the zygote imports once; every kernel forked from it starts with them loaded.

None of them may start a thread on import: the zygote forks (tests/test_kernels.py)."""

WARM_CALLS = ("abs_report.maps:preload",)
"""Functions the zygote calls once after the imports (``module:function``): the packaged
geometry and the map base layers, shared by every kernel it forks. No thread either."""

SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Forking is only safe from a single-threaded process: keep BLAS from starting thread pools."""


class KernelStartError(BuildFailed, RuntimeError):
    """A kernel could not be started (worth a retry: the next attempt gets a new process)."""


def fork_supported() -> bool:
    """Fork-started kernels need ``os.fork`` (Linux, macOS); elsewhere kernels start normally."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


# --- the zygote process ---------------------------------------------------------------

class Zygote:
    """A process that imported the heavy modules and forks kernels on request."""

    def __init__(self) -> None:
        # pydevd (imported with the debugger) warns on stderr that frozen modules may make
        # it miss breakpoints: true, and of no concern to a batch.
        env = {**os.environ, **SINGLE_THREAD_ENV, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([sys.executable, "-m", "abs_report.kernels"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, text=True, bufsize=1)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def fork(self, connection_file: str, cwd: str) -> int:
        """Fork a kernel reading ``connection_file`` and working in ``cwd``; returns its pid."""
        request = json.dumps({"connection_file": connection_file, "cwd": cwd})
        with self._lock:
            try:
                self._proc.stdin.write(request + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except (BrokenPipeError, OSError) as exc:
                raise KernelStartError(f"kernel zygote {self.pid} is gone: {exc}") from exc
        if not line:
            raise KernelStartError(f"kernel zygote {self.pid} exited (status {self._proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise KernelStartError(f"kernel zygote could not fork: {reply['error']}")
        return int(reply["pid"])

    def close(self, timeout: float = 5.0) -> None:
        """Close the pipe: the zygote kills its kernels and exits."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _become_kernel(request: dict, zygote: int) -> None:
    """In the forked child: detach, then run an IPython kernel until it is shut down."""
    status = 1
    try:
        os.setsid()  # Ctrl-C in the terminal is the batch's to handle, not the kernel's
        die_with_parent(zygote)  # Linux kills this kernel if the zygote dies
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})  # blocked by the zygote around fork
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # fd 1 is the zygote's reply pipe
        sys.stdin = open(os.devnull)
        os.chdir(request["cwd"])
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # No IPython history: it would copy every report's parameters (its data) into the
        # user's ~/.ipython history database, one sqlite transaction per kernel.
        app.initialize(["-f", request["connection_file"], "--HistoryManager.enabled=False"])
        app.start()
        status = 0
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


_live_kernels: set[int] = set()
"""Kernels forked and not yet reaped (only those may be killed: a reaped pid can be reused)."""


def _reap_children(signum=None, frame=None) -> None:
    """Collect every ended kernel (no zombies left behind)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _live_kernels.discard(pid)


def zygote_main() -> None:
    """Import once, then fork a kernel for each request line read on stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch ends us by closing the pipe
    # Kernels are reaped as they end, by waiting for them (not by ignoring SIGCHLD):
    # their CPU time then adds up in this process's children's, and so in the
    # batch's, which is what `make bench` reports.
    signal.signal(signal.SIGCHLD, _reap_children)
    for name in WARM_IMPORTS:
        importlib.import_module(name)
    for call in WARM_CALLS:
        module, function = call.split(":")
        getattr(importlib.import_module(module), function)()
    # Everything imported so far lives as long as any kernel: out of the collector's
    # sight (gc.freeze), a kernel's collections stop scanning it, and do not write to
    # (and so copy) the pages it shares with the zygote.
    gc.collect()
    gc.freeze()
    zygote = os.getpid()
    for line in sys.stdin:
        request = json.loads(line)
        # No reaping between the fork and the bookkeeping of the new pid.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            print(json.dumps({"error": str(exc)}), flush=True)
            continue
        if pid == 0:
            _become_kernel(request, zygote)
        _live_kernels.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        print(json.dumps({"pid": pid}), flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    for pid in sorted(_live_kernels):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


# --- the worker side ------------------------------------------------------------------

class ForkedProcess:
    """What jupyter_client needs of a ``Popen`` for a kernel that the zygote forked.

    The kernel is the zygote's child, not ours: we cannot ``wait`` for it, but
    the zygote reaps it, so it is gone as soon as it has exited.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel; after SIGKILL it is gone for good, reaped or not yet.

        Saying so at once spares ``shutdown_kernel`` polling the zombie every
        0.1 s until the zygote collects it (a tenth of a second per report in
        which a worker waited with its core idle).
        """
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass
        if signum == signal.SIGKILL and self.returncode is None:
            self.returncode = -signal.SIGKILL

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _forked_kernel_manager_class():
    """Built lazily: importing jupyter_client costs time the zygote process does not need."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Any, List

    class ForkedKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` whose kernel process comes from a :class:`Zygote`."""

        zygote = Any()
        clients = List()

        def client(self, **kwargs):
            """A client, remembered: papermill does not stop the channels of a client
            whose kernel it did not start, so :meth:`WarmKernel.shutdown` does (each
            left running kept a heartbeat thread, its ZMQ context and sockets: a
            worker slowed down report after report and ran out of file descriptors)."""
            kc = super().client(**kwargs)
            self.clients.append(kc)
            return kc

        async def _async_interrupt_kernel(self):
            from .execute import interrupt_unless_shutting_down

            await interrupt_unless_shutting_down(self, super()._async_interrupt_kernel)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            provisioner = self.provisioner
            cwd = str(kw.get("cwd") or os.getcwd())
            pid = self.zygote.fork(self.connection_file, cwd)
            provisioner.process = ForkedProcess(pid)
            provisioner.pid, provisioner.pgid, provisioner.cwd = pid, None, cwd
            self._reconcile_connection_info(provisioner.connection_info)

    return ForkedKernelManager


@dataclass
class WarmKernel:
    """A started kernel and the empty folder it works in (the report's scratch folder)."""

    manager: object
    cwd: Path

    def shutdown(self) -> None:
        """Stop the kernel now (its work is saved in the executed notebook)."""
        from jupyter_core.utils import run_sync

        for client in getattr(self.manager, "clients", None) or ():
            try:
                client.stop_channels()
            except Exception:  # noqa: BLE001 - closing what is already closed
                pass
        try:
            run_sync(self.manager.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a kernel already gone is what we want
            process = getattr(self.manager.provisioner, "process", None)
            if process is not None:
                process.kill()


class KernelPool:
    """One worker's supply of fresh kernels: the next one starts while the current one runs.

    Parameters
    ----------
    scratch_root : Path
        Where each kernel's working folder is created. A report is built in its
        kernel's folder and then renamed into ``outputs/``, so this must be on
        the same file system as the outputs.
    ahead : int
        Kernels kept started in advance.
    """

    def __init__(self, scratch_root: Path, ahead: int = 1) -> None:
        self.scratch_root = Path(scratch_root)
        self.ahead = ahead
        self._zygote: Zygote | None = None
        self._ready: deque[WarmKernel] = deque()
        # Sockets and connection files (the HMAC key): private, named after this process so
        # that the next run removes them if this one is killed (orphans.recover_private_folders).
        self._ipc_dir = private_folder()
        self._closed = False
        atexit.register(self.close)

    def _zygote_process(self) -> Zygote:
        if self._zygote is None or self._zygote._proc.poll() is not None:
            self._zygote = Zygote()
        return self._zygote

    def _start(self) -> WarmKernel:
        from jupyter_core.utils import run_sync

        self.scratch_root.mkdir(parents=True, exist_ok=True)
        # It becomes the published report folder: ordinary modes, a name that recovery understands.
        cwd = scratch_folder(self.scratch_root / "work")
        name = uuid.uuid4().hex[:8]
        manager = _forked_kernel_manager_class()(zygote=self._zygote_process(), kernel_name="python3",
                                                 transport="ipc", ip=str(self._ipc_dir / name),
                                                 connection_file=str(self._ipc_dir / f"{name}.json"))
        try:
            run_sync(manager.start_kernel)(cwd=str(cwd))
        except KernelStartError:
            shutil.rmtree(cwd, ignore_errors=True)
            raise
        return WarmKernel(manager, cwd)

    def take(self) -> WarmKernel:
        """A started kernel for the next report; starts its successor right away."""
        if self._closed:
            raise KernelStartError("kernel pool is closed")
        while len(self._ready) <= self.ahead:
            self._ready.append(self._start())
        return self._ready.popleft()

    def close(self) -> None:
        """Shut every kernel and the zygote down, remove the unused working folders."""
        if self._closed:
            return
        self._closed = True
        while self._ready:
            kernel = self._ready.popleft()
            kernel.shutdown()
            shutil.rmtree(kernel.cwd, ignore_errors=True)
        if self._zygote is not None:
            self._zygote.close()
        shutil.rmtree(self._ipc_dir, ignore_errors=True)
        atexit.unregister(self.close)


if __name__ == "__main__":
    zygote_main()
