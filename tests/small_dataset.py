"""A small imported dataset and parameter files for tests that render (not collected).

Every commune of CC du Massif du Vercors (6 communes, Villard-de-Lans 38548),
2023 and 2024, as a tidy CSV imported with ``data import``: the secrecy mask of
Isère over so few communes takes a second, so a test renders a real report
without the demonstration data.
"""

from __future__ import annotations

from pathlib import Path

import yaml

VERCORS = "243801024"
VILLARD = "38548"
RATES = {"foyers_allocataires": 0.35, "personnes_couvertes": 0.8, "foyers_rsa": 0.025, "foyers_ppa": 0.09,
         "foyers_aides_logement": 0.11, "foyers_af": 0.12, "foyers_aah": 0.012}


def tidy_lines(geography, skip_commune: str | None = None) -> list[str]:
    """The tidy CSV; ``skip_commune`` leaves one commune out (a dataset that does not cover it)."""
    communes = geography.communes
    codes = sorted(communes.index[communes["epci"] == VERCORS])
    lines = ["zone_level,zone_code,year,measure,value"]
    for code in codes:
        if code == skip_commune:
            continue
        population = int(communes.at[code, "population"])
        for year, growth in ((2023, 0.97), (2024, 1.0)):
            for measure, rate in RATES.items():
                lines.append(f"commune,{code},{year},{measure},{round(population * rate * growth)}")
    return lines


def make_dataset(root: Path, geography, name: str = "data", skip_commune: str | None = None) -> Path:
    """Import the tidy CSV into ``root/name``; returns the dataset folder."""
    from abs_report.sources.importer import import_files

    root.mkdir(parents=True, exist_ok=True)
    csv_path = root / f"{name}.csv"
    csv_path.write_text("\n".join(tidy_lines(geography, skip_commune)) + "\n", encoding="utf-8")
    import_files([csv_path], root / name, geography=geography)
    return root / name


def write_params(path: Path, code: str = VILLARD, level: str = "commune", data: str = "../data",
                 formats=("html",), comparison_zones=None) -> Path:
    """A parameter file for the small dataset."""
    raw = {"territory": {"level": level, "code": code}, "year": 2024, "recipient": "CCAS de test",
           "purpose": "Analyse des besoins sociaux 2026-2032", "formats": list(formats), "data": data}
    if comparison_zones is not None:
        raw["comparison_zones"] = [{"level": lv, "code": c} for lv, c in comparison_zones]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
