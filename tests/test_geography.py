from abs_report.geography import UnknownZone
import pytest


def test_counts_of_communes(geography):
    assert 34_800 <= len(geography.communes) <= 35_000
    assert (geography.communes["departement"] == "38").sum() == 512


def test_codes_are_strings_and_corsica_present(geography):
    assert "2A004" in geography.communes.index
    assert "01001" in geography.communes.index
    assert all(isinstance(c, str) for c in geography.communes.index[:100])


def test_grenoble_belongs_to_the_metropole(geography):
    grenoble = geography.zone("commune", "38185")
    assert grenoble.name == "Grenoble"
    epci = geography.zone("epci", geography.communes.at["38185", "epci"])
    assert epci.code == "200040715" and epci.name == "Grenoble-Alpes-Métropole"
    assert "38185" in epci.members and len(epci.members) == 49
    chain = [z.name for z in geography.parent_chain(grenoble)]
    assert chain == ["Grenoble-Alpes-Métropole", "Isère", "Auvergne-Rhône-Alpes", "France"]


def test_epci_straddling_departements(geography):
    vienne = geography.zone("epci", "200077014")
    deps = set(geography.communes.loc[list(vienne.members), "departement"])
    assert deps == {"38", "69"}
    assert "200077014" in geography.epcis_of_departement("38")


def test_former_codes_map_to_current_commune(geography):
    assert geography.current_commune_code("01340") == "01015"   # Arboys en Bugey
    assert geography.current_commune_code("38185") == "38185"
    assert geography.current_commune_code("99999") is None


def test_unknown_code_suggests_close_matches(geography):
    with pytest.raises(UnknownZone) as err:
        geography.zone("commune", "Grenoble")
    assert any("38185" in s for s in err.value.suggestions)


def test_population_and_metadata(geography):
    assert geography.population(geography.zone("commune", "38185")) == 156_140
    assert geography.population(geography.zone("departement", "38")) == 1_298_990
    assert geography.meta["package_version"] == "6.0.0"
    assert geography.meta["population_year"] == 2023
