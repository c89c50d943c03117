import datetime as dt

from hypothesis import given, strategies as st

from abs_report import formatting as fmt

NB = "\u202f"


def test_french_numbers():
    assert fmt.value(1234, "count") == f"1{NB}234"
    assert fmt.value(57.06, "percent") == f"57,1{NB}%"
    assert fmt.value(12345.4, "euro") == f"12{NB}345{NB}€"
    assert fmt.value(2.456, "ratio") == "2,46"
    assert fmt.value(float("nan"), "count") == "nd"
    assert fmt.signed_percent(3.21) == f"+3,2{NB}%"
    assert fmt.signed_percent(-1.0) == f"\u22121,0{NB}%"


def test_half_rounds_away_from_zero():
    assert fmt.number(0.5) == "1"
    assert fmt.number(2.25, 1) == "2,3"


def test_french_dates():
    assert fmt.reference_date(2024) == "31 décembre 2024"
    assert fmt.french_date(dt.date(2026, 3, 1)) == "1er mars 2026"


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_round_trip(n):
    assert int(fmt.value(n, "count").replace(NB, "")) == n


def test_axis_ticks_are_french_and_keep_only_needed_decimals():
    assert fmt.axis_tick(22.5) == "22,5"
    assert fmt.axis_tick(1600.0) == "1\u202f600"
    assert fmt.axis_tick(20.0) == "20"
    assert fmt.axis_tick(0.25) == "0,25"
    assert fmt.axis_tick(-10.0) == "\u221210"
