"""Parameter files, manifests and command-line templates from someone else cannot choose a path,
blow up memory or slip control characters through: each is refused with exit 2 and a French
message naming file, field and value, and nothing is written anywhere.

Every case stops at validation: no report is rendered here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from abs_report.cli import main
from fixture_dataset import VILLARD, make_dataset

GOOD = {"territory": {"level": "commune", "code": VILLARD}, "year": 2024, "recipient": "CCAS de Villard",
        "purpose": "Analyse des besoins sociaux", "formats": ["html"], "data": "../data"}


@pytest.fixture(scope="module")
def project(tmp_path_factory, geography):
    """root/data (a small imported dataset), root/params/ for the cases, root/outputs/ (empty)."""
    root = tmp_path_factory.mktemp("untrusted")
    make_dataset(root, geography)
    (root / "params").mkdir()
    return root


def snapshot(folder: Path) -> set[str]:
    """Every path under ``folder`` (what a refused command must leave as it was)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run(argv, capsys) -> tuple[int, str]:
    status = main([str(a) for a in argv])
    return status, capsys.readouterr().err


def write_text(project, text: str, name: str = "case.yml") -> Path:
    path = project / "params" / name
    path.write_text(text, encoding="utf-8")
    return path


def write_raw(project, raw: dict, name: str = "case.yml") -> Path:
    return write_text(project, yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), name)


def refused(project, path: Path, capsys) -> str:
    """Render ``path``: exit 2, nothing written in the outputs root nor beside the project."""
    outputs = project / "outputs"
    before, around = snapshot(project), set(os.listdir(project.parent))
    status, err = run(["render", path, "--outputs", outputs], capsys)
    assert status == 2, err
    assert snapshot(project) == before and set(os.listdir(project.parent)) == around
    assert "Traceback" not in err and str(path) in err
    return err


# --- aggregation codes used as folder names --------------------------------------------------

@pytest.mark.parametrize("code", ["..", "/tmp/x", "../../..", "", "a/b", "38185", "200040715", "38", "FR",
                                  "fr", "Grenoble\u2044Nord", "Ｇrenoble", "x" * 41, "-x", "a b"])
def test_path_like_aggregation_codes_are_refused(project, capsys, code):
    raw = {**GOOD, "territory": {"level": "aggregation", "code": code, "name": "Vercors",
                                 "communes": [VILLARD, "38205"]}}
    err = refused(project, write_raw(project, raw), capsys)
    assert "territory.code" in err


def test_a_good_aggregation_code_passes_validation(project, geography):
    from abs_report.params import load_params

    raw = {**GOOD, "territory": {"level": "aggregation", "code": "vercors-nord", "name": "Vercors",
                                 "communes": [VILLARD, "38205"]}}
    params = load_params(write_raw(project, raw), geography, (2024,))
    assert params.territory.code == "vercors-nord"


def test_output_folder_refuses_a_bad_code_even_past_validation(tmp_path):
    from abs_report.errors import InputError
    from abs_report.geography import Zone
    from abs_report.pipeline import output_folder

    class Forged:  # parameters built by code, not read from a file: the last check still holds
        territory = Zone("aggregation", "../../etc", "x")
        year = 2024

    with pytest.raises(InputError):
        output_folder(Forged(), tmp_path)


def test_output_dir_key_is_refused(project, capsys):
    err = refused(project, write_raw(project, {**GOOD, "output_dir": "/tmp/elsewhere"}), capsys)
    assert "output_dir" in err and "clé inconnue" in err


# --- YAML abuse --------------------------------------------------------------------------------

def test_alias_bomb_is_refused_before_expansion(project, capsys):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    text = yaml.safe_dump(GOOD, sort_keys=False) + "title: *i\n" + bomb
    err = refused(project, write_text(project, text), capsys)
    assert "alias" in err and "ancres" in err


def test_oversize_file_is_refused(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + "".join(f"# {'x' * 70}\n" for _ in range(1000))
    err = refused(project, write_text(project, text), capsys)
    assert "Kio" in err or "octets" in err


@pytest.mark.parametrize("field,size", [("title", 201), ("recipient", 301), ("purpose", 1001)])
def test_long_strings_are_refused(project, capsys, field, size):
    err = refused(project, write_raw(project, {**GOOD, field: "a" * size}), capsys)
    assert field in err and "trop long" in err


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\u202e", "\u2066", "\u200f", "\n", "\x85"])
def test_control_characters_are_refused(project, capsys, char):
    text = yaml.safe_dump({**GOOD, "recipient": f"CCAS{char}de Villard"}, sort_keys=False)
    err = refused(project, write_text(project, text), capsys)
    assert "recipient" in err and "ligne" in err and "caractère" in err
    assert char not in err.rstrip("\n")  # shown escaped, never raw (one problem: one line)


def test_duplicate_keys_name_both_lines(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + "year: 2023\n"
    err = refused(project, write_text(project, text), capsys)
    assert "'year'" in err and "lignes 4 et 10" in err


def test_duplicate_keys_under_territory(project, capsys):
    text = f'territory:\n  level: commune\n  code: "{VILLARD}"\n  code: "38185"\n' + yaml.safe_dump(
        {k: v for k, v in GOOD.items() if k != "territory"}, sort_keys=False)
    err = refused(project, write_text(project, text), capsys)
    assert "territory.code" in err and "lignes 3 et 4" in err


# --- parameters that make no sense ----------------------------------------------------------------

def test_empty_formats_is_refused(project, capsys):
    err = refused(project, write_raw(project, {**GOOD, "formats": []}), capsys)
    assert "formats" in err


def test_comparison_zone_equal_to_territory_is_refused(project, capsys):
    raw = {**GOOD, "comparison_zones": [{"level": "commune", "code": VILLARD}]}
    err = refused(project, write_raw(project, raw), capsys)
    assert "comparison_zones.0" in err and "territoire" in err


def test_comparison_zone_listed_twice_is_refused(project, capsys):
    raw = {**GOOD, "comparison_zones": [{"level": "departement", "code": "38"},
                                        {"level": "departement", "code": "38"}]}
    err = refused(project, write_raw(project, raw), capsys)
    assert "comparison_zones.1" in err and "deux fois" in err


# --- messages --------------------------------------------------------------------------------------

def test_unquoted_octal_code_is_quoted_as_written(project, capsys):
    text = "territory:\n  level: commune\n  code: 01001\n" + yaml.safe_dump(
        {k: v for k, v in GOOD.items() if k != "territory"}, sort_keys=False)
    err = refused(project, write_text(project, text), capsys)
    assert '"01001"' in err and "513" not in err


def test_unknown_key_under_territory_lists_its_level(project, capsys):
    raw = {**GOOD, "territory": {**GOOD["territory"], "colour": "blue"}}
    err = refused(project, write_raw(project, raw), capsys)
    assert "territory.colour" in err and "communes" in err and "recipient" not in err


def test_communes_as_a_string_asks_for_a_list(project, capsys):
    raw = {**GOOD, "territory": {"level": "aggregation", "code": "vercors", "communes": "38185"}}
    err = refused(project, write_raw(project, raw), capsys)
    assert "liste" in err and "'3'" not in err


@pytest.mark.parametrize("raw", [
    {**GOOD, "year": [2024]}, {**GOOD, "year": 2024.5}, {**GOOD, "title": 12},
    {**GOOD, "territory": "38185"}, {**GOOD, "comparison_zones": "voisines"},
    {**GOOD, "territory": {"level": "commune"}}, {**GOOD, "formats": "pdf"}, {**GOOD, "recipient": None}])
def test_no_english_or_internal_names_leak(project, capsys, raw):
    err = refused(project, write_raw(project, raw), capsys)
    assert not re.search(r"Input should|Field required|valid (string|integer)|\b(dict|tuple|str|int|list)\b"
                         r"|_type|ZoneSpec|Literal|literal\[|\bor\b", err), err


def test_latin1_file_error_gives_the_line(project, capsys):
    text = yaml.safe_dump({**GOOD, "recipient": "CCAS"}, sort_keys=False).replace("CCAS", "Caf de l'Isère")
    path = project / "params" / "case.yml"
    path.write_bytes(text.encode("latin-1"))
    err = refused(project, path, capsys)
    assert "ligne 5" in err and "UTF-8" in err


# --- several files, batch ---------------------------------------------------------------------

def test_render_good_then_bad_writes_nothing(project, capsys):
    good = write_raw(project, GOOD, "good.yml")
    bad = write_raw(project, {**GOOD, "year": 1999}, "bad.yml")
    outputs = project / "outputs"
    before = snapshot(project)
    status, err = run(["render", good, bad, "--outputs", outputs], capsys)
    assert status == 2 and "bad.yml" in err
    assert snapshot(project) == before


def test_batch_with_a_year_absent_from_the_data_writes_nothing(project, capsys):
    before = snapshot(project)
    status, err = run(["batch", "--departement", "38", "--year", "1999", "--data", project / "data",
                       "--outputs", project / "outputs"], capsys)
    assert status == 2 and "1999" in err
    assert snapshot(project) == before


@pytest.mark.parametrize("purpose", ["{year.__class__.__mro__}", "{0}", "{", "}", "{year!r}", "{year:>99999}",
                                     "{annee.x}", "{inconnu}"])
def test_batch_purpose_template_is_not_format(project, capsys, purpose):
    before = snapshot(project)
    status, err = run(["batch", "--departement", "38", "--year", "2024", "--data", project / "data",
                       "--outputs", project / "outputs", "--purpose", purpose], capsys)
    assert status == 2 and "--purpose" in err and "Traceback" not in err
    assert "class" not in err.replace(purpose, "")
    assert snapshot(project) == before


def test_purpose_template_fills_only_known_placeholders():
    from abs_report.template import fill

    assert fill("ABS {year} ({annee}) {{x}}", {"year": 2024, "annee": 2024}, "--purpose") == "ABS 2024 (2024) {x}"


# --- manifests ---------------------------------------------------------------------------------------

def forged_report(root: Path, **changes) -> Path:
    """A report folder whose manifest is forged (demo data, nothing else needed to reach the writes)."""
    folder = root / "outputs" / "38185" / "2024"
    folder.mkdir(parents=True)
    recorded = {
        "version": 1,
        "parameters": {"name": "grenoble.yml", "path": "grenoble.yml",
                       "as_given": {**GOOD, "territory": {"level": "commune", "code": "38185"}, "year": 1999,
                                    "data": "demo"},
                       "resolved": {"territory": {"level": "commune", "code": "38185", "name": "Grenoble"},
                                    "comparison_zones": [], "year": 2024, "recipient": "x", "purpose": "y",
                                    "title": "t", "formats": ["html"], "data": "demo", "dataset_folder": None}},
        "edition": "2024-12-31", "erratum": None, "inputs": [],
        "dataset": {"synthetic": False, "name": "x"}, "secrecy": {"rules_version": "1", "mask_hash": "0" * 64},
        "renderer": "builtin", "outputs": {"published.csv": {"file": "published.csv", "sha256": "0" * 64}},
    }
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = recorded
        for key in parents:
            node = node[key]
        node[last] = value
    (folder / "manifest.json").write_text(json.dumps({"format": 2, "reproducible": recorded}), encoding="utf-8")
    (folder / "published.csv").write_text("table_id\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", ["verify", "reissue"])
@pytest.mark.parametrize("how", ["absolute", "dotdot"])
def test_forged_parameter_name_writes_nothing(project, tmp_path, capsys, command, how):
    victim = tmp_path / "victim" / "target.sh"
    victim.parent.mkdir()
    victim.write_text("original\n", encoding="utf-8")
    name = str(victim) if how == "absolute" else "../" * 12 + str(victim).lstrip("/")
    folder = forged_report(tmp_path / "sent", parameters__name=name)
    argv = (["verify", folder] if command == "verify"
            else ["reissue", "--corrected-data", project / "data", "--reports", tmp_path / "sent" / "outputs"])
    status, err = run(argv, capsys)
    assert status == 2, err
    assert victim.read_text(encoding="utf-8") == "original\n"
    assert "manifest.json" in err and "parameters.name" in err


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../../../etc/passwd", "a/../../../../../../../etc/x"])
def test_forged_input_paths_are_refused(tmp_path, capsys, path):
    inputs = [{"role": "dataset", "path": path, "sha256": "0" * 64, "size": 1}]
    folder = forged_report(tmp_path / "sent", inputs=inputs, parameters__resolved__dataset_folder="data",
                           parameters__as_given__year=2024)
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "inputs.0.path" in err and "manifest.json" in err


def test_forged_input_symlink_escape_is_refused(tmp_path, capsys):
    folder = forged_report(tmp_path / "sent", parameters__resolved__dataset_folder="data",
                           parameters__as_given__year=2024, inputs=[{"role": "dataset", "path": "data/observations.parquet",
                                    "sha256": "0" * 64, "size": 1}])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "observations.parquet").write_text("secret", encoding="utf-8")
    (folder / "data").symlink_to(outside)
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "inputs.0.path" in err


@pytest.mark.parametrize("change", [
    {"version": "1"}, {"version": 10 ** 12}, {"version": True}, {"parameters__as_given": "x"},
    {"inputs": {"a": 1}}, {"outputs__published.csv": {"file": "../../x", "sha256": "0" * 64}},
    {"outputs__published.csv": {"file": "/tmp/x", "sha256": "0" * 64}},
    {"parameters__resolved__dataset_folder": "/srv/data"}, {"edition": "demain"}, {"renderer": "sh"},
    {"parameters__resolved__year": "2024"}])
def test_malformed_manifests_are_refused(tmp_path, capsys, change):
    folder = forged_report(tmp_path / "sent", **change)
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "manifest.json" in err and "Traceback" not in err


def test_manifest_missing_a_key_is_refused(tmp_path, capsys):
    folder = forged_report(tmp_path / "sent")
    data = json.loads((folder / "manifest.json").read_text())
    del data["reproducible"]["parameters"]
    (folder / "manifest.json").write_text(json.dumps(data))
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "parameters" in err and "manifest.json" in err


# --- odd files and shapes -------------------------------------------------------------------------

def test_deep_nesting_is_refused(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + "title: " + "[" * 5000 + "]" * 5000 + "\n"
    err = refused(project, write_text(project, text), capsys)
    assert "imbrication" in err


def test_non_text_key_is_refused(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + "? [a, b]\n: x\n"
    err = refused(project, write_text(project, text), capsys)
    assert "clé non textuelle" in err


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_parameter_path_that_is_no_regular_file(project, capsys, kind):
    path = {"fifo": project / "params" / "fifo.yml", "device": Path("/dev/zero"),
            "folder": project / "params"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    try:
        status, err = run(["render", path, "--outputs", project / "outputs"], capsys)
    finally:
        if kind == "fifo":
            path.unlink()
    assert status == 2 and str(path) in err and "Traceback" not in err


def test_python_tags_are_refused(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + "title: !!python/object/apply:os.system ['true']\n"
    err = refused(project, write_text(project, text), capsys)
    assert "YAML invalide" in err


@pytest.mark.parametrize("change", [
    {"code": {"commit": "abc\x1b[2J"}}, {"environment": {"python": "3.12\u202e"}},
    {"erratum": {"version": 2, "items": ["x"]}}, {"environment": {"packages": ["x"]}}, {"code": "x"}])
def test_manifest_texts_printed_or_rendered_are_checked(tmp_path, capsys, change):
    folder = forged_report(tmp_path / "sent", parameters__as_given__year=2024, **change)
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "manifest.json" in err and "\x1b" not in err and "Traceback" not in err


def test_deeply_nested_manifest_is_refused(tmp_path, capsys):
    folder = forged_report(tmp_path / "sent")
    (folder / "manifest.json").write_text('{"reproducible": ' + "[" * 100000 + "]" * 100000 + "}")
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "manifest.json" in err


def test_keys_are_shown_escaped(project, capsys):
    text = yaml.safe_dump(GOOD, sort_keys=False) + '"k\\e[2J\\u202e": 1\n'
    err = refused(project, write_text(project, text), capsys)
    assert "\x1b" not in err and "\u202e" not in err


def test_long_keys_are_cut(project, capsys):
    err = refused(project, write_text(project, yaml.safe_dump(GOOD, sort_keys=False) + "k" * 1000 + ": 2\n"),
                  capsys)
    assert "k" * 200 not in err


def test_manifest_keys_are_shown_escaped(tmp_path, capsys):
    folder = forged_report(tmp_path / "sent", parameters__as_given__year=2024,
                           environment={"packages": {"evil\x1b[2J": "1"}})
    status, err = run(["verify", folder], capsys)
    assert status == 2 and "\x1b" not in err
