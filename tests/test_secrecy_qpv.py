"""Secrecy across non-nested zones: a QPV cutting across IRIS (issue 15).

Hand-made tables following the QPV data contract: one commune with two IRIS
and one QPV straddling them. Publishing the commune, its IRIS, the QPV and the
commune hors QPV exposes QPV ∩ IRIS pieces nobody published; the mask must
hide what it must, and the independent attacker (which knows which pieces
exist, never their values) must not pin a sensitive piece.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abs_report.audit import audit_published
from abs_report.geography import load_geography
from abs_report.secrecy import load_rules, protect
from secrecy_fixtures import as_published, long_rows

RULES = load_rules()
COMMUNE, QPV = "38001", "QN03899M"
IRIS_A, IRIS_B = f"{COMMUNE}0001", f"{COMMUNE}0002"
ZONES = [("commune", COMMUNE), ("qpv", QPV), ("hors_qpv", COMMUNE)]


@pytest.fixture(scope="module")
def geography():
    return load_geography()


def piece(iris: str, qpv: str = QPV) -> str:
    return f"{iris}:{qpv}"


def table(pieces: dict[str, dict[str, float]]) -> list:
    """Observations of every zone from its pieces (additivity holds exactly)."""
    def total(codes):
        out = {}
        for code in codes:
            for m, v in pieces[code].items():
                out[m] = out.get(m, 0.0) + v
        return out

    of_iris = {i: [p for p in pieces if p.startswith(i)] for i in (IRIS_A, IRIS_B)}
    inside = [p for p in pieces if p.endswith(QPV)]
    outside = [p for p in pieces if p.endswith("HQPV")]
    rows = [("qpv_piece", code, values) for code, values in pieces.items()]
    rows += [("iris", i, total(codes)) for i, codes in of_iris.items()]
    rows += [("qpv", QPV, total(inside)), ("hors_qpv", COMMUNE, total(outside)),
             ("commune", COMMUNE, total(list(pieces)))]
    return rows


def published(protection):
    """What the reports print: every cell but the pieces (never published)."""
    cells = protection.cells
    return as_published(cells[cells["zone_level"] != "qpv_piece"].reset_index(drop=True))


def audit(frames, geography, observations, pieces):
    return audit_published(frames, geography, observations, pieces=list(pieces))


# (i) IRIS A lies wholly inside the QPV, which spills 3 foyers into IRIS B: QPV - A = 3.
SPILL = {
    piece(IRIS_A): {"foyers_allocataires": 400, "foyers_rsa": 60},
    piece(IRIS_B): {"foyers_allocataires": 3, "foyers_rsa": 1},
    piece(IRIS_B, "HQPV"): {"foyers_allocataires": 297, "foyers_rsa": 19},
}
# (ii) The QPV covers most of both IRIS: the commune hors QPV has 80 foyers (< 100).
SMALL_OUTSIDE = {
    piece(IRIS_A): {"foyers_allocataires": 450, "foyers_rsa": 70},
    piece(IRIS_A, "HQPV"): {"foyers_allocataires": 50, "foyers_rsa": 6},
    piece(IRIS_B): {"foyers_allocataires": 450, "foyers_rsa": 65},
    piece(IRIS_B, "HQPV"): {"foyers_allocataires": 30, "foyers_rsa": 7},
}


def test_publishing_every_zone_pins_the_spilled_piece(geography):
    """The attacker knows the pieces: with every zone published, QPV - IRIS A = 3 foyers."""
    observations = long_rows(table(SPILL))
    everything = observations[observations["zone_level"] != "qpv_piece"].assign(status="published")
    result = audit([as_published(everything)], geography, observations, SPILL)
    pinned = {(f.zone_level, f.zone_code, f.measure): (f.lower, f.upper) for f in result.failures}
    assert pinned[("qpv_piece", piece(IRIS_B), "foyers_allocataires")] == pytest.approx((3, 3))
    assert pinned[("qpv_piece", piece(IRIS_B), "foyers_rsa")] == pytest.approx((1, 1))


def test_mask_hides_what_pins_a_three_foyer_piece(geography):
    observations = long_rows(table(SPILL))
    protection = protect(observations, 2024, ZONES, geography, RULES)
    status = protection.status_of
    assert status("qpv_piece", piece(IRIS_B), "foyers_allocataires") == "secret_threshold"
    # Something among the QPV, IRIS A (wholly inside it) and their partners is hidden.
    assert "secret_secondary" in {status("qpv", QPV, "foyers_allocataires"),
                                  status("iris", IRIS_A, "foyers_allocataires")}
    result = audit([published(protection)], geography, observations, SPILL)
    assert result.ok, [str(f) for f in result.failures]
    assert result.n_checked > 0


def test_small_hors_qpv_is_hidden_and_not_derivable(geography):
    observations = long_rows(table(SMALL_OUTSIDE))
    protection = protect(observations, 2024, ZONES, geography, RULES)
    status = protection.status_of
    assert status("hors_qpv", COMMUNE, "foyers_allocataires") == "secret_threshold"
    assert status("hors_qpv", COMMUNE, "foyers_rsa") == "secret_threshold"
    # Commune minus QPV would give it back: one of them is hidden too.
    assert {status("commune", COMMUNE, "foyers_allocataires"),
            status("qpv", QPV, "foyers_allocataires")} != {"published"}
    result = audit([published(protection)], geography, observations, SMALL_OUTSIDE)
    assert result.ok, [str(f) for f in result.failures]


@pytest.mark.parametrize("pieces", [SPILL, SMALL_OUTSIDE], ids=["spill", "small_outside"])
def test_unknown_pieces_are_judged_on_what_is_published(geography, monkeypatch, pieces):
    """Real data carries no pieces: the geometry says which exist, their values are unknown
    cells; a piece the published cells would pin is judged on that value and protected."""
    from abs_report.secrecy import qpv

    monkeypatch.setattr(qpv, "packaged_pieces", lambda: qpv.from_codes(pieces))
    observations = long_rows([row for row in table(pieces) if row[0] != "qpv_piece"])
    protection = protect(observations, 2024, ZONES, geography, RULES)
    assert (protection.cells["zone_level"] == "qpv_piece").any()
    truth = long_rows(table(pieces))
    result = audit([published(protection)], geography, truth, pieces)
    assert result.ok, [str(f) for f in result.failures]


counts = st.integers(min_value=0, max_value=160)


@st.composite
def shapes(draw):
    """Two IRIS, one QPV straddling them; IRIS A wholly inside the QPV or not."""
    names = [piece(IRIS_A), piece(IRIS_B), piece(IRIS_B, "HQPV")]
    if draw(st.booleans()):
        names.append(piece(IRIS_A, "HQPV"))
    pieces = {}
    for name in names:
        alloc = draw(st.sampled_from([0, 2, 3, 40, 90, 99, 100, 150, 400]))
        rsa = draw(st.integers(0, max(alloc // 3, 0)))
        pieces[name] = {"foyers_allocataires": float(alloc), "foyers_rsa": float(rsa)}
    return pieces


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(pieces=shapes())
def test_property_no_sensitive_piece_is_pinned(geography, pieces):
    observations = long_rows(table(pieces))
    protection = protect(observations, 2024, ZONES, geography, RULES)
    result = audit([published(protection)], geography, observations, pieces)
    assert result.ok, [str(f) for f in result.failures]
    # Nothing below IRIS ever leaves the mask as published.
    cells = protection.cells
    assert not (cells.loc[cells["zone_level"] == "qpv_piece", "status"] == "published").any()


def test_cli_audit_knows_the_packaged_pieces(tmp_path, capsys):
    """``abs-report audit`` reads the pieces from the packaged geometry: Bourgoin-Jallieu's QPV
    Champaret (QN03802M) lies in one IRIS, so commune − hors QPV − its other QPV pins both the
    hidden QPV and its piece."""
    from abs_report.cli import main

    def write(folder, statuses):
        rows = [("commune", "38053", 5000, "published"), ("hors_qpv", "38053", 4040, "published"),
                ("qpv", "QN03813I", 900, statuses[0]), ("qpv", "QN03802M", 60, statuses[1])]
        cells = long_rows([(lv, code, {"foyers_allocataires": v}) for lv, code, v, _ in rows])
        cells["status"] = [s for *_, s in rows]
        folder.mkdir(parents=True)
        as_published(cells).to_csv(folder / "published.csv", index=False)

    write(tmp_path / "leak" / "38053", ["published", "secret_threshold"])
    write(tmp_path / "safe" / "38053", ["secret_secondary", "secret_threshold"])
    assert main(["audit", str(tmp_path / "leak")]) == 1
    out = capsys.readouterr().out
    assert "qpv_piece 380530202:QN03802M 2024 foyers_allocataires : intervalle [60 ; 60]" in out
    assert main(["audit", str(tmp_path / "safe")]) == 0
