"""``abs-report suggest-aggregation CODE --out FILE.yml``: a group of communes large enough to publish."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "suggest-aggregation", help="proposer un regroupement de communes publiable",
        description="Propose le plus petit groupe de communes contiguës de la même intercommunalité qui "
                    "contient la commune et atteint une taille publiable (foyers allocataires publiés, par "
                    "tranches), et écrit le fichier de paramètres de son rapport.")
    parser.add_argument("code", help="code Insee de la commune, ex. 38008")
    parser.add_argument("--out", type=Path, required=True, help="fichier de paramètres à écrire (.yml)")
    parser.add_argument("--data", default="demo", help="jeu de données (dossier de data import, ou demo)")
    parser.add_argument("--year", type=int, default=None, help="année (défaut : la plus récente du jeu)")
    parser.add_argument("--force", action="store_true", help="remplacer --out s'il existe")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import aggregation
    from ..errors import InputError, Problem
    from ..geography import load_geography

    geography = load_geography()
    code = geography.current_commune_code(args.code)
    if code is None:
        hint = geography.suggest("commune", args.code)
        raise InputError(Problem("ligne de commande", "code commune inconnu du COG"
                                 + (f" (voulez-vous dire {', '.join(hint)} ?)" if hint else ""),
                                 field="CODE", value=args.code))
    if args.out.exists() and not args.force:
        raise InputError(Problem(str(args.out), "le fichier existe déjà : ajoutez --force pour le remplacer"))
    cells, year = aggregation.cells_for(code, args.data, args.year, geography, Path.cwd())
    proposal = aggregation.propose(code, cells, geography)
    if not proposal.reaches:
        raise InputError(Problem("ligne de commande", f"même l'intercommunalité entière ({proposal.epci_name}) "
                                 f"n'atteint pas {proposal.min_foyers} foyers allocataires publiés : "
                                 "demandez le rapport de l'intercommunalité ou du département", value=code))
    data = args.data if args.data == "demo" else str(Path(args.data).resolve())
    aggregation.write_new(args.out, aggregation.parameter_text(proposal, year, data), args.force)
    names = ", ".join(proposal.names)
    print(f"{proposal.name} : {names} ({proposal.size} foyers allocataires publiés au moins) -> {args.out}")
    return 0
