"""Run the report notebook for one territory with papermill.

Parameters are passed as strings from the Python API (never through papermill's
CLI, which would turn ``01001`` into the integer 1001). The kernel is the
``python3`` kernel of the running interpreter, i.e. the project's venv: no
user-level kernelspec is needed.
"""

from __future__ import annotations

from pathlib import Path

from .paths import project_file

NOTEBOOK = project_file("notebooks", "report.ipynb")


class ExecutionError(RuntimeError):
    """The notebook failed; the partly executed notebook is kept for diagnosis."""


def execute(output: Path, parameters: dict[str, str], notebook: Path = NOTEBOOK) -> Path:
    """Execute ``notebook`` into ``output`` (working directory: ``output``'s folder)."""
    import papermill as pm

    bad = {k: type(v).__name__ for k, v in parameters.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"notebook parameters must be strings: {bad}")
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                            cwd=str(output.parent), progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False)
    except pm.PapermillExecutionError as exc:
        raise ExecutionError(f"notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                             f"(executed notebook kept at {output})") from exc
    return output
