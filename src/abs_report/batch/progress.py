"""Progress on the terminal (plain or rich) and the list of failures, in French."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sys
import time

from .plan import JobResult

if TYPE_CHECKING:
    from .run import Outcome


STATUS_FR = {"built": "construit", "skipped": "à jour", "failed": "ÉCHEC"}


class PlainReporter:
    """One log line per territory (logs, CI, pipes)."""

    def __init__(self, total: int, stream=None) -> None:
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.start = time.perf_counter()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def advance(self, result: JobResult) -> None:
        self.done += 1
        took = f" ({result.seconds:.1f} s)" if result.status == "built" else ""
        why = f" : {result.reason}" if result.reason else ""
        print(f"[{self.done:>{len(str(self.total))}}/{self.total}] {STATUS_FR[result.status]:<9} "
              f"{result.level} {result.code} {result.name}{took}{why}", file=self.stream, flush=True)

    def interrupting(self) -> None:
        print("Interruption : les rapports en cours se terminent, aucun autre ne démarre "
              "(Ctrl-C encore pour arrêter tout de suite).", file=self.stream, flush=True)


class RichReporter(PlainReporter):
    """A progress bar with counts, rate and ETA (terminals)."""

    def __init__(self, total: int, console) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        super().__init__(total)
        self.console = console
        self.counts = {"built": 0, "skipped": 0, "failed": 0}
        self.progress = Progress(TextColumn("[bold]Rapports"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TextColumn("écoulé"), TimeElapsedColumn(),
                                 TextColumn("reste"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}"),
                                 console=console, transient=False)
        self.task = self.progress.add_task("batch", total=total, rate="", counts="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def advance(self, result: JobResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if result.status == "failed":
            self.progress.console.print(f"[red]ÉCHEC[/red] {result.level} {result.code} {result.name} : "
                                        f"{result.reason}", markup=True, highlight=False)
        built_time = time.perf_counter() - self.start
        rate = f"{self.counts['built'] / built_time * 60:.0f} rapports/min" if self.counts["built"] else ""
        counts = (f"construits {self.counts['built']} · à jour {self.counts['skipped']} · "
                  f"échecs {self.counts['failed']}")
        self.progress.update(self.task, advance=1, rate=rate, counts=counts)

    def interrupting(self) -> None:
        self.progress.console.print("Interruption : les rapports en cours se terminent, aucun autre ne démarre "
                                    "(Ctrl-C encore pour arrêter tout de suite).")


def make_reporter(total: int):
    """A rich progress bar on a terminal, plain log lines otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    return RichReporter(total, console) if console.is_terminal else PlainReporter(total)


def print_failures(outcome: Outcome, stream=None) -> None:
    """The failure table: territory and reason (rich table on a terminal)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stderr, width=None if (stream or sys.stderr).isatty() else 160)
    table = Table(title=f"{len(outcome.failures)} territoire(s) en échec", show_lines=False)
    table.add_column("Territoire")
    table.add_column("Niveau")
    table.add_column("Raison", overflow="fold")
    for r in outcome.failures:
        table.add_row(f"{r.code} {r.name}", r.level, r.reason)
    console.print(table)
