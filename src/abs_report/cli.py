"""The ``abs-report`` command.

Each sub-command lives in the module that owns its concern and registers
itself here through ``register(subparsers)``; a command function returns the
exit status. Every known failure (:class:`~abs_report.errors.AbsReportError`,
and the system's: a full disk, a read-only folder) becomes one short French
message and its exit status, never a traceback; anything else is a bug, shown
with its traceback and status 70. The statuses are listed in
:mod:`abs_report.errors` and in the help below.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import traceback

from .errors import (EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_BUILD_FAILED, EXIT_INTERRUPTED,
                     AbsReportError)

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

EXIT_STATUSES = """\
statut de sortie :
  0   succès
  1   une vérification a échoué (verify, audit, un lot avec des échecs)
  2   entrée invalide (paramètres, données, chemins) : rien n'est écrit
  3   la construction a échoué sur une entrée valide (pandoc, Typst, noyau Python, disque plein)
  70  erreur interne inattendue (un bogue : la trace est affichée)
  130 interrompu (Ctrl-C)
  141 sortie standard fermée avant la fin (abs-report ... | head)"""

SYSTEM_MESSAGES = {
    errno.ENOSPC: (EXIT_BUILD_FAILED, "espace disque insuffisant"),
    errno.EDQUOT: (EXIT_BUILD_FAILED, "quota d'espace disque dépassé"),
    errno.EROFS: (EXIT_BAD_INPUT, "système de fichiers en lecture seule"),
    errno.EACCES: (EXIT_BAD_INPUT, "permission refusée"),
    errno.EPERM: (EXIT_BAD_INPUT, "opération non permise"),
    errno.ENOENT: (EXIT_BAD_INPUT, "fichier ou dossier introuvable"),
    errno.ENOTDIR: (EXIT_BAD_INPUT, "un élément du chemin n'est pas un dossier"),
    errno.EISDIR: (EXIT_BAD_INPUT, "dossier là où un fichier est attendu"),
    errno.EEXIST: (EXIT_BAD_INPUT, "existe déjà"),
    errno.ENOTEMPTY: (EXIT_BAD_INPUT, "dossier non vide"),
    errno.ENAMETOOLONG: (EXIT_BAD_INPUT, "nom de fichier trop long"),
    errno.EMFILE: (EXIT_BUILD_FAILED, "trop de fichiers ouverts"),
    errno.ENOMEM: (EXIT_BUILD_FAILED, "mémoire insuffisante"),
    errno.EIO: (EXIT_BUILD_FAILED, "erreur d'entrée-sortie du disque"),
}
"""What the system refused, in French, and whether the user's input (2) or the machine (3) is at fault."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abs-report",
        description="Rapports d'analyse des besoins sociaux (ABS) à partir des données de la Caf.",
        epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
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


def system_failure(exc: OSError) -> tuple[int, str]:
    """An ``OSError`` as an exit status and a French message naming the file."""
    status, text = SYSTEM_MESSAGES.get(exc.errno, (EXIT_BUILD_FAILED, "erreur du système"))
    where = " ; ".join(str(f) for f in (exc.filename, exc.filename2) if f)
    return status, f"{text}{' : ' + where if where else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except AbsReportError as exc:
        print(f"abs-report: {exc.label} : {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as exc:
        status, message = system_failure(exc)
        label = "erreur" if status == EXIT_BAD_INPUT else "échec de la construction"
        print(f"abs-report: {label} : {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        print("abs-report: interrompu", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - a bug: show where, with a status of its own
        traceback.print_exc()
        print("abs-report: erreur interne inattendue (un bogue) : merci de la signaler avec la trace "
              "ci-dessus", file=sys.stderr)
        return EXIT_BUG


def _stdout_closed() -> int:
    """The reader of our output went away (``| head``): stop quietly, as other tools do.

    Standard output is pointed at /dev/null so that the interpreter's final
    flush does not raise again at exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
