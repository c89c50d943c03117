"""Run the report notebook for one territory with papermill.

Parameters are passed as strings from the Python API (never through papermill's
CLI, which would turn ``01001`` into the integer 1001). The kernel is the
``python3`` kernel of the running interpreter, i.e. the project's venv: no
user-level kernelspec is needed.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from traitlets import default

from .errors import BuildFailed
from .paths import project_file

NOTEBOOK = project_file("notebooks", "report.ipynb")


class ExecutionError(BuildFailed, RuntimeError):
    """The notebook failed; the partly executed notebook is kept for diagnosis."""


class KernelLost(ExecutionError):
    """The kernel died or a cell ran out of time: unlike a failing cell, worth a retry."""


def execute(output: Path, parameters: dict[str, str], notebook: Path = NOTEBOOK, kernel=None) -> Path:
    """Execute ``notebook`` into ``output`` (working directory: ``output``'s folder).

    Parameters
    ----------
    kernel : abs_report.kernels.WarmKernel, optional
        A fresh kernel already started in ``output``'s folder (batches start the
        next kernel while the current report runs). Without it papermill starts
        one. The caller shuts ``kernel`` down.
    """
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    bad = {k: type(v).__name__ for k, v in parameters.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"notebook parameters must be strings: {bad}")
    options = {}
    if kernel is not None:
        if Path(kernel.cwd).resolve() != Path(output).parent.resolve():
            raise ValueError(f"kernel works in {kernel.cwd}, not in the report folder {output.parent}")
        # No ``cwd``: papermill would chdir the whole process, and the kernel is already there.
        options["km"] = kernel.manager
    else:
        options["cwd"] = str(output.parent)
        # No IPython history: it would copy the report's parameters (its data) into the
        # user's ~/.ipython history database.
        options["extra_arguments"] = ["--HistoryManager.enabled=False"]
    with _private_sockets(options):
        try:
            pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                                **options)
        except pm.PapermillExecutionError as exc:
            raise ExecutionError(f"le carnet du rapport a échoué à la cellule {exc.exec_count} : "
                                 f"{exc.ename}: {exc.evalue}") from exc
        except DeadKernelError as exc:
            raise KernelLost("le noyau Python qui exécutait le carnet du rapport s'est arrêté "
                             "(mémoire insuffisante ?)") from exc
        except CellTimeoutError as exc:
            raise KernelLost("une cellule du carnet du rapport a dépassé le temps imparti") from exc
    return output


async def interrupt_unless_shutting_down(manager, interrupt) -> None:
    """``manager``'s interrupt, except the SIGINT jupyter_client sends before every shutdown.

    The notebook has finished when we shut its kernel down; that SIGINT only made
    the kernel print ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel``
    on the terminal of a successful render when it landed during a message.
    """
    if not manager.shutting_down:
        await interrupt()


@contextmanager
def _private_sockets(options: dict):
    """A kernel papermill starts talks over Unix sockets in a private folder, not TCP.

    Over TCP any local user could connect to the report's kernel, and the kernel
    says so on the terminal at every render ("running over TCP without
    encryption"). Batch kernels already use Unix sockets (:mod:`abs_report.kernels`).
    Windows has no Unix sockets: TCP stays.
    """
    if "km" in options or os.name != "posix":
        yield
        return
    from jupyter_client.manager import AsyncKernelManager

    from .orphans import private_folder, recover_private_folders

    recover_private_folders()  # those of renders killed earlier
    # 0700, named after this process; short: socket paths max 107 bytes. The connection
    # file (it holds the HMAC key) goes there too, not in Jupyter's runtime folder.
    folder = private_folder()

    class PrivateSocketKernelManager(AsyncKernelManager):
        @default("transport")
        def _private_transport(self):
            return "ipc"

        @default("ip")
        def _private_socket_prefix(self):
            return str(folder / "kernel")

        async def _async_interrupt_kernel(self):
            await interrupt_unless_shutting_down(self, super()._async_interrupt_kernel)

        @default("connection_file")
        def _private_connection_file(self):
            return str(folder / "kernel.json")

    options["kernel_manager_class"] = PrivateSocketKernelManager
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
