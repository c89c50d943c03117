"""The ``abs-report`` command.

Each sub-command lives in the module that owns its concern and registers
itself here through ``register(subparsers)``; a command function returns the
exit status (0 success, 1 a check failed, 2 bad input).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import CheckFailed, InputError

COMMAND_MODULES = (
    "abs_report.commands.render",
    "abs_report.commands.batch",
    "abs_report.commands.verify",
    "abs_report.commands.audit",
    "abs_report.commands.reissue",
    "abs_report.commands.data",
    "abs_report.commands.geo",
    "abs_report.commands.suggest",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abs-report",
        description="Rapports d'analyse des besoins sociaux (ABS) à partir des données de la Caf.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not there yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"abs-report: erreur : {exc}", file=sys.stderr)
        return exc.exit_status
    except CheckFailed as exc:
        print(f"abs-report: échec : {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("abs-report: interrompu", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
