"""The QPV zone level of the packaged geography (issue 15, item 1)."""

import pytest

from abs_report.geography import LEVEL_LABELS, LEVELS, UnknownZone

GRENOBLE_QPV = {"QN03806M": "Mistral Lys Rouge Camine",
                "QN03807M": "Villeneuve - Village Olympique",
                "QN03808M": "Teisseire Abbaye Jouhaux Malherbe",
                "QN03809M": "Alma - Très Cloîtres - Chenoise"}


def test_qpv_is_a_level_after_iris():
    assert LEVELS.index("qpv") == LEVELS.index("iris") + 1
    assert LEVEL_LABELS["qpv"] == "QPV"
    assert LEVEL_LABELS["hors_qpv"] == "commune hors QPV"
    assert LEVEL_LABELS["qpv_departement"] == "ensemble des QPV"


def test_isere_has_24_qpv(geography):
    table = geography.qpv_table
    assert len(table) == 24
    assert set(table["departement"]) == {"38"}
    assert geography.qpv_of_departement("38") == tuple(sorted(table.index))
    assert geography.qpv_of_departement("69") == ()
    assert all(code.startswith("QN038") for code in table.index)


@pytest.mark.parametrize("code, communes", [("QN03817M", ("38298", "38344")),
                                            ("QN03818M", ("38298", "38344")),
                                            ("QN03823M", ("38318", "38544"))])
def test_two_commune_qpv_have_both_communes(geography, code, communes):
    zone = geography.zone("qpv", code)
    assert zone.level == "qpv" and zone.members == communes
    assert geography.qpv_table.at[code, "communes"] == communes
    for commune in communes:
        assert code in geography.qpv_of_commune(commune)


def test_grenoble_names_its_four_qpv(geography):
    assert geography.qpv_of_commune("38185") == tuple(sorted(GRENOBLE_QPV))
    assert {c: geography.zone("qpv", c).name for c in GRENOBLE_QPV} == GRENOBLE_QPV
    assert geography.qpv_table.at["QN03806M", "epci"] == "200040715"
    assert geography.qpv_of_commune("38001") == ()


def test_hors_qpv_and_departement_zones(geography):
    hors = geography.zone("hors_qpv", "38185")
    assert (hors.name, hors.members) == ("Grenoble hors QPV", ("38185",))
    whole = geography.zone("qpv_departement", "38")
    assert whole.name == "ensemble des QPV de l'Isère"
    assert set(whole.members) == {c for cs in geography.qpv_table["communes"] for c in cs}
    with pytest.raises(UnknownZone):
        geography.zone("hors_qpv", "38001")  # a commune without QPV has no "hors QPV" part


@pytest.mark.parametrize("typed, expected", [("QN03806X", "QN03806M"),
                                             ("mistral lys rouge", "QN03806M"),
                                             ("Tres Cloitres Chenoise", "QN03809M")])
def test_unknown_qpv_suggests_close_matches(geography, typed, expected):
    with pytest.raises(UnknownZone) as err:
        geography.zone("qpv", typed)
    assert any(expected in s for s in err.value.suggestions)
    assert "QPV" in str(err.value) and err.value.exit_status == 2


@pytest.mark.parametrize("text, expected", [("VILLENEUVE VILLAGE OLYMPIQUE", ("QN03807M",)),
                                            ("alma-tres cloitres-chenoise", ("QN03809M",)),
                                            ("  Les  Genets - Cancanne - Hauts de Gere ", ("QN03823M",)),
                                            ("Grenoble", ())])
def test_qpv_by_name_ignores_case_accents_hyphens_spacing(geography, text, expected):
    assert geography.qpv_by_name(text) == expected


def test_an_aggregation_cannot_take_a_qpv_code(geography):
    # A QPV's report folder is outputs/<qpv code>/: an aggregation must not take the same name.
    from abs_report.params import aggregation_code_problem
    assert aggregation_code_problem("QN03806M", geography) is not None
    assert aggregation_code_problem("vercors-nord", geography) is None


def test_no_commune_population_passed_off_as_a_qpv_population(geography):
    with pytest.raises(ValueError):
        geography.population(geography.zone("qpv", "QN03806M"))
