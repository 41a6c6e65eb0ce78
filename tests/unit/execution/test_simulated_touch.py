"""The simulated venue's touch model: quotes, prints, latency, ids and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import MS, T0, apply_reports, new_order, simulated_venue
from quantrail.events import QuoteUpdated
from quantrail.execution.order import Order
from quantrail.execution.venues.base import (
    Liquidity,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueExpired,
    VenueFill,
    VenueRejected,
    VenueReport,
)
from quantrail.execution.venues.simulated import SimulatedVenue, usable_quote
from quantrail.vocab import OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus
D = Decimal


def fills(reports: list[VenueReport]) -> list[tuple[str, int, Decimal, Decimal, Liquidity]]:
    return [
        (r.order_id, r.qty, r.price, r.fee, r.liquidity)
        for r in reports
        if isinstance(r, VenueFill)
    ]


def quoted(**overrides: object) -> SimulatedVenue:
    venue = simulated_venue(**overrides)
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 500, 300, T0)
    return venue


def test_a_marketable_buy_takes_the_ask_size_rests_the_rest_then_fills_on_prints() -> None:
    venue = quoted()
    order = new_order()  # buy 1,000 at 10.00; the ask shows 300 at 10.00
    order.move_to(S.SUBMITTED, T0)
    venue.submit(order, T0 + 1)
    first = venue.advance(T0 + 1)
    assert isinstance(first[0], VenueAccepted)
    assert fills(first) == [("O-1", 300, D("10.00"), D("1.05"), Liquidity.TAKER)]
    [resting] = venue.open_orders()
    assert (resting.order_id, resting.leaves_qty) == ("O-1", 700)
    venue.on_trade("XYZ", D("9.99"), 500, T0 + 2)  # through the limit: fills at the limit
    venue.on_trade("XYZ", D("10.00"), 1000, T0 + 3)  # at the limit: the last 200
    later = venue.advance(T0 + 3)
    # fees: cum 800 * 0.0035 = 2.80 - 1.05 = 1.75; cum 1000 = 3.50 - 2.80 = 0.70
    assert fills(later) == [
        ("O-1", 500, D("10.00"), D("1.75"), Liquidity.MAKER),
        ("O-1", 200, D("10.00"), D("0.70"), Liquidity.MAKER),
    ]
    apply_reports({"O-1": order}, first + later)
    assert (order.status, order.filled_qty, order.fees) == (S.FILLED, 1000, D("3.50"))
    assert order.avg_fill_price == D("10.00")
    assert venue.open_orders() == []


def test_a_marketable_limit_fills_at_the_touch_not_its_limit() -> None:
    venue = quoted()
    venue.submit(new_order(qty=100, limit_price=D("10.05")), T0 + 1)
    assert fills(venue.advance(T0 + 1)) == [("O-1", 100, D("10.00"), D("0.35"), Liquidity.TAKER)]


def test_a_marketable_sell_takes_the_bid() -> None:
    venue = quoted()
    venue.submit(new_order(side=Side.SELL, qty=800, limit_price=D("9.98")), T0 + 1)
    assert fills(venue.advance(T0 + 1)) == [("O-1", 500, D("9.99"), D("1.75"), Liquidity.TAKER)]
    assert venue.open_orders()[0].leaves_qty == 300


def test_displayed_size_taken_is_gone_until_the_next_quote() -> None:
    venue = quoted()
    venue.submit(new_order(order_id="A", qty=200), T0 + 1)
    venue.submit(new_order(order_id="B", qty=200), T0 + 2)
    assert [(f[0], f[1]) for f in fills(venue.advance(T0 + 2))] == [("A", 200), ("B", 100)]
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 500, 400, T0 + 3)
    assert [(f[0], f[1]) for f in fills(venue.advance(T0 + 3))] == [("B", 100)]


def test_a_non_marketable_limit_rests_until_a_print_through_it() -> None:
    venue = quoted()
    venue.submit(new_order(qty=100, limit_price=D("9.98")), T0 + 1)
    venue.on_quote("XYZ", D("9.98"), D("9.99"), 100, 100, T0 + 2)
    venue.on_trade("XYZ", D("9.99"), 500, T0 + 3)  # above the buy: nothing
    assert fills(venue.advance(T0 + 3)) == []
    venue.on_trade("XYZ", D("9.97"), 60, T0 + 4)  # through it: up to the print size
    assert fills(venue.advance(T0 + 4)) == [("O-1", 60, D("9.98"), D("0.35"), Liquidity.MAKER)]


def test_a_print_below_a_resting_sell_does_nothing() -> None:
    venue = quoted()
    venue.submit(new_order(side=Side.SELL, qty=100, limit_price=D("10.02")), T0 + 1)
    venue.on_trade("XYZ", D("10.01"), 500, T0 + 2)
    assert fills(venue.advance(T0 + 2)) == []
    venue.on_trade("XYZ", D("10.02"), 500, T0 + 3)
    assert fills(venue.advance(T0 + 3)) == [("O-1", 100, D("10.02"), D("0.35"), Liquidity.MAKER)]


def test_a_print_goes_to_the_best_price_first_then_arrival() -> None:
    venue = simulated_venue()
    for order_id, price in (("A", "10.00"), ("B", "10.01"), ("C", "10.01")):
        venue.submit(new_order(order_id=order_id, qty=100, limit_price=D(price)), T0)
    venue.on_trade("XYZ", D("9.99"), 250, T0 + 1)
    assert [(f[0], f[1]) for f in fills(venue.advance(T0 + 1))] == [
        ("B", 100),
        ("C", 100),
        ("A", 50),
    ]


def test_with_no_quote_an_order_rests_and_a_market_order_fills_on_the_first_quote() -> None:
    venue = simulated_venue()
    venue.submit(new_order(order_type=OrderType.MARKET, limit_price=None, qty=400), T0)
    assert [type(r) for r in venue.advance(T0)] == [VenueAccepted]
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 500, 300, T0 + 1)
    assert fills(venue.advance(T0 + 1)) == [("O-1", 300, D("10.00"), D("1.05"), Liquidity.TAKER)]


def test_an_ioc_remainder_is_canceled() -> None:
    venue = quoted()
    venue.submit(new_order(qty=1000, tif=TimeInForce.IOC), T0 + 1)
    reports = venue.advance(T0 + 1)
    assert fills(reports) == [("O-1", 300, D("10.00"), D("1.05"), Liquidity.TAKER)]
    assert isinstance(reports[-1], VenueCanceled) and reports[-1].reason == "IOC remainder"
    assert venue.open_orders() == []


def test_reports_are_visible_only_after_the_latency() -> None:
    venue = quoted(latency_ns=5 * MS)
    venue.submit(new_order(), T0 + 1)
    assert venue.advance(T0 + 1) == []
    assert venue.advance(T0 + 1 + 5 * MS - 1) == []
    reports = venue.advance(T0 + 1 + 5 * MS)
    assert [type(r) for r in reports] == [VenueAccepted, VenueFill]
    assert all(r.ts_ns == T0 + 1 for r in reports)  # stamped when the venue acted
    assert venue.advance(T0 + 10 * MS) == []  # each report is returned once


def test_fill_ids_are_unique_and_the_same_on_a_replay() -> None:
    def run() -> list[VenueReport]:
        venue = quoted()
        venue.submit(new_order(order_id="A"), T0 + 1)
        venue.submit(new_order(order_id="B", side=Side.SELL, limit_price=D("10.05")), T0 + 1)
        venue.on_trade("XYZ", D("10.00"), 100, T0 + 2)
        venue.on_trade("XYZ", D("10.05"), 100, T0 + 3)
        venue.on_trade("XYZ", D("9.99"), 100, T0 + 4)
        return venue.advance(T0 + 4)

    first = run()
    ids = [r.fill_id for r in first if isinstance(r, VenueFill)]
    assert ids == ["SIM-A-F1", "SIM-A-F2", "SIM-B-F1", "SIM-A-F3"]
    assert run() == first


def test_fees_have_a_per_order_minimum_and_sum_to_the_cent() -> None:
    venue = simulated_venue()
    venue.submit(new_order(qty=1000), T0)
    for size in (40, 60, 233):
        venue.on_trade("XYZ", D("10.00"), size, T0 + 1)
    # cum 40 -> max(0.14, 0.35) = 0.35; cum 100 -> 0.35 (+0.00); cum 333 -> 1.1655 -> 1.17 (+0.82)
    assert [f[3] for f in fills(venue.advance(T0 + 1))] == [D("0.35"), D("0.00"), D("0.82")]


def test_day_orders_expire_at_the_close_and_gtc_orders_stay() -> None:
    venue = simulated_venue()
    venue.submit(new_order(order_id="DAY"), T0)
    venue.submit(new_order(order_id="GTC", tif=TimeInForce.GTC), T0)
    venue.expire_all(T0 + 10)
    expired = [r for r in venue.advance(T0 + 10) if isinstance(r, VenueExpired)]
    assert [r.order_id for r in expired] == ["DAY"]
    assert [o.order_id for o in venue.open_orders()] == ["GTC"]


def test_a_price_off_the_tick_is_rejected() -> None:
    venue = simulated_venue()
    venue.submit(new_order(limit_price=D("10.005")), T0)
    venue.submit(new_order(order_id="PENNY", limit_price=D("0.5001")), T0)
    reports = venue.advance(T0)
    assert isinstance(reports[0], VenueRejected)
    assert reports[0].reason == "limit_price: 10.005 is not on the tick 0.01"
    assert isinstance(reports[1], VenueAccepted)  # sub-dollar prices tick in 0.0001


def test_a_second_submit_of_the_same_order_is_ignored() -> None:
    venue = simulated_venue()
    order = new_order()
    venue.submit(order, T0)
    venue.submit(order, T0 + 1)
    assert [type(r) for r in venue.advance(T0 + 1)] == [VenueAccepted]
    assert len(venue.open_orders()) == 1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [("none", "unknown order"), ("canceled", "order already canceled")],
)
def test_cancel_of_an_unknown_or_closed_order_is_refused(setup: str, reason: str) -> None:
    venue = simulated_venue()
    if setup == "canceled":
        venue.submit(new_order(), T0)
        venue.cancel("O-1", T0)
    venue.cancel("O-1", T0 + 1)
    refusal = venue.advance(T0 + 1)[-1]
    assert isinstance(refusal, VenueCancelRejected) and refusal.reason == reason


def test_time_may_not_go_backwards() -> None:
    venue = quoted()
    with pytest.raises(ValueError, match=r"^now_ns: .* is before the venue's time"):
        venue.advance(T0 - 1)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((D("10.01"), D("10.00"), 1, 1), "ask"),
        ((D("0"), D("10.00"), 1, 1), "bid"),
        ((D("9.99"), D("10.00"), -1, 1), "bid_size"),
        ((D("9.99"), D("10.00"), 1, 1.5), "ask_size"),
    ],
)
def test_a_bad_quote_is_refused_naming_the_field(
    args: tuple[Decimal, Decimal, int, int], field: str
) -> None:
    bid, ask, bid_size, ask_size = args
    with pytest.raises(ValueError, match=rf"^{field}: "):
        simulated_venue().on_quote("XYZ", bid, ask, bid_size, ask_size, T0)


def test_a_bad_print_or_setting_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"^size: "):
        simulated_venue().on_trade("XYZ", D("10.00"), 0, T0)
    with pytest.raises(ValueError, match=r"^fill_model: "):
        simulated_venue(fill_model="magic")
    with pytest.raises(ValueError, match=r"^fee_per_share: "):
        simulated_venue(fee_per_share=D("-0.01"))
    with pytest.raises(ValueError, match=r"^latency_ns: "):
        simulated_venue(latency_ns=-1)


def test_the_venue_copies_the_order_it_is_given() -> None:
    venue = simulated_venue()
    order: Order = new_order()
    venue.submit(order, T0)
    order.symbol = "OTHER"  # our later edits do not move the venue's order
    assert venue.open_orders()[0].symbol == "XYZ"


def test_market_data_without_a_symbol_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^symbol: "):
        simulated_venue().on_trade("", D("10.00"), 100, T0)


def quiet(venue: SimulatedVenue, symbol: str, bid: D, ask: D, bid_size: int) -> bool:
    """Whether the venue takes this one quote (at T0) quietly (``quietly_taken``)."""
    quote = QuoteUpdated(ts_event=T0, source="test", symbol=symbol, bid=bid, ask=ask,
                         bid_size=bid_size, ask_size=100)  # fmt: skip
    return venue.quietly_taken([quote]) == 1


def test_a_quote_is_taken_quietly_only_while_nothing_works_in_its_symbol() -> None:
    venue = simulated_venue()
    assert quiet(venue, "XYZ", D("9.99"), D("10.01"), 100)
    venue.submit(new_order(limit_price=D("9.50")), T0)  # a bid that rests below the market
    assert not quiet(venue, "XYZ", D("9.99"), D("10.01"), 100)
    assert quiet(venue, "ABC", D("9.99"), D("10.01"), 100)  # another symbol


@pytest.mark.parametrize(
    ("bid", "ask", "size"),
    [(D("10.02"), D("10.01"), 100), (D("0"), D("10.01"), 100), (D("9.99"), D("NaN"), 100),
     (D("9.99"), D("10.01"), -1)],
    ids=["crossed", "zero-bid", "nan-ask", "negative-size"],
)  # fmt: skip
def test_a_quote_the_venue_would_refuse_is_never_quiet(bid: D, ask: D, size: int) -> None:
    venue = simulated_venue()
    assert not quiet(venue, "XYZ", bid, ask, size)
    with pytest.raises(ValueError):
        venue.on_quote("XYZ", bid, ask, size, 100, T0)


@pytest.mark.parametrize(
    ("bid", "ask", "size", "usable"),
    [(D("9.99"), D("10.01"), 100, True), (D("10.01"), D("10.01"), 0, True),
     (D("10.02"), D("10.01"), 100, False), (D("0"), D("10.01"), 100, False),
     (D("9.99"), D("NaN"), 100, False), (D("9.99"), D("Infinity"), 100, False),
     (D("9.99"), D("10.01"), -1, False), (D("9.99"), D("10.01"), True, False)],
    ids=["two-sided", "locked-no-size", "crossed", "zero-bid", "nan-ask", "infinite-ask",
         "negative-size", "bool-size"],
)  # fmt: skip
def test_usable_quote_is_what_the_venue_takes_as_a_book(
    bid: D, ask: D, size: int, usable: bool
) -> None:
    quote = QuoteUpdated(ts_event=T0, source="test", symbol="XYZ", bid=bid, ask=ask,
                         bid_size=size, ask_size=100)  # fmt: skip
    assert usable_quote(quote) is usable
    venue = simulated_venue()
    if usable:
        venue.on_quote("XYZ", bid, ask, size, 100, T0)
    else:
        with pytest.raises((ValueError, TypeError)):
            venue.on_quote("XYZ", bid, ask, size, 100, T0)


def test_checked_quotes_are_asked_only_the_time_and_the_working_orders() -> None:
    venue = simulated_venue()
    quotes = [
        QuoteUpdated(ts_event=T0 + i, source="test", symbol=symbol, bid=D("9.99"),
                     ask=D("10.01"), bid_size=100, ask_size=100)
        for i, symbol in enumerate(["ABC", "ABC", "XYZ", "ABC"])
    ]  # fmt: skip
    assert venue.quietly_taken(quotes, checked=True) == 4
    venue.submit(new_order(limit_price=D("9.50")), T0)  # XYZ works an order now
    assert venue.quietly_taken(quotes, checked=True) == 2
    venue.on_quote("ABC", D("9.99"), D("10.01"), 100, 100, T0 + 10)  # time moved past them
    assert venue.quietly_taken(quotes, checked=True) == 0


def test_the_venue_says_when_it_works_an_order_and_when_its_first_report_comes_due() -> None:
    venue = simulated_venue(latency_ns=50 * MS)
    assert venue.idle() and venue.next_report_ns() is None
    venue.submit(new_order(limit_price=D("9.50")), T0)  # rests below the market
    assert not venue.idle()
    assert venue.next_report_ns() == T0 + 50 * MS  # its acceptance, after the latency
    venue.advance(T0 + 50 * MS)
    assert venue.next_report_ns() is None and not venue.idle()
    venue.cancel("O-1", T0 + 60 * MS)
    assert venue.idle() and venue.next_report_ns() == T0 + 110 * MS
