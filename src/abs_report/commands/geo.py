"""``abs-report geo import``: bring contours for maps outside the packaged territory."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    """Add ``geo import`` to the ``abs-report`` parser."""
    geo = subparsers.add_parser(
        "geo", help="importer des contours (fonds de carte)",
        description="Contours de communes ou d'IRIS pour les cartes des territoires sans fond de carte fourni.")
    sub = geo.add_subparsers(dest="geo_command", required=True, metavar="ACTION")
    imp = sub.add_parser(
        "import", help="valider et importer un fichier GeoJSON (WGS84)",
        description="Valide le fichier (JSON, FeatureCollection de polygones, coordonnées WGS84, codes connus "
                    "du COG, sans doublon), le projette en Lambert-93 et l'écrit dans DOSSIER/geometry.json.gz ; "
                    "rien n'est écrit en cas d'erreur (statut 2).")
    imp.add_argument("file", type=Path, metavar="FICHIER.geojson")
    imp.add_argument("--level", required=True, choices=("commune", "iris"), help="niveau des contours")
    imp.add_argument("--code-field", required=True, metavar="CHAMP", help="propriété qui porte le code")
    imp.add_argument("--name-field", metavar="CHAMP", help="propriété qui porte le nom (défaut : le COG)")
    imp.add_argument("--into", required=True, type=Path, metavar="DOSSIER",
                     help="dossier où écrire les contours (fichier remplacé de façon atomique)")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from ..geometry import read_geometry
    from ..sources.geo import import_contours

    written = import_contours(args.file, args.level, args.code_field, args.into, name_field=args.name_field)
    layer = "communes" if args.level == "commune" else "iris"
    count = len(read_geometry(written).layer(layer))
    print(f"Contours écrits dans {written} : {count} {'communes' if layer == 'communes' else 'IRIS'}.")
    return 0
