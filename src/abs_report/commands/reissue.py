"""``abs-report reissue --corrected-data DIR --reports OUTPUTS_DIR``: corrected re-issues."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date attendue au format AAAA-MM-JJ : {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "reissue", help="rééditer les rapports dont un chiffre publié change avec des données corrigées",
        description=("Recalcule published.csv de chaque rapport avec les données corrigées, réédite en "
                     "version suivante (report-v2.pdf...) ceux dont un chiffre change, avec un encadré "
                     "« Erratum », laisse les autres intacts, et écrit la liste des rapports réédités "
                     "(reissue-<date>.json et .csv) dans le dossier des rapports."))
    parser.add_argument("--corrected-data", type=Path, required=True,
                        help="jeu de données corrigé (construit par 'abs-report data import ... --into DIR')")
    parser.add_argument("--reports", type=Path, required=True, help="dossier racine des rapports (outputs/)")
    parser.add_argument("--date", type=_date, default=None,
                        help="date de la correction, AAAA-MM-JJ (défaut : aujourd'hui)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..reissue import reissue, summary_text

    outcome = reissue(args.corrected_data, args.reports, args.date)
    print(summary_text(outcome, args.reports))
    return 0
