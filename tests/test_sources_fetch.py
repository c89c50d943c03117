"""``data fetch`` against recorded Explore API responses: no network."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from abs_report.errors import InputError
from abs_report.observations import load
from abs_report.sources import fetch

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "fetch"


class RecordedApi:
    """A getter that serves ``<dataset>.offset<N>.json`` and remembers every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, url: str, params: dict) -> dict:
        self.calls.append((url, dict(params)))
        dataset = url.rstrip("/").split("/")[-2]
        path = FIXTURES / f"{dataset}.offset{params['offset']}.json"
        return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setattr(fetch, "PAGE_SIZE", 2)
    return RecordedApi()


def test_fetch_pages_filters_and_imports(tmp_path, api, geography):
    into = tmp_path / "dataset"
    dataset = fetch.fetch("38", 2022, into, session=api, geography=geography)

    urls = [u for u, _ in api.calls]
    assert urls[0] == "https://data.caf.fr/api/explore/v2.1/catalog/datasets/s_ben_com_f/records"
    com_calls = [p for u, p in api.calls if "/s_ben_com_f/" in u]
    assert [p["offset"] for p in com_calls] == [0, 2], "pagination by offset until total_count"
    assert all('numdep="38"' in p["where"] and 'dtreffre="2022-12"' in p["where"] for p in com_calls)
    assert all(p["limit"] == 2 for _, p in api.calls)

    obs = load(into).observations.set_index(["zone_level", "zone_code", "year", "measure"])["value"]
    assert obs[("commune", "38185", 2022, "personnes_couvertes")] == 91305
    assert obs[("commune", "38185", 2022, "foyers_rsa_majore")] == 1020
    assert obs[("commune", "38421", 2022, "montant_rsa")] == 512340.5
    assert math.isnan(obs[("commune", "38185", 2022, "montant_rsa")]), "null stays unknown"
    assert obs[("departement", "38", 2022, "foyers_allocataires")] == 254875
    assert obs[("france", "FR", 2022, "foyers_allocataires")] == 13_800_000
    assert math.isnan(obs[("region", "84", 2022, "foyers_allocataires")]), "one département is not its région"

    assert dataset.meta.rounded_to == 5 and dataset.meta.name == "cafdata"
    kept = sorted(p.name for p in (into / "sources").iterdir())
    assert kept == ["rsa_s_type_com_f_38_2022.csv", "s_ben_com_f_38_2022.csv",
                    "s_ben_dep_38_2022.csv", "s_ben_nat_38_2022.csv"]  # the empty QF answer wrote no file
    assert all(Path(f.path).parent == into / "sources" for f in dataset.meta.inputs)


def test_fetch_command_uses_the_same_path(tmp_path, api, monkeypatch, capsys):
    from abs_report.cli import main
    monkeypatch.setattr(fetch, "urllib_getter", api)
    assert main(["data", "fetch", "--departement", "38", "--year", "2022", "--into", str(tmp_path / "d")]) == 0
    assert "Jeu de données écrit" in capsys.readouterr().out


def test_fetch_unknown_departement_is_bad_input(tmp_path, api):
    with pytest.raises(InputError, match="département inconnu"):
        fetch.fetch("99", 2022, tmp_path / "d", session=api)
    assert not api.calls and not (tmp_path / "d").exists()


def test_fetch_without_december_records_writes_nothing(tmp_path, geography):
    def empty(url, params):
        return {"total_count": 0, "results": []}
    with pytest.raises(InputError, match="aucun enregistrement"):
        fetch.fetch("38", 2031, tmp_path / "d", session=empty, geography=geography)
    assert not (tmp_path / "d").exists()
