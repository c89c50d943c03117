"""Rebuild ``src/abs_report/data/geography.json.gz`` from the COG package.

The source is the npm package ``@etalab/decoupage-administratif`` (Licence
Ouverte), which publishes the Code officiel géographique with legal
populations. Run from the project root::

    .venv/bin/python scripts/build_geography.py            # npm pack 6.0.0
    .venv/bin/python scripts/build_geography.py --package-dir path/to/package
    .venv/bin/python scripts/build_geography.py --reuse-packaged  # offline: COG part kept

The derived file keeps only what reports need: current communes with their
département, région, EPCI and population; EPCI with their members (EPCI may
straddle départements); former commune codes mapped to today's commune; the
quartiers prioritaires de la politique de la ville (QPV 2024, ANCT) from
``../shared/geo/qpv_38_2024.csv`` with their communes, EPCI and département
(issue 15). Every QPV commune must be a current commune of the COG, else the
build stops.

``--reuse-packaged`` reads the COG part from the committed file instead of the
npm package (for a machine without registry access) and only replaces the QPV
table; both ways give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
POPULATION_YEAR = 2023  # populations légales millésime 2023, in force on 1 January 2026
OUTPUT = Path(__file__).resolve().parents[1] / "src" / "abs_report" / "data" / "geography.json.gz"
QPV_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "geo" / "qpv_38_2024.csv"
QPV_KEYS = ("qpv_columns", "qpv")


def fetch_package(workdir: Path) -> Path:
    """``npm pack`` the pinned version and unpack it; returns the package folder."""
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    tarball = next(workdir.glob("*.tgz"))
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def derive(package_dir: Path) -> dict:
    data = package_dir / "data"
    load = lambda name: json.loads((data / name).read_text(encoding="utf-8"))  # noqa: E731
    raw_communes = load("communes.json")
    raw_epci = load("epci.json")
    version = json.loads((package_dir / "package.json").read_text())["version"]

    current = [c for c in raw_communes if c["type"] == "commune-actuelle"]
    epci_of = {m["code"]: e["code"] for e in raw_epci for m in e["membres"]}
    communes = [
        [c["code"], c["nom"], c["departement"], c["region"], epci_of.get(c["code"], ""),
         int(c.get("population") or 0), int(c.get("typeLiaison", 0))]
        for c in sorted(current, key=lambda c: c["code"])
    ]
    current_codes = {c["code"] for c in current}
    former: dict[str, str] = {}
    for c in raw_communes:
        if c["type"] == "commune-actuelle":
            for old in c.get("anciensCodes", []):
                if old not in current_codes:
                    former[old] = c["code"]
        elif c["type"] in ("commune-deleguee", "commune-associee") and c.get("commune"):
            if c["code"] not in current_codes:
                former.setdefault(c["code"], c["commune"])
    epcis = [
        [e["code"], e["nom"], e["type"], sorted(m["code"] for m in e["membres"])]
        for e in sorted(raw_epci, key=lambda e: e["code"])
    ]
    departements = [[d["code"], d["nom"], d["region"], int(d.get("typeLiaison", 0))]
                    for d in load("departements.json")]
    regions = [[r["code"], r["nom"], int(r.get("typeLiaison", 0))] for r in load("regions.json")]
    digest = hashlib.sha256((data / "communes.json").read_bytes()).hexdigest()
    return {
        "meta": {
            "source": f"{PACKAGE} {version} (Code officiel géographique, Licence Ouverte)",
            "package": PACKAGE,
            "package_version": version,
            "population_year": POPULATION_YEAR,
            "population": "population municipale légale",
            "article": "INSEE TNCC (typeLiaison): 0/1 no article, 2 le, 3 la, 4 les, 5 l'",
            "communes_json_sha256": digest,
        },
        "communes_columns": ["code", "name", "departement", "region", "epci", "population", "article"],
        "communes": communes,
        "epci_columns": ["code", "name", "type", "members"],
        "epci": epcis,
        "departements_columns": ["code", "name", "region", "article"],
        "departements": departements,
        "regions_columns": ["code", "name", "article"],
        "regions": regions,
        "former_codes": dict(sorted(former.items())),
    }


def read_qpv(path: Path, derived: dict) -> list[list]:
    """QPV rows ``[code, name, communes, epci, departement]`` checked against the COG.

    Raises
    ------
    SystemExit
        When a QPV names a commune that is not a current commune of the COG,
        or when its communes lie in several départements.
    """
    departement_of = {row[0]: row[2] for row in derived["communes"]}
    rows, problems = [], []
    with open(path, encoding="utf-8", newline="") as handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            communes = sorted(c.strip() for c in rec["insee_com"].split(","))
            unknown = [c for c in communes if c not in departement_of]
            deps = sorted({departement_of.get(c) for c in communes} - {None})
            if unknown or len(deps) != 1:
                problems.append(f"{path}:{line}: {rec['code_qp']} communes {communes} "
                                f"(unknown to the COG: {unknown}, départements {deps})")
                continue
            rows.append([rec["code_qp"], rec["lib_qp"].strip(), communes, rec["siren_epci"], deps[0]])
    if problems:
        raise SystemExit("QPV not in the packaged COG:\n" + "\n".join(problems))
    return sorted(rows)


def with_qpv(derived: dict, qpv_source: Path) -> dict:
    """The COG payload plus its QPV table (replacing any previous one)."""
    out = {k: v for k, v in derived.items() if k not in QPV_KEYS}
    out["meta"] = dict(derived["meta"]) | {
        "qpv_source": "ANCT, quartiers prioritaires de la politique de la ville QP2024 "
                      "(décret 2023-1314), Licence Ouverte 2.0",
        "qpv_csv_sha256": hashlib.sha256(qpv_source.read_bytes()).hexdigest(),
    }
    out["qpv_columns"] = ["code", "name", "communes", "epci", "departement"]
    out["qpv"] = read_qpv(qpv_source, derived)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, help="an unpacked package (else npm pack)")
    parser.add_argument("--reuse-packaged", action="store_true",
                        help="take the COG part from the committed file (no npm), replace the QPV only")
    parser.add_argument("--qpv-source", type=Path, default=QPV_SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.reuse_packaged:
        derived = json.loads(gzip.decompress(OUTPUT.read_bytes()))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            package_dir = args.package_dir or fetch_package(Path(tmp))
            derived = derive(package_dir)
    derived = with_qpv(derived, args.qpv_source)
    payload = json.dumps(derived, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # mtime=0 keeps the gzip bytes reproducible.
    with open(args.output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)
    print(f"{args.output}: {len(derived['communes'])} communes, {len(derived['epci'])} EPCI, "
          f"{len(derived['former_codes'])} former codes, {len(derived['qpv'])} QPV")


if __name__ == "__main__":
    main()
