"""Errors a user can act on: one root, one exit status per kind. The CLI maps them.

Every problem names where it is (file, line, field) and what was found
(value), so that a user can fix the input without reading code. Several
problems are reported at once.

Exit statuses (documented in README.md and ``abs-report --help``):

===  ==========================================================================
0    success
1    a check failed (:class:`CheckFailed`: ``verify``, ``audit``, a batch with failures)
2    bad input (:class:`InputError`): nothing written
3    the build failed on valid input (:class:`BuildFailed`: pandoc, Typst, the
     notebook's kernel, a full disk): nothing published
70   an unexpected error: a bug, shown with its traceback
130  interrupted (Ctrl-C)
141  standard output closed early (``abs-report ... | head``)
===  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file + (f", ligne {self.line}" if self.line is not None else "")
        what = f" champ '{self.field}'" if self.field else ""
        val = f" valeur {self.value!r}" if self.value is not None else ""
        return f"{where}:{what}{val}: {self.message}".replace("::", ":")


EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUILD_FAILED = 3
EXIT_BUG = 70
"""``EX_SOFTWARE`` of sysexits.h: an internal error."""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a program whose reader went away."""


class AbsReportError(Exception):
    """Root of every failure the package expects; ``exit_status`` says which kind.

    The CLI prints ``abs-report: <label> : <message>`` and exits with
    ``exit_status``; anything else that escapes is a bug (status 70).
    """

    exit_status = EXIT_BUILD_FAILED
    label = "échec"


class InputError(AbsReportError):
    """Bad input (parameters, data, rules): exit status 2, nothing written."""

    exit_status = EXIT_BAD_INPUT
    label = "erreur"

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CheckFailed(AbsReportError):
    """A verification found a difference or a disclosure: exit status 1."""

    exit_status = EXIT_CHECK_FAILED
    label = "échec"


class BuildFailed(AbsReportError):
    """The input was valid but the build failed (a tool, the kernel, the system): exit status 3."""

    exit_status = EXIT_BUILD_FAILED
    label = "échec de la construction"
