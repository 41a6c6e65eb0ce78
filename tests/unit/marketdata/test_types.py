from decimal import Decimal

import pytest

from kit.marketdata import T0_NS, prt, quote
from quantrail.marketdata.types import Print, Quote


def test_quote_spread_and_exact_mid() -> None:
    q = quote("24.99", "25.02")
    assert q.spread == Decimal("0.03")
    assert q.mid == Decimal("25.005")
    assert not q.crossed


def test_locked_quote_is_accepted_and_reported_crossed() -> None:
    assert quote("25.00", "25.00").crossed


def test_one_sided_quote_is_not_crossed() -> None:
    q = quote("25.00", "0")
    assert not q.two_sided
    assert not q.crossed


def test_float_price_is_refused_naming_the_field() -> None:
    with pytest.raises(TypeError, match=r"bid: must be a Decimal, got float 24\.99"):
        Quote("PFA", 24.99, Decimal("25.01"), 100, 100, T0_NS)  # type: ignore[arg-type]


def test_negative_size_is_refused_naming_field_and_value() -> None:
    with pytest.raises(ValueError, match="ask_size: must be >= 0, got -100"):
        quote(ask_size=-100)


def test_print_needs_positive_price_and_size() -> None:
    with pytest.raises(ValueError, match="price: must be > 0, got 0"):
        prt("0")
    with pytest.raises(ValueError, match="size: must be > 0, got 0"):
        prt(size=0)


def test_bool_is_not_a_share_count() -> None:
    with pytest.raises(TypeError, match="size: must be an int number of shares, got True"):
        Print("PFA", Decimal("25"), True, T0_NS)


def test_nan_price_is_refused() -> None:
    with pytest.raises(ValueError, match="price: must be a finite number"):
        prt(Decimal("NaN"))


def test_blank_symbol_and_negative_time_are_refused() -> None:
    with pytest.raises(ValueError, match="symbol: must be a non-empty string"):
        prt(symbol=" ")
    with pytest.raises(ValueError, match=r"ts_ns: must be a non-negative int .* got -1"):
        prt(ts_ns=-1)


def test_conditions_must_be_a_tuple_of_codes() -> None:
    with pytest.raises(TypeError, match="conditions: must be a tuple"):
        prt(conditions=["T"])  # type: ignore[arg-type]
    assert prt(conditions=("T", "Z")).conditions == ("T", "Z")
