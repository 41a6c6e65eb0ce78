"""MarketState: the exposure mark (truth tick, last print, mid) and the planner's market view."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.market_events import quote, trade_print
from quantrail.marketdata.truth import TruthTickFilter
from quantrail.risk.market_state import MarketState
from quantrail.risk.planner import MarketView

D = Decimal


def test_nothing_known_is_no_price() -> None:
    assert MarketState().price("ACME") is None
    assert MarketState().market_view("ACME") == MarketView()


def test_mid_until_a_print_then_the_truth_tick_before_an_odd_lot() -> None:
    state = MarketState()
    state.apply(quote(bid="25.00", ask="25.03", ts_exchange_ns=1))
    assert (state.price("ACME"), state.mark("ACME").source) == (D("25.015"), "MID")
    state.apply(trade_print(price="25.02", size=40, ts_exchange_ns=2))  # odd lot
    assert (state.price("ACME"), state.mark("ACME").source) == (D("25.02"), "LAST_PRINT")
    state.apply(trade_print(price="25.01", size=100, ts_exchange_ns=3))
    state.apply(trade_print(price="24.50", size=7, ts_exchange_ns=4))  # a stray odd lot
    assert (state.price("ACME"), state.mark("ACME").ts_ns) == (D("25.01"), 3)
    assert state.market_view("ACME") == MarketView(
        bid=D("25.00"), ask=D("25.03"), last_truth_tick=D("25.01"), last_print=D("24.50")
    )


def test_excluded_venues_do_not_make_truth_ticks() -> None:
    state = MarketState(TruthTickFilter(excluded_venues=frozenset({"FNRA"})))
    assert state.on_print(trade_print(price="25.00", size=500, venue="FNRA")) is False
    assert state.last_truth_tick("ACME") is None and state.last_print("ACME") == D("25.00")


def test_a_one_sided_quote_leaves_the_empty_side_none_and_no_mid() -> None:
    state = MarketState()
    state.apply(quote(bid="0", ask="25.03", bid_size=0))
    assert state.market_view("ACME") == MarketView(ask=D("25.03"))
    assert state.price("ACME") is None


def test_a_late_reported_quote_does_not_replace_a_newer_one() -> None:
    state = MarketState()
    state.apply(quote(bid="25.10", ask="25.12", ts_exchange_ns=20))
    state.apply(quote(bid="25.00", ask="25.02", ts_exchange_ns=10))
    assert state.quote("ACME").bid == D("25.10")


def test_other_events_are_not_market_data() -> None:
    from kit.order_events import order_working

    assert MarketState().apply(order_working()) is False


def test_a_bad_print_or_quote_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="size"):
        MarketState().apply(trade_print(size=0))
    with pytest.raises(ValueError, match="bid"):
        MarketState().apply(quote(bid="-1"))
