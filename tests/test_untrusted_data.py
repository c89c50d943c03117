"""Datasets and caches are untrusted inputs.

A number misread on import, a short row or a poisoned cache gives a wrong
report without a word; each case here must instead end in a clear error
(exit 2, nothing written) or, for a cache, in a rebuilt artefact and the right
figure. See docs/SECURITY.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from abs_report.cli import main

CAF_HEADER = "dtreffre;numcomdo;nomcom;indfoy_ndur;indnbp_ndur"
LEGACY_HEADER = "Communes;Codes_Insee;DTREF;NB_Allocataires;NB_Pers_par_Foyer_Alloc"
TIDY_HEADER = "zone_level;zone_code;year;measure;value"

MALFORMED_COUNTS = [
    "1,260",     # thousands comma (or a decimal comma): was read as 1.26
    "1.260",     # thousands dot: was read as 1.26
    "1260,5",    # half a foyer
    "1e40",      # exponent, absurd
    "-5",        # negative count
    "12abc",     # trailing garbage
    "inf",
    "NaN",       # NaN as text is not a blank cell
    "1 260",     # space as thousands separator
    "12.0",      # a float export of a count: refused too (no guessing)
    "0x10",
    "+7",
    "123456789012",  # more foyers than people in France
]


def _layouts(value: str) -> dict[str, tuple[str, str]]:
    """Format -> (file text with ``value`` in a count cell of line 3, column named in the message)."""
    return {
        "cafdata": (f"{CAF_HEADER}\n2022-12;38001;Les Abrets;1190;3285\n2022-12;38185;Grenoble;{value};91305\n",
                    "indfoy_ndur"),
        "legacy": (f"{LEGACY_HEADER}\nLes Abrets;38001;31/12/2022;1190;3285\n"
                   f"Grenoble;38185;31/12/2022;{value};91305\n", "nb_allocataires"),
        "tidy": (f"{TIDY_HEADER}\ncommune;38001;2022;foyers_allocataires;1190\n"
                 f"commune;38185;2022;foyers_allocataires;{value}\n", "value"),
    }


def _import(tmp_path: Path, text: str, name: str = "data.csv", extra=()) -> tuple[int, str, Path]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    into = tmp_path / "dataset"
    status = main(["data", "import", str(path), "--into", str(into), *extra])
    return status, str(path), into


CASES = [(layout, value) for layout in ("cafdata", "legacy", "tidy") for value in MALFORMED_COUNTS]


@pytest.mark.parametrize("layout,value", CASES, ids=[f"{lay}-{val}" for lay, val in CASES])
def test_a_malformed_count_is_refused_naming_file_line_column_and_value(tmp_path, capsys, layout, value):
    text, column = _layouts(value)[layout]
    status, path, into = _import(tmp_path, text)
    err = capsys.readouterr().err
    assert status == 2, err
    assert path in err and "ligne 3" in err and f"'{column}'" in err and repr(value) in err, err
    assert "Traceback" not in err
    assert not into.exists()


@pytest.mark.parametrize("layout", ["cafdata", "legacy", "tidy"])
def test_a_well_formed_count_and_a_blank_cell_still_import(tmp_path, capsys, layout):
    text, _ = _layouts("51135")[layout]
    blank = text.replace("1190", "")  # a blank cell: unknown, never zero
    status, _, into = _import(tmp_path, blank)
    assert status == 0, capsys.readouterr().err
    from abs_report.observations import load

    obs = load(into).observations
    obs = obs[(obs["zone_level"] == "commune") & (obs["measure"] == "foyers_allocataires")]
    values = dict(zip(obs["zone_code"], obs["value"]))
    assert values["38185"] == 51135 and math.isnan(values["38001"])


def test_an_amount_may_have_cents_but_no_ambiguous_separator(tmp_path, capsys):
    header = "dtreffre;numcomdo;nomcom;indfoy_rsa;indmtt_rsa"
    status, _, into = _import(tmp_path, f"{header}\n2022-12;38185;Grenoble;5220;3245678.50\n")
    assert status == 0, capsys.readouterr().err
    from abs_report.observations import load

    obs = load(into).observations
    amount = obs[(obs["zone_code"] == "38185") & (obs["measure"] == "montant_rsa")]["value"]
    assert amount.tolist() == [3245678.5]
    for i, bad in enumerate(("3.245.678", "3245678,50", "1.260", "-10", "1e9", "12.5.0")):
        (tmp_path / str(i)).mkdir()
        status, path, _ = _import(tmp_path / str(i), f"{header}\n2022-12;38185;Grenoble;5220;{bad}\n")
        err = capsys.readouterr().err
        assert status == 2 and "ligne 2" in err and "'indmtt_rsa'" in err and repr(bad) in err, (bad, err)


def test_a_malformed_population_is_refused(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text(f"{CAF_HEADER}\n2022-12;38185;Grenoble;51135;91305\n", encoding="utf-8")
    pop = tmp_path / "pop.csv"
    pop.write_text("COM;PMUN\n38185;156.140\n", encoding="utf-8")
    status = main(["data", "import", str(data), "--population", str(pop), "--into", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and str(pop) in err and "ligne 2" in err and "'pmun'" in err and "'156.140'" in err
    assert not (tmp_path / "out").exists()


ROWS = {
    "cafdata": (CAF_HEADER, "2022-12;38001;Les Abrets;1190;3285", "2022-12;38185;Grenoble;51135"),
    "legacy": (LEGACY_HEADER, "Les Abrets;38001;31/12/2022;1190;3285", "Grenoble;38185;31/12/2022;51135"),
    "tidy": (TIDY_HEADER, "commune;38001;2022;foyers_allocataires;1190", "commune;38185;2022;foyers_allocataires"),
}


@pytest.mark.parametrize("layout", sorted(ROWS))
@pytest.mark.parametrize("shape", ["short", "long", "all_long"])
def test_a_row_with_the_wrong_number_of_fields_is_refused(tmp_path, capsys, layout, shape):
    header, good, short = ROWS[layout]
    if shape == "short":
        lines = [header, good, short]
    elif shape == "long":
        lines = [header, good, good + ";7"]
    else:  # every row long: pandas would silently take the first column as an index
        lines = [header, good + ";7", good.replace("38001", "38185") + ";7"]
    status, path, into = _import(tmp_path, "\n".join(lines) + "\n")
    err = capsys.readouterr().err
    assert status == 2, err
    line = 2 if shape == "all_long" else 3
    assert path in err and f"ligne {line}" in err and "champs" in err, err
    assert "Traceback" not in err and not into.exists()


def test_a_comma_in_an_unquoted_tidy_value_is_a_long_row(tmp_path, capsys):
    text = "zone_level,zone_code,year,measure,value\ncommune,38185,2022,foyers_allocataires,1,260\n"
    status, path, into = _import(tmp_path, text)
    err = capsys.readouterr().err
    assert status == 2 and path in err and "ligne 2" in err and "champs" in err, err
    assert not into.exists()


def test_a_quoted_thousands_comma_in_a_tidy_value_is_refused(tmp_path, capsys):
    text = 'zone_level,zone_code,year,measure,value\ncommune,38185,2022,foyers_allocataires,"1,260"\n'
    status, path, _ = _import(tmp_path, text)
    err = capsys.readouterr().err
    assert status == 2 and "ligne 2" in err and "'value'" in err and "'1,260'" in err, err


# --- caches: checked against the hash of their content before use -----------------------------------

def _small_table(geography):
    """Observations of one EPCI of four communes (a mask in well under a second)."""
    from abs_report.secrecy import load_rules

    for epci, members in sorted(geography.epcis["members"].items()):
        if len(members) == 4:
            break
    values = {c: v for c, v in zip(members, [3, 40, 55, 70])}
    rows = [("commune", c, 2024, "foyers_rsa", float(v)) for c, v in values.items()]
    rows.append(("epci", epci, 2024, "foyers_rsa", 168.0))
    obs = pd.DataFrame(rows, columns=["zone_level", "zone_code", "year", "measure", "value"])
    zones = [("commune", c) for c in members] + [("epci", epci)]
    return obs, zones, load_rules()


def _mask_file(cache: Path) -> Path:
    (table,) = sorted((cache / "masks").glob("*.parquet"))
    return table


def _poison_values(table: Path) -> None:
    """Double every value, keep every status: the statuses-only hash of old did not see it."""
    cells = pd.read_parquet(table)
    cells["value"] = cells["value"] * 2
    cells.to_parquet(table, index=False)


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "avertissement" in line]


def test_a_poisoned_mask_value_is_detected_and_rebuilt(geography, tmp_path, capsys):
    from abs_report.secrecy import load_or_protect, protect

    obs, zones, rules = _small_table(geography)
    first = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path)
    pristine = _mask_file(tmp_path).read_bytes()
    _poison_values(_mask_file(tmp_path))
    capsys.readouterr()
    again = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path)
    fresh = protect(obs, 2024, zones, geography, rules)
    pd.testing.assert_frame_equal(again.cells.reset_index(drop=True), fresh.cells.reset_index(drop=True))
    assert again.mask_hash == first.mask_hash == fresh.mask_hash
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and "masque" in warnings[0] and "reconstruit" in warnings[0], warnings
    assert _mask_file(tmp_path).read_bytes() == pristine, "the cache holds the rebuilt mask"


def test_intact_cells_of_another_entry_are_refused_and_rebuilt(geography, tmp_path, capsys):
    """Two sound entries whose cell files are swapped, sidecars and all: each metadata file names
    its own cells by their SHA-256, so neither mask hash is trusted for the other's cells."""
    import shutil

    from abs_report.checked_cache import sidecar
    from abs_report.secrecy import load_or_protect

    obs, zones, rules = _small_table(geography)
    other = obs.assign(value=obs["value"] + 10)
    first = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path / "a")
    load_or_protect("t", other, 2024, zones, geography, rules, tmp_path / "b")
    mine, theirs = _mask_file(tmp_path / "a"), _mask_file(tmp_path / "b")
    shutil.copyfile(theirs, mine)
    shutil.copyfile(sidecar(theirs), sidecar(mine))
    capsys.readouterr()
    again = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path / "a")
    assert again.mask_hash == first.mask_hash
    assert again.cells["value"].tolist() == first.cells["value"].tolist()
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and "masque" in warnings[0], warnings


def test_the_cache_probe_reads_no_cells_and_sees_a_damaged_entry(geography, tmp_path, monkeypatch):
    """A batch asks whether each year is cached before its workers start: the answer comes from
    the metadata file alone, and an entry without its metadata is not cached."""
    from abs_report.secrecy import load_or_protect, mask
    from abs_report.secrecy.mask import cached_hash

    obs, zones, rules = _small_table(geography)
    assert cached_hash("t", obs, 2024, zones, rules, tmp_path) is None
    first = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path)
    monkeypatch.setattr(mask, "_decode", lambda *a: pytest.fail("the probe decoded cells"))
    assert cached_hash("t", obs, 2024, zones, rules, tmp_path) == first.mask_hash
    assert cached_hash("t", obs.assign(value=obs["value"] + 1), 2024, zones, rules, tmp_path) is None
    _mask_file(tmp_path).with_suffix(".json").write_text("{}", encoding="utf-8")
    assert cached_hash("t", obs, 2024, zones, rules, tmp_path) is None


def test_the_mask_hash_covers_values_not_only_statuses(geography):
    from abs_report.secrecy import mask_hash, protect

    obs, zones, rules = _small_table(geography)
    cells = protect(obs, 2024, zones, geography, rules).cells
    assert mask_hash(cells.assign(value=cells["value"] * 2)) != mask_hash(cells)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "sidecar_garbage", "sidecar_missing",
                                    "json_garbage", "json_missing"])
def test_a_damaged_mask_cache_is_rebuilt_with_a_warning_never_a_crash(geography, tmp_path, capsys, damage):
    from abs_report.secrecy import load_or_protect, protect

    obs, zones, rules = _small_table(geography)
    load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path)
    table = _mask_file(tmp_path)
    sidecars = [p for p in table.parent.iterdir() if p != table]
    json_file = table.with_suffix(".json")
    if damage == "truncated":
        table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    elif damage == "garbage":
        table.write_bytes(b"PAR1 not a parquet file at all \x00\xff" * 50)
    elif damage == "empty":
        table.write_bytes(b"")
    elif damage.startswith("sidecar"):
        for side in sidecars:
            if side != json_file:
                side.unlink() if damage == "sidecar_missing" else side.write_bytes(b"\x00garbage\n")
    elif damage == "json_garbage":
        json_file.write_text("{not json", encoding="utf-8")
    else:
        json_file.unlink()
    capsys.readouterr()
    again = load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path)
    fresh = protect(obs, 2024, zones, geography, rules)
    pd.testing.assert_frame_equal(again.cells.reset_index(drop=True), fresh.cells.reset_index(drop=True))
    assert len(_warnings(capsys.readouterr().err)) == 1
    assert load_or_protect("t", obs, 2024, zones, geography, rules, tmp_path).mask_hash == fresh.mask_hash
    assert not _warnings(capsys.readouterr().err), "the rebuilt cache is trusted again"


def test_a_poisoned_demo_dataset_is_detected_and_regenerated(geography, tmp_path, monkeypatch, capsys):
    from abs_report.observations import DatasetMeta, assemble
    from abs_report.sources import synthetic

    rows = pd.DataFrame([("commune", "38185", 2024, "foyers_rsa", 5220.0)],
                        columns=["zone_level", "zone_code", "year", "measure", "value"])
    tiny = assemble(rows, DatasetMeta(name="demonstration", synthetic=True), geography)
    monkeypatch.setattr(synthetic, "generate", lambda geography: tiny)  # the real one takes 30 s
    folder = synthetic.demo_folder(tmp_path)
    parquet = folder / "observations.parquet"
    pristine = parquet.read_bytes()
    obs = pd.read_parquet(parquet)
    obs.loc[obs["measure"] == "foyers_rsa", "value"] = 10440.0
    obs.to_parquet(parquet, index=False)
    capsys.readouterr()
    dataset = synthetic.demo_dataset(tmp_path)
    value = dataset.observations.query("zone_code == '38185' and measure == 'foyers_rsa'")["value"]
    assert value.tolist() == [5220.0]
    assert len(_warnings(capsys.readouterr().err)) == 1
    assert parquet.read_bytes() == pristine
    (folder / "dataset.json").write_text("{garbage", encoding="utf-8")
    synthetic._VERIFIED.clear() if hasattr(synthetic, "_VERIFIED") else None
    assert synthetic.demo_dataset(tmp_path).meta.synthetic
    assert len(_warnings(capsys.readouterr().err)) == 1


# --- a report built from a cache: the cache cannot change a figure, verify does not trust it -----------

def _figure(report: Path, measure: str = "foyers_allocataires") -> str:
    import csv

    with open(report / "published.csv", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            if (row["table_id"], row["zone_code"], row["measure"], row["year"]) == (
                    "T01_vue_ensemble", "38548", measure, "2024"):
                return row["value"]
    raise AssertionError("row not found")


def _villard_masks(cache: Path):
    for table in sorted((cache / "masks").glob("*.parquet")):
        cells = pd.read_parquet(table)
        hit = (cells["zone_code"] == "38548") & (cells["measure"] == "foyers_allocataires") & (cells["year"] == 2024)
        if hit.any():
            yield table, cells, hit


@pytest.fixture
def small_report(tmp_path, geography, monkeypatch):
    from small_dataset import make_dataset, write_params

    monkeypatch.setenv("ABS_REPORT_CACHE", str(tmp_path / "cache"))
    make_dataset(tmp_path, geography)
    params = write_params(tmp_path / "params" / "villard.yml")
    return tmp_path, params


@pytest.mark.slow
def test_a_render_never_uses_a_poisoned_mask(small_report, capfd):
    capsys = capfd  # masks of several years are loaded in forked workers: capture the file descriptors
    root, params = small_report
    assert main(["render", str(params), "--outputs", str(root / "outputs")]) == 0
    right = _figure(root / "outputs" / "38548" / "2024")
    poisoned = 0
    for table, _, _ in _villard_masks(root / "cache"):
        _poison_values(table)
        poisoned += 1
    assert poisoned
    capsys.readouterr()
    assert main(["render", str(params), "--outputs", str(root / "again")]) == 0
    assert _figure(root / "again" / "38548" / "2024") == right
    assert _warnings(capsys.readouterr().err)


@pytest.mark.slow
def test_verify_detects_a_report_built_from_a_forged_cache(small_report, capsys):
    """A forger who rewrites a mask and its checksums fools the cache, not verify."""
    from abs_report.secrecy.mask import Protection, mask_hash, store

    root, params = small_report
    assert main(["render", str(params), "--outputs", str(root / "outputs")]) == 0
    right = _figure(root / "outputs" / "38548" / "2024")
    for table, cells, hit in _villard_masks(root / "cache"):
        cells.loc[hit, "value"] = cells.loc[hit, "value"] * 2
        meta = json.loads(table.with_suffix(".json").read_text(encoding="utf-8"))
        store(table, table.with_suffix(".json"),
              Protection(cells, meta["passes"], meta["rules_version"], mask_hash(cells)))
    assert main(["render", str(params), "--outputs", str(root / "forged")]) == 0
    forged = root / "forged" / "38548" / "2024"
    assert _figure(forged) != right, "the forgery took: the report is wrong"
    capsys.readouterr()
    assert main(["verify", str(forged)]) == 1
    out = capsys.readouterr().out
    assert "PAS reproduit" in out and right in out
    assert main(["verify", str(root / "outputs" / "38548" / "2024")]) == 0, "the good report still verifies"


# --- a dataset that does not cover the territory ----------------------------------------------------------

def test_a_dataset_without_the_territory_is_refused(tmp_path, geography, capsys):
    from small_dataset import VILLARD, make_dataset, write_params

    make_dataset(tmp_path, geography, skip_commune=VILLARD)
    params = write_params(tmp_path / "params" / "villard.yml")
    assert main(["render", str(params), "--outputs", str(tmp_path / "outputs")]) == 2
    err = capsys.readouterr().err
    assert str(params) in err and "'data'" in err and "'../data'" in err and VILLARD in err and "2024" in err, err
    assert "Traceback" not in err and not (tmp_path / "outputs").exists()


def test_a_comparison_zone_absent_from_the_dataset_is_noted(tmp_path, geography, capsys):
    from abs_report.pipeline import read_report_params
    from small_dataset import make_dataset, write_params

    make_dataset(tmp_path, geography)
    params = write_params(tmp_path / "params" / "villard.yml",
                          comparison_zones=[("commune", "38185"), ("departement", "38")])
    read_report_params(params, geography)
    err = capsys.readouterr().err
    assert "38185" in err and "zone de comparaison" in err and "note" in err, err
    assert "departement 38" not in err, "Isère is summed from the imported communes"


# --- a forged dataset folder ---------------------------------------------------------------------------------

def _forge(folder: Path, how: str) -> None:
    meta, parquet = folder / "dataset.json", folder / "observations.parquet"
    if how == "meta_garbage":
        meta.write_bytes(b"{not json \xff")
    elif how == "meta_list":
        meta.write_text("[1, 2]", encoding="utf-8")
    elif how == "meta_wrong_types":
        raw = json.loads(meta.read_text(encoding="utf-8"))
        raw.update(years="2024", synthetic="yes", inputs=[{"path": 3}])
        meta.write_text(json.dumps(raw), encoding="utf-8")
    elif how == "meta_unknown_key":
        raw = json.loads(meta.read_text(encoding="utf-8"))
        raw["output_dir"] = "/etc"
        meta.write_text(json.dumps(raw), encoding="utf-8")
    elif how == "meta_missing":
        meta.unlink()
    elif how == "parquet_missing":
        parquet.unlink()
    elif how == "parquet_garbage":
        parquet.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    elif how == "parquet_truncated":
        parquet.write_bytes(parquet.read_bytes()[:200])
    elif how == "value_as_text":
        obs = pd.read_parquet(parquet)
        obs["value"] = obs["value"].astype(str)
        obs.to_parquet(parquet, index=False)
    elif how == "column_missing":
        pd.read_parquet(parquet).drop(columns=["measure"]).to_parquet(parquet, index=False)
    elif how == "negative_and_unknown":
        obs = pd.read_parquet(parquet)
        obs.loc[obs.index[:3], "value"] = -4.0
        obs.loc[obs.index[3:5], "measure"] = "<script>"
        obs.to_parquet(parquet, index=False)
    elif how == "folder_is_a_file":
        import shutil

        shutil.rmtree(folder)
        folder.write_text("not a folder", encoding="utf-8")


FORGERIES = ["meta_garbage", "meta_list", "meta_wrong_types", "meta_unknown_key", "meta_missing", "parquet_missing",
             "parquet_garbage", "parquet_truncated", "value_as_text", "column_missing", "negative_and_unknown",
             "folder_is_a_file"]


@pytest.fixture(scope="module")
def pristine_dataset(tmp_path_factory, geography):
    from small_dataset import make_dataset

    return make_dataset(tmp_path_factory.mktemp("pristine"), geography)


@pytest.mark.parametrize("how", FORGERIES)
def test_a_forged_dataset_folder_is_refused_with_exit_2(pristine_dataset, tmp_path, capsys, how):
    import shutil

    from small_dataset import write_params

    shutil.copytree(pristine_dataset, tmp_path / "data")
    _forge(tmp_path / "data", how)
    params = write_params(tmp_path / "params" / "villard.yml")
    assert main(["render", str(params), "--outputs", str(tmp_path / "outputs")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'../data'" in err and "'data'" in err, err
    assert len(err.splitlines()) <= 3, err
    assert not (tmp_path / "outputs").exists()


def test_a_batch_cut_is_stored_without_pickle_and_rebuilt_when_damaged(geography, tmp_path, monkeypatch, capsys,
                                                                       pristine_dataset):
    from abs_report.batch import data as batch
    from abs_report.dataref import DataRef
    from abs_report.observations import load

    dataset = load(pristine_dataset)
    monkeypatch.setattr(batch, "dataset_for", lambda data: dataset)
    params = type("P", (), {"data_ref": DataRef.parse("x", tmp_path)})()
    zones = [("commune", "38548"), ("epci", "243801024")]
    path = tmp_path / "cut"
    first, kept = batch._load_or_cut(params, zones, geography, path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["cut.json", "cut.json.sha256", "cut.parquet", "cut.parquet.sha256"], files
    _poison_values(path.with_suffix(".parquet"))
    capsys.readouterr()
    again, kept_again = batch._load_or_cut(params, zones, geography, path)
    pd.testing.assert_frame_equal(again.observations, first.observations)
    assert kept_again == kept and len(_warnings(capsys.readouterr().err)) == 1


@pytest.mark.parametrize("option", ["file", "--population", "--mapping"])
def test_a_device_given_as_an_input_file_is_refused_not_read_for_ever(tmp_path, capsys, option):
    data = tmp_path / "data.csv"
    data.write_text(f"{CAF_HEADER}\n2022-12;38185;Grenoble;51135;91305\n", encoding="utf-8")
    args = ["data", "import", "/dev/zero" if option == "file" else str(data), "--into", str(tmp_path / "out")]
    if option != "file":
        args += [option, "/dev/zero"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "/dev/zero" in err and "Traceback" not in err, err
