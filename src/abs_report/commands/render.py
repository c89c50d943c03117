"""``abs-report render PARAMS.yml``: one report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render", help="construire le rapport d'un fichier de paramètres",
                            description="Construit outputs/<code>/<année>/ pour un fichier de paramètres.")
    parser.add_argument("params", type=Path, nargs="+", help="fichier(s) params/<territoire>.yml")
    parser.add_argument("--renderer", choices=("builtin", "quarto"), default="builtin",
                        help="builtin (pandoc + Typst) ou quarto (exécutable quarto dans le PATH)")
    parser.add_argument("--outputs", type=Path, default=None, help="dossier racine des rapports (outputs/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..geography import load_geography
    from ..paths import checked_input_file, checked_outputs_root
    from ..pipeline import render_report, validate_all

    # Every file and the outputs folder checked first: a bad second file must not leave the first built.
    for path in args.params:
        checked_input_file(path)
    checked_outputs_root(args.outputs)
    geography = load_geography()
    validate_all(args.params, geography)
    for path in args.params:
        start = time.perf_counter()
        folder = render_report(path, renderer=args.renderer, root=args.outputs, geography=geography)
        print(f"{path} -> {folder} ({time.perf_counter() - start:.1f} s)")
    return 0
