"""``abs-report data import|fetch``: build the canonical dataset that ``render`` reads."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..observations import Dataset


def register(subparsers) -> None:
    """Add ``data import`` and ``data fetch`` to the ``abs-report`` parser."""
    data = subparsers.add_parser(
        "data", help="importer ou télécharger des données Caf",
        description="Construit le jeu de données canonique (dossier lu par render et batch).")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    imp = sub.add_parser(
        "import", help="importer des fichiers (Cafdata, data.caf.fr, tabulaire)",
        description="Valide tous les fichiers puis écrit le jeu de données ; rien n'est écrit en cas "
                    "d'erreur (statut 2). Formats : docs/DATA.md.")
    imp.add_argument("files", nargs="+", type=Path, metavar="FICHIER")
    imp.add_argument("--into", required=True, type=Path, metavar="DOSSIER",
                     help="dossier du jeu de données à écrire (remplacé de façon atomique)")
    imp.add_argument("--population", type=Path, metavar="FICHIER",
                     help="populations légales Insee par commune (remplace celle du COG)")
    imp.add_argument("--mapping", type=Path, metavar="FICHIER.yml",
                     help="correspondance de colonnes et de mesures pour un fichier tabulaire")
    imp.set_defaults(func=run_import)

    fetch = sub.add_parser(
        "fetch", help="télécharger les exports Cafdata d'un département (API Explore v2.1)",
        description="Télécharge les jeux Cafdata du département pour décembre de l'année, puis les importe.")
    fetch.add_argument("--departement", required=True, metavar="CODE")
    fetch.add_argument("--year", required=True, type=int, metavar="AAAA")
    fetch.add_argument("--into", required=True, type=Path, metavar="DOSSIER")
    fetch.set_defaults(func=run_fetch)


def run_import(args: argparse.Namespace) -> int:
    from ..sources.importer import import_files

    dataset = import_files(args.files, args.into, population_file=args.population,
                           mapping_file=args.mapping)
    report(dataset, args.into)
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from ..sources.fetch import fetch

    dataset = fetch(args.departement, args.year, args.into)
    report(dataset, args.into)
    return 0


def report(dataset: Dataset, into: Path) -> None:
    """What was written, and the notes the user should read."""
    from ..sources.importer import read_notes

    obs = dataset.observations
    known = int(obs["value"].notna().sum())
    years = ", ".join(map(str, dataset.meta.years))
    print(f"Jeu de données écrit dans {into} : {known} valeurs connues, années {years}, "
          f"{len(dataset.measures())} mesures.")
    for note in read_notes(into):
        print(f"  note : {note}")
