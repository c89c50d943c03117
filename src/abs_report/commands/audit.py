"""``abs-report audit DIR``: attack every published.csv under DIR together."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "audit", help="vérifier le secret statistique de tous les published.csv d'un dossier",
        description="Pour chaque cellule masquée, cherche par programmation linéaire la plus petite "
                    "et la plus grande valeur compatibles avec tout ce qui est publié. Statut 1 si une "
                    "cellule est retrouvée exactement ou bornée sous 5.")
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.add_argument("--truth", type=Path, default=None,
                        help="observations vraies (parquet ou csv canonique) pour afficher les valeurs")
    parser.set_defaults(func=run)


def _read_truth(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={"zone_code": str})
    except Exception as exc:  # any unreadable file is the user's input problem
        raise InputError(Problem(str(path), f"fichier de valeurs vraies illisible : {exc}")) from exc


REPORT_FILES = ("report.pdf", "report.html", "report.ipynb", "tables.xlsx")
"""A folder holding one of these besides published.csv is a report folder (it then needs its manifest)."""


def report_tables(folder: Path) -> tuple[list[Path], list[Path]]:
    """The ``published.csv`` files to audit under ``folder``, and the folders left out.

    Left out: anything under a hidden folder (scratch folders of a render being
    built or killed, ``.batch-work``), and a report folder without its
    ``manifest.json`` (written last: the report is incomplete). A folder holding
    only a ``published.csv`` (tables exchanged alone) is audited.
    """
    files, ignored = [], []
    for path in sorted(folder.rglob("published.csv")):
        parent = path.parent
        hidden = any(part.startswith(".") for part in parent.relative_to(folder).parts)
        incomplete = (any((parent / name).exists() for name in REPORT_FILES)
                      and not (parent / "manifest.json").is_file())
        if hidden or incomplete:
            ignored.append(parent)
        else:
            files.append(path)
    return files, ignored


def run(args: argparse.Namespace) -> int:
    from ..audit import audit_published, read_published
    from ..geography import load_geography

    folder: Path = args.directory
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "dossier introuvable"))
    files, ignored = report_tables(folder)
    if not files:
        raise InputError(Problem(str(folder), "aucun fichier published.csv dans ce dossier"))
    frames = [read_published(f) for f in files]
    truth = _read_truth(args.truth) if args.truth else None
    result = audit_published(frames, load_geography(), truth)
    for failure in result.failures:
        print(f"ÉCHEC {failure}")
    print(f"{len(files)} fichier(s), {result.n_hidden} cellule(s) masquée(s), "
          f"{result.n_checked} vérifiée(s), {len(result.failures)} échec(s)")
    if ignored:
        print(f"{len(ignored)} dossier(s) ignoré(s) : cachés (nom commençant par un point) ou rapports incomplets")
    return 1 if result.failures else 0
