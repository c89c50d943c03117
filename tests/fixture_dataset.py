"""The small imported dataset the manifest, reproducibility, verify and reissue tests build
their reports from (a helper module: pytest does not collect it).

The dataset: a tidy CSV (the CAF's internal extract format) covering every
commune of two small Isère EPCI — CC du Massif du Vercors (6 communes, with
Villard-de-Lans 38548) and 243800935 (6 communes) — for 2023 and 2024,
imported with ``abs_report.sources.importer.import_files``. The EPCI and
Isère are summed from these communes; the région and France are unknown
(partly covered), as the importer decides.
"""

from __future__ import annotations

from pathlib import Path

import yaml

VERCORS = "243801024"
OTHER_EPCI = "243800935"
VILLARD = "38548"
LANS = "38205"
RATES = {"foyers_allocataires": 0.35, "personnes_couvertes": 0.8, "foyers_rsa": 0.025, "foyers_ppa": 0.09,
         "foyers_aides_logement": 0.11, "foyers_af": 0.12, "foyers_aah": 0.012}


def fixture_rows(geography, corrections: dict | None = None, epcis=(VERCORS, OTHER_EPCI),
                 skip_commune: str | None = None) -> list[str]:
    """Tidy CSV lines for every commune of ``epcis``.

    ``corrections`` maps (commune, year, measure) to a replacement value;
    ``skip_commune`` leaves one commune out (a dataset that does not cover it).
    """
    communes = geography.communes
    codes = sorted(c for c in communes.index[communes["epci"].isin(list(epcis))] if c != skip_commune)
    lines = ["zone_level,zone_code,year,measure,value"]
    for code in codes:
        population = int(communes.at[code, "population"])
        for year, growth in ((2023, 0.97), (2024, 1.0)):
            for measure, rate in RATES.items():
                value = (corrections or {}).get((code, year, measure), round(population * rate * growth))
                lines.append(f"commune,{code},{year},{measure},{value}")
    return lines


def make_dataset(root: Path, geography, name: str = "data", corrections: dict | None = None,
                 epcis=(VERCORS, OTHER_EPCI), skip_commune: str | None = None) -> Path:
    """Write the tidy CSV under ``root`` and import it into ``root/name``; returns the dataset folder."""
    from abs_report.sources.importer import import_files

    root.mkdir(parents=True, exist_ok=True)
    csv_path = root / f"{name}.csv"
    lines = fixture_rows(geography, corrections, epcis, skip_commune)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_files([csv_path], root / name, geography=geography)
    return root / name


def write_params_file(path: Path, territory: tuple[str, str], recipient: str, data: str = "../data",
                      formats=("html",), comparison_zones=None) -> Path:
    """A parameter file for the fixture dataset."""
    raw = {"territory": {"level": territory[0], "code": territory[1]}, "year": 2024,
           "recipient": recipient, "purpose": "Analyse des besoins sociaux 2026-2032",
           "formats": list(formats), "data": data}
    if comparison_zones is not None:
        raw["comparison_zones"] = [{"level": lv, "code": c} for lv, c in comparison_zones]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
