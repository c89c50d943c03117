"""Parameter files: valid ones resolve; every mistake names file, line, key and value."""

from __future__ import annotations

import textwrap

import pytest

from abs_report.errors import InputError
from abs_report.params import load_params

from conftest import REPO

GOOD = """\
territory:
  level: commune
  code: "38185"
year: 2024
recipient: CCAS de Grenoble
purpose: ABS 2026
"""


def write(tmp_path, text, name="p.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path, geography, text, years=(2020, 2024)):
    with pytest.raises(InputError) as err:
        load_params(write(tmp_path, text), geography, years)
    return err.value.problems


def test_default_params_resolve_to_grenoble_and_its_chain(geography):
    params = load_params(REPO / "params" / "grenoble.yml", geography, (2020, 2021, 2022, 2023, 2024))
    assert params.territory.code == "38185" and params.territory.name == "Grenoble"
    assert [z.name for z in params.comparison_zones] == [
        "Grenoble-Alpes-Métropole", "Isère", "Auvergne-Rhône-Alpes", "France"]
    assert params.year == 2024 and params.formats == ("pdf", "html")


def test_params_are_frozen(tmp_path, geography):
    params = load_params(write(tmp_path, GOOD), geography, (2024,))
    with pytest.raises(Exception):
        params.year = 2023


def test_unknown_key(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD + "colour: blue\n")
    assert p.field == "colour" and p.line == 7 and p.value == "blue" and p.file.endswith("p.yml")


def test_wrong_type(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace("year: 2024", "year: deux-mille"))
    assert p.field == "year" and p.line == 4 and p.value == "deux-mille"


def test_unquoted_code_is_refused(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace('"38185"', "38185"))
    assert p.field == "territory.code" and p.line == 3 and "guillemets" in p.message


def test_unknown_code_suggests(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace('"38185"', '"38815"'))
    assert p.field == "territory.code" and p.value == "38815" and p.line == 3
    assert "vouliez-vous dire" in p.message


def test_wrong_level(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace("level: commune", "level: canton"))
    assert p.field == "territory.level" and p.value == "canton" and p.line == 2


def test_code_of_another_level(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace("level: commune", "level: epci"))
    assert p.field == "territory.code" and p.value == "38185"


def test_year_not_in_data(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace("2024", "2019"))
    assert p.field == "year" and p.value == 2019 and "2020, 2024" in p.message


def test_several_problems_at_once(tmp_path, geography):
    text = GOOD.replace("year: 2024", "year: x") + "colour: blue\n"
    assert len(problems(tmp_path, geography, text)) == 2


def test_missing_key(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD.replace("recipient: CCAS de Grenoble\n", ""))
    assert p.field == "recipient" and "absente" in p.message


def test_aggregation_and_explicit_comparison(tmp_path, geography):
    text = """\
    territory:
      level: aggregation
      code: bv-voiron
      name: Bassin de vie de Voiron
      communes: ["38563", "38111", "01340"]
    comparison_zones:
      - {level: departement, code: "38"}
      - {level: france, code: FR}
    year: 2024
    recipient: CCAS
    purpose: ABS
    """
    params = load_params(write(tmp_path, text), geography, (2024,))
    assert params.territory.level == "aggregation"
    assert "01015" in params.territory.members          # former code mapped to today's commune
    assert [z.name for z in params.comparison_zones] == ["Isère", "France"]


def test_yaml_syntax_error_names_line(tmp_path, geography):
    [p] = problems(tmp_path, geography, GOOD + "year: [2024\n")
    assert p.line is not None and "YAML" in p.message


def test_maps_is_true_by_default_and_false_when_asked(tmp_path, geography):
    assert load_params(write(tmp_path, GOOD), geography, (2024,)).maps is True
    assert load_params(write(tmp_path, GOOD + "maps: false\n"), geography, (2024,)).maps is False


@pytest.mark.parametrize("value", ["non", "0", "[]"])
def test_maps_must_be_true_or_false(tmp_path, geography, value):
    [p] = problems(tmp_path, geography, GOOD + f"maps: {value}\n")
    assert p.field == "maps" and p.line == 7 and "true, false" in p.message


def test_batch_no_maps_writes_maps_false_and_only_then():
    from abs_report.batch.plan import Defaults, params_text
    from abs_report.geography import load_geography

    grenoble = load_geography().zone("commune", "38185")
    assert "maps: false" in params_text(grenoble, 2024, Defaults(maps=False))
    assert "maps" not in params_text(grenoble, 2024, Defaults())
