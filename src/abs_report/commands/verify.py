"""``abs-report verify REPORT_DIR``: re-run a report from its manifest and compare."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "verify", help="ré-exécuter un rapport depuis son manifeste et comparer chaque chiffre",
        description=("Vérifie les fichiers d'entrée enregistrés dans manifest.json (sortie 2 si l'un manque "
                     "ou a changé), reconstruit le rapport dans un dossier temporaire, compare published.csv "
                     "cellule par cellule et les empreintes des fichiers. Les masques du secret et les données de "
                     "démonstration sont recalculés dans un cache privé : le cache de ce poste n'est pas cru. "
                     "Sortie 0 : identique ; 1 : différences ; 2 : entrée invalide ; 3 : échec de la "
                     "reconstruction."))
    parser.add_argument("report_dir", type=Path, help="dossier du rapport (outputs/<code>/<année>/)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="dossier du jeu de données sur cette machine, s'il n'est pas à l'emplacement "
                             "relatif enregistré")
    parser.add_argument("--version", type=int, default=None,
                        help="version du rapport à vérifier (défaut : la dernière, ex. 2 après une réédition)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="garder les fichiers reconstruits dans ce dossier (remplacé s'il existe)")
    parser.add_argument("--unsafe-reuse-cache", action="store_true",
                        help="DANGEREUX : lire les masques du secret et les données de démonstration dans le "
                             "cache de ce poste au lieu de les recalculer dans un cache privé jetable (par "
                             "défaut). Plus rapide, mais un cache modifié ferait passer pour reproduit un "
                             "rapport construit à partir de lui.")
    # Recomputing is now the default; the old flag is still accepted and changes nothing.
    parser.add_argument("--fresh-cache", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..verify import report_text, verify

    verdict = verify(args.report_dir, data_dir=args.data_dir, version=args.version, keep=args.keep,
                     reuse_cache=args.unsafe_reuse_cache)
    print(report_text(verdict))
    return 0 if verdict.identical else 1
