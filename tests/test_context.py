"""The report context (what a notebook receives) and the parsed ``data:`` reference."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from abs_report.context import (ContextError, DatasetInfo, Erratum, ErratumItem, ReportContext, ReportZone,
                                SecrecyInfo, ZoneRef)
from abs_report.dataref import DataRef
from abs_report.errors import InputError


def _context(**changes) -> ReportContext:
    base = ReportContext(
        title="Analyse des besoins sociaux", year=2024, reference_date="31 décembre 2024",
        recipient="CCAS de Villard-de-Lans", purpose="ABS 2026-2032",
        zones=(ReportZone("commune", "38548", "Villard-de-Lans", True, "à Villard-de-Lans"),
               ReportZone("france", "FR", "France", False, "en France")),
        years=(2020, 2024), iris=(ZoneRef("iris", "385480101", "0101"),),
        population_source="recensement de la population, millésime 2023",
        dataset=DatasetInfo("demo", True, "Caf de l'Isère", "Cnaf", None, {"version": "1", "seed": 7}),
        secrecy=SecrecyInfo("2026.1", "ab" * 32, 5, 100, {"published": 10, "secret_primary": 2}))
    return replace(base, **changes)


ERRATUM = Erratum(2, "2025-03-01", 1, "2024-12-31", (
    ErratumItem("T01", "commune", "38548", "Villard-de-Lans", 2024, "foyers_rsa", "count",
                12.0, "published", None, "secret_primary"),))


def test_json_round_trip_keeps_every_field():
    for ctx in (_context(), _context().with_erratum(ERRATUM)):
        assert ReportContext.from_json(ctx.to_json()) == ctx


def test_json_is_deterministic_and_a_first_edition_has_no_erratum_key():
    text = _context().to_json()
    assert text == _context().to_json()
    assert "erratum" not in json.loads(text)
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_version_and_names_come_from_the_context():
    ctx = _context()
    assert ctx.version == 1 and ctx.with_erratum(ERRATUM).version == 2
    assert ctx.territory.code == "38548"
    assert ctx.zone_names()[("iris", "385480101")] == "0101"


def test_context_is_frozen():
    with pytest.raises(FrozenInstanceError):
        _context().year = 2023


@pytest.mark.parametrize("path, value", [
    (("year",), "2024"), (("zones",), []), (("zones", 0, "name"), None), (("years",), [2020, "2024"]),
    (("dataset", "synthetic"), "yes"), (("secrecy", "counts"), {"published": "10"}),
    (("recipient",), ["a"]), (("title",), None),
])
def test_malformed_json_is_refused_naming_the_field(path, value):
    data = json.loads(_context().to_json())
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ContextError, match=str(path[-1]) if path[-1] != 0 else "zones"):
        ReportContext.from_json(json.dumps(data))


def test_not_json_is_refused():
    with pytest.raises(ContextError):
        ReportContext.from_json("{not json")
    with pytest.raises(ContextError):
        ReportContext.from_json("[]")


# --- DataRef ----------------------------------------------------------------------------------

def test_demo_is_the_demonstration_data(tmp_path):
    ref = DataRef.parse("demo", tmp_path)
    assert ref.is_demo and ref.folder_given is None
    assert ref.identity()["synthetic"]["generator"] == "abs_report.sources.synthetic"


def test_a_relative_folder_is_read_beside_the_parameter_file(tmp_path):
    ref = DataRef.parse("../data", tmp_path / "params")
    assert not ref.is_demo
    assert ref.folder() == tmp_path / "params" / ".." / "data"
    assert DataRef.parse(str(tmp_path / "x"), tmp_path / "params").folder() == tmp_path / "x"


def test_identity_of_a_folder_is_the_hash_of_its_files(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset.json").write_text("{}")
    first = DataRef.parse("data", tmp_path).identity()
    assert set(first["files"]) == {"dataset.json"}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "dataset.json").write_text("{ }")
    assert DataRef.parse("other", tmp_path).identity() != first


def test_a_folder_that_is_no_dataset_is_bad_input_naming_the_data_field(tmp_path):
    with pytest.raises(InputError) as caught:
        DataRef.parse("nowhere", tmp_path).years()
    problem = caught.value.problems[0]
    assert problem.field == "data" and problem.value == "nowhere"
