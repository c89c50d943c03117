"""``abs-report batch``: every territory of a département, in parallel, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def register(sub: argparse._SubParsersAction) -> None:
    from ..batch import DEFAULT_PURPOSE, DEFAULT_RECIPIENT, LEVELS

    parser = sub.add_parser(
        "batch", help="construire les rapports de tous les territoires d'un département",
        description=("Construit outputs/<code>/<année>/ pour chaque commune, EPCI et le département ; "
                     "saute les rapports dont les entrées n'ont pas changé ; écrit outputs/index.html "
                     "et outputs/batch-<date>.json. Statut de sortie : 0 tout est construit, "
                     "1 au moins un territoire en échec, 2 entrée invalide, 130 interrompu."))
    parser.add_argument("--departement", required=True, help="code du département, p. ex. 38")
    parser.add_argument("--year", type=int, required=True, help="année des données, p. ex. 2024")
    parser.add_argument("--levels", type=_codes, default=list(LEVELS),
                        help="niveaux à construire, parmi commune,epci,departement,qpv "
                             "(défaut : commune,epci,departement ; qpv : les quartiers prioritaires)")
    parser.add_argument("--zones", type=_codes, default=[], help="codes des seuls territoires à construire")
    parser.add_argument("--params-dir", type=Path, default=None,
                        help="ne construire que les territoires décrits par les fichiers *.yml de ce dossier")
    parser.add_argument("--limit", type=int, default=None, help="au plus N territoires")
    parser.add_argument("--force", action="store_true", help="tout reconstruire, même ce qui est à jour")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local (processus de cette machine) ou dask (grappe distributed)")
    parser.add_argument("--scheduler", default=None, help="adresse du planificateur Dask, tcp://HÔTE:8786")
    parser.add_argument("--workers", type=int, default=None,
                        help="processus locaux (défaut : un par cœur)")
    parser.add_argument("--outputs", type=Path, default=None, help="dossier racine des rapports (outputs/)")
    parser.add_argument("--formats", type=_codes, default=None,
                        help="formats des territoires sans fichier de paramètres (défaut : pdf,html)")
    parser.add_argument("--recipient", default=DEFAULT_RECIPIENT,
                        help="destinataire imprimé en couverture (territoires sans fichier de paramètres)")
    parser.add_argument("--purpose", default=DEFAULT_PURPOSE,
                        help="objet de l'étude ({year} ou {annee} remplacé par l'année ; {{ et }} pour une accolade)")
    parser.add_argument("--data", default="demo", help="demo ou dossier de données importées")
    parser.add_argument("--renderer", choices=("builtin", "quarto"), default="builtin")
    parser.add_argument("--no-maps", dest="maps", action="store_false",
                        help="rapports sans cartes (territoires sans fichier de paramètres : « maps: false »)")
    parser.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    from ..errors import InputError, Problem

    problems = []
    if args.executor == "dask" and not args.scheduler:
        problems.append(Problem("--scheduler", "obligatoire avec --executor dask (tcp://HÔTE:8786)"))
    for fmt in args.formats or ():
        if fmt not in ("pdf", "html"):
            problems.append(Problem("--formats", "format inconnu ; attendu : pdf, html", value=fmt))
    if args.limit is not None and args.limit < 1:
        problems.append(Problem("--limit", "un nombre entier positif est attendu", value=args.limit))
    if args.workers is not None and args.workers < 1:
        problems.append(Problem("--workers", "un nombre entier positif est attendu", value=args.workers))
    if args.params_dir is not None and not args.params_dir.is_dir():
        problems.append(Problem(str(args.params_dir), "dossier de paramètres introuvable"))
    problems += _text_problems(args)
    if problems:
        raise InputError(problems)


def _text_problems(args: argparse.Namespace) -> list:
    """``--recipient`` and ``--purpose`` obey the limits of a parameter file's texts."""
    from ..batch import purpose_values
    from ..errors import InputError, Problem
    from ..params import LIMITS
    from ..safe_yaml import bad_character, shown
    from ..template import fill

    problems = []
    try:
        purpose = fill(args.purpose, purpose_values(args.year), "--purpose")
    except InputError as exc:
        return exc.problems
    for option, text in (("--recipient", args.recipient), ("--purpose", purpose)):
        limit = LIMITS[option.removeprefix("--")]
        if not text.strip() or len(text) > limit:
            problems.append(Problem(option, f"texte vide ou trop long ; au plus {limit} caractères",
                                    value=shown(text)))
        elif (char := bad_character(text)) is not None:
            problems.append(Problem(option, f"caractère interdit U+{ord(char):04X}", value=shown(text)))
    return problems


def _validate(jobs, args: argparse.Namespace, geography, data: str) -> None:
    """Every job's parameters checked against its data's years before anything is written."""
    from ..errors import InputError, Problem
    from ..dataref import DataRef
    from ..pipeline import validate_all

    problems = []
    try:
        validate_all([j.params_file for j in jobs if j.params_file], geography)
    except InputError as exc:
        problems += exc.problems
    if any(not j.params_file for j in jobs):
        years = DataRef.parse(data, Path.cwd()).years()
        if args.year not in years:
            problems.append(Problem("--year", "année absente des données ; années disponibles : "
                                    + ", ".join(map(str, years)), value=args.year))
    if problems:
        raise InputError(problems)


def run(args: argparse.Namespace) -> int:
    from ..batch import Defaults, plan, print_failures, run_batch
    from ..geography import load_geography
    from ..params import DEFAULT_FORMATS
    from ..paths import checked_outputs_root

    _check(args)
    root = checked_outputs_root(args.outputs).resolve()
    data = args.data if args.data == "demo" else str(Path(args.data).resolve())
    defaults = Defaults(recipient=args.recipient, purpose=args.purpose, data=data,
                        formats=tuple(args.formats or DEFAULT_FORMATS), maps=args.maps)
    geography = load_geography()
    jobs = plan(geography, args.departement, args.year, levels=args.levels, zones=args.zones,
                params_dir=args.params_dir, limit=args.limit, root=root, defaults=defaults,
                renderer=args.renderer)
    _validate(jobs, args, geography, data)  # nothing written before every input is known good
    outcome = run_batch(jobs, root=root, force=args.force, executor=args.executor, workers=args.workers,
                        scheduler=args.scheduler,
                        context={"departement": args.departement, "year": args.year,
                                 "levels": args.levels, "zones": args.zones, "force": args.force})
    print(f"{outcome.count('built')} construit(s), {outcome.count('skipped')} à jour, "
          f"{outcome.count('failed')} en échec, en {outcome.seconds:.1f} s. "
          f"Catalogue : {outcome.catalogue} ; bilan : {outcome.summary}", file=sys.stderr)
    if outcome.failures:
        print_failures(outcome)
    if outcome.interrupted:
        print("abs-report: interrompu ; les rapports publiés sont complets.", file=sys.stderr)
    return outcome.exit_status
