"""Errors a user can act on. The CLI maps them to exit statuses.

Every problem names where it is (file, line, field) and what was found
(value), so that a user can fix the input without reading code. Several
problems are reported at once.
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


class InputError(Exception):
    """Bad input (parameters, data, rules): exit status 2, nothing written."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CheckFailed(Exception):
    """A verification found a difference or a disclosure: exit status 1."""

    exit_status = 1
