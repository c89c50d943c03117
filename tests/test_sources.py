"""Real CAF data in: every supported layout round-trips to the same canonical table.

The fixture files are written here, by the tests, in the formats documented
in docs/DATA.md; the real Isère export lives in ../shared/data (skipped when
absent).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abs_report.cli import main
from abs_report.observations import load
from abs_report.sources.importer import import_files, read_notes

# A small canonical table: three Grenoble-area communes, December 2022.
# NaN is a blank cell (secret or missing): it must stay unknown, never zero.
TABLE = {
    "38185": {"foyers_allocataires": 51135, "personnes_couvertes": 91305, "foyers_rsa": 5220,
              "foyers_rsa_majore": 1020, "foyers_rsa_non_majore": 4200, "foyers_aah": 3900,
              "foyers_apl": 20105},
    "38421": {"foyers_allocataires": 9850, "personnes_couvertes": 22310, "foyers_rsa": 905,
              "foyers_rsa_majore": 175, "foyers_rsa_non_majore": 730, "foyers_aah": 610,
              "foyers_apl": np.nan},
    "38151": {"foyers_allocataires": 10440, "personnes_couvertes": 25685, "foyers_rsa": 1040,
              "foyers_rsa_majore": 215, "foyers_rsa_non_majore": 825, "foyers_aah": 655,
              "foyers_apl": 4410},
}
YEAR = 2022


def cell(value) -> str:
    return "" if isinstance(value, float) and math.isnan(value) else str(int(value))


def write(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def cafdata_files(folder: Path) -> list[Path]:
    """s_ben_com_f + rsa_s_type_com_f, as exported by data.caf.fr."""
    main_cols = {"indfoy_ndur": "foyers_allocataires", "indnbp_ndur": "personnes_couvertes",
                 "indfoy_rsa": "foyers_rsa", "indfoy_aah": "foyers_aah", "indfoy_apl": "foyers_apl"}
    lines = ["dtreffre;numcomdo;nomcom;numepci;numdep;numregi;" + ";".join(main_cols) + ";indfoy_ndurhd"]
    for code, row in TABLE.items():
        values = ";".join(cell(row[m]) for m in main_cols.values())
        lines.append(f"{YEAR}-12;{code};Commune {code};200040715;38;84;{values};5")
        lines.append(f"{YEAR}-06;{code};Commune {code};200040715;38;84;{values};5")  # other month: ignored
    com = write(folder / "s_ben_com_f.csv", lines, bom=True)
    lines = ["dtreffre;numcomdo;nomcom;rsa_type;indfoy_rsa"]
    for code, row in TABLE.items():
        lines.append(f"{YEAR}-12;{code};Commune {code};RSA majoré;{cell(row['foyers_rsa_majore'])}")
        lines.append(f"{YEAR}-12;{code};Commune {code};RSA non majoré;{cell(row['foyers_rsa_non_majore'])}")
        lines.append(f"{YEAR}-12;{code};Commune {code};Ensemble;{cell(row['foyers_rsa'])}")
    rsa = write(folder / "rsa_s_type_com_f.csv", lines)
    return [com, rsa]


def legacy_files(folder: Path) -> list[Path]:
    """NivComTotal (year from DTREF), RSACom, AAHCom and LOGCom (year from the file name)."""
    themes = {
        f"NivComTotal{YEAR}.csv": {"NB_Allocataires": "foyers_allocataires",
                                   "NB_Pers_par_Foyer_Alloc": "personnes_couvertes"},
        f"RSACom{YEAR}.csv": {"NB_allocataires": "foyers_allocataires", "ALL_RSA": "foyers_rsa",
                              "ALL_RSA_MAJORE": "foyers_rsa_majore",
                              "ALL_RSA_NON_MAJORE": "foyers_rsa_non_majore"},
        f"AAHCom{YEAR}.csv": {"ALL_AAH": "foyers_aah"},
        f"LOGCom{YEAR}.csv": {"ALL_APL": "foyers_apl", "ALL_CMG_OTHER": None},
    }
    files = []
    for name, columns in themes.items():
        dated = name.startswith("NivComTotal")
        header = "Communes;Codes_Insee;" + ("DTREF;" if dated else "") + ";".join(columns)
        lines = [header,
                 "Allocataires résidant à l'étranger;99999;" + ("31/12/2022;" if dated else "") + ";" * (len(columns) - 1),
                 "Commune inconnue;XXXXX;" + ("31/12/2022;" if dated else "") + ";" * (len(columns) - 1)]
        for code, row in TABLE.items():
            values = ";".join(cell(row[m]) if m else "7" for m in columns.values())
            lines.append(f"Commune {code};{code};" + ("31/12/2022;" if dated else "") + values)
        files.append(write(folder / name, lines))
    return files


def tidy_rows() -> list[tuple[str, str, str]]:
    """(measure, category, value) per commune; RSA types through ``category``."""
    out = []
    for code, row in TABLE.items():
        for m, v in row.items():
            if m.startswith("foyers_rsa_"):
                out.append((code, "foyers_rsa", m, v))
            else:
                out.append((code, m, "", v))
    return out


def tidy_file(folder: Path) -> list[Path]:
    lines = ["zone_level,zone_code,year,measure,value,category"]
    lines += [f"commune,{code},{YEAR},{m},{cell(v)},{cat}" for code, m, cat, v in tidy_rows()]
    return [write(folder / "extrait.csv", lines)]


def mapped_tidy_file(folder: Path) -> tuple[list[Path], Path]:
    names = {"foyers_allocataires": "NB_ALLOC", "personnes_couvertes": "NB_PERS"}
    lines = ["niveau;code_geo;annee;indicateur;modalite;valeur"]
    lines += [f"com;{code};{YEAR};{names.get(m, m)};{cat};{cell(v)}" for code, m, cat, v in tidy_rows()]
    mapping = folder / "mapping.yml"
    mapping.write_text(
        "columns:\n  niveau: zone_level\n  code_geo: zone_code\n  annee: year\n"
        "  indicateur: measure\n  modalite: category\n  valeur: value\n"
        "measures:\n  NB_ALLOC: foyers_allocataires\n  NB_PERS: personnes_couvertes\n"
        "levels:\n  com: commune\n", encoding="utf-8")
    return [write(folder / "extrait_interne.csv", lines)], mapping


def expected_table() -> pd.DataFrame:
    rows = [("commune", code, YEAR, m, float(v)) for code, row in TABLE.items() for m, v in row.items()]
    return frame(rows)


def frame(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["zone_level", "zone_code", "year", "measure", "value"])
    return out.sort_values(["zone_code", "measure"]).reset_index(drop=True)


def commune_rows(folder: Path) -> pd.DataFrame:
    obs = load(folder).observations
    keep = (obs["zone_level"] == "commune") & obs["measure"].isin(next(iter(TABLE.values())))
    obs = obs[keep & obs["zone_code"].isin(TABLE)]
    return frame(obs[["zone_level", "zone_code", "year", "measure", "value"]].itertuples(index=False))


@pytest.mark.parametrize("layout", ["cafdata", "legacy", "tidy", "tidy_mapping"])
def test_every_layout_round_trips_to_the_same_canonical_table(tmp_path, layout, geography):
    mapping = None
    if layout == "cafdata":
        files = cafdata_files(tmp_path)
    elif layout == "legacy":
        files = legacy_files(tmp_path)
    elif layout == "tidy":
        files = tidy_file(tmp_path)
    else:
        files, mapping = mapped_tidy_file(tmp_path)
    into = tmp_path / "dataset"
    import_files(files, into, geography, mapping_file=mapping)
    pd.testing.assert_frame_equal(commune_rows(into), expected_table())
    obs = load(into).observations
    assert obs.loc[(obs["zone_code"] == "38421") & (obs["measure"] == "foyers_apl"), "value"].isna().all(), \
        "a blank cell must stay unknown, never zero"


def test_cafdata_metadata_says_rounded_and_notes_what_was_skipped(tmp_path, geography):
    into = tmp_path / "dataset"
    dataset = import_files(cafdata_files(tmp_path), into, geography)
    assert dataset.meta.rounded_to == 5 and not dataset.meta.synthetic
    assert [Path(f.path).name for f in dataset.meta.inputs] == ["s_ben_com_f.csv", "rsa_s_type_com_f.csv"]
    notes = "\n".join(read_notes(into))
    assert "2022-06" in notes                       # other months dropped, said
    assert "indfoy_ndurhd" in notes                 # benefit without catalogue measure, said
    assert "arrondis à 5" in notes


def test_legacy_pseudo_communes_are_skipped_with_a_note(tmp_path, geography):
    into = tmp_path / "dataset"
    import_files(legacy_files(tmp_path), into, geography)
    notes = "\n".join(read_notes(into))
    assert "99999" in notes and "XXXXX" in notes and "all_cmg_other" in notes
    assert "identique" in notes  # NB_allocataires repeated by two theme files, kept once
    obs = load(into).observations
    assert not obs["zone_code"].isin(["99999", "XXXXX"]).any()


def test_former_commune_codes_are_summed_into_todays_commune(tmp_path, geography):
    # 38479 absorbed 38016, 38121 and 38274 (anciensCodes in the COG).
    assert {geography.current_commune_code(c) for c in ("38016", "38121", "38274")} == {"38479"}
    lines = ["dtreffre;numcomdo;indfoy_ndur;indfoy_rsa",
             "2022-12;38016;100;10", "2022-12;38121;50;", "2022-12;38274;25;5"]
    into = tmp_path / "dataset"
    import_files([write(tmp_path / "old_codes.csv", lines)], into, geography)
    obs = load(into).observations
    commune = obs[(obs["zone_level"] == "commune") & (obs["zone_code"] == "38479")].set_index("measure")["value"]
    assert commune["foyers_allocataires"] == 175
    assert math.isnan(commune["foyers_rsa"]), "a sum with an unknown part is unknown"
    assert not obs["zone_code"].isin(["38016", "38121", "38274"]).any()
    assert "38016 -> 38479" in "\n".join(read_notes(into))


def test_insee_population_replaces_the_cog_population(tmp_path, geography):
    data = write(tmp_path / "s_ben_com_f.csv", ["dtreffre;numcomdo;indfoy_ndur;indnbp_ndur",
                                               "2022-12;38185;51135;91305", "2022-12;38479;80;200"])
    pop = write(tmp_path / "populations.csv", ["COM;NCC;PMUN;PCAP", "38185;GRENOBLE;158000;160000",
                                              "38016;ANCIENNE;10;10", "38121;ANCIENNE;20;20"])
    into = tmp_path / "dataset"
    dataset = import_files([data], into, geography, population_file=pop)
    obs = load(into).observations
    pop_of = obs[obs["measure"] == "population_municipale"].set_index(["zone_level", "zone_code", "year"])["value"]
    assert pop_of[("commune", "38185", 2022)] == 158000
    assert pop_of[("commune", "38479", 2022)] == 30          # two former communes summed
    assert "Insee" in dataset.meta.description
    assert Path(dataset.meta.inputs[-1].path).name == "populations.csv"


def test_import_command_writes_the_dataset_and_prints_notes(tmp_path, capsys):
    files = cafdata_files(tmp_path)
    into = tmp_path / "dataset"
    assert main(["data", "import", *map(str, files), "--into", str(into)]) == 0
    out = capsys.readouterr().out
    assert str(into) in out and "note" in out
    assert (into / "dataset.json").exists() and (into / "observations.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dataset.") and p.is_dir()], "no scratch folder left"


def test_reimport_replaces_an_existing_dataset(tmp_path, geography):
    into = tmp_path / "dataset"
    import_files(tidy_file(tmp_path), into, geography)
    import_files(cafdata_files(tmp_path), into, geography)
    assert load(into).meta.name == "cafdata"


# --- the real Isère export ----------------------------------------------------------------

@pytest.fixture(scope="module")
def isere(tmp_path_factory, geography):
    root = Path(__file__).resolve().parents[2] / "shared" / "data"
    path = root / "cafdata" / "s_ben_com_f_isere_2020-2022.csv"
    if not path.exists():
        pytest.skip(f"real Cafdata export not found at {path} (../shared sits beside the checkout in CI)")
    into = tmp_path_factory.mktemp("isere") / "dataset"
    import_files([path], into, geography)
    return load(into)


@pytest.mark.realdata
def test_real_isere_export_grenoble_2022(isere):
    obs = isere.observations
    grenoble = obs[(obs["zone_level"] == "commune") & (obs["zone_code"] == "38185") & (obs["year"] == 2022)]
    values = grenoble.set_index("measure")["value"]
    assert values["personnes_couvertes"] == 91305
    assert values["foyers_allocataires"] == 51135
    assert values["population_municipale"] == 156140
    assert round(values["personnes_couvertes"] / values["population_municipale"] * 100) == 58
    assert isere.meta.rounded_to == 5 and isere.meta.years == (2020, 2021, 2022)


@pytest.mark.realdata
def test_real_isere_export_matches_the_readme_sums(isere):
    obs = isere.observations
    communes = obs[(obs["zone_level"] == "commune") & (obs["year"] == 2022)]
    sums = communes.groupby("measure")["value"].sum()
    assert sums["foyers_allocataires"] == 254875
    assert sums["personnes_couvertes"] == 638945
    assert sums["foyers_rsa"] == 21965
    assert sums["foyers_ppa"] == 79430
    assert sums["foyers_aides_logement"] == 103395
    assert sums["foyers_af"] == 101575
    assert sums["foyers_paje"] == 38030
    assert communes.loc[communes["measure"] == "foyers_allocataires", "value"].notna().sum() == 511


@pytest.mark.realdata
def test_real_isere_export_never_passes_isere_off_as_france(isere):
    obs = isere.observations
    wide = obs[(obs["year"] == 2022) & (obs["measure"] == "foyers_allocataires")]
    value = wide.set_index(["zone_level", "zone_code"])["value"]
    assert math.isnan(value[("france", "FR")]) and math.isnan(value[("region", "84")])
    assert value[("epci", "200040715")] > 100_000   # Grenoble-Alpes-Métropole lies wholly in Isère


@pytest.mark.realdata
def test_real_isere_export_departement_total(isere):
    obs = isere.observations
    row = obs[(obs["zone_level"] == "departement") & (obs["zone_code"] == "38") & (obs["year"] == 2022)
              & (obs["measure"] == "foyers_allocataires")]
    assert row["value"].iloc[0] == 254875
