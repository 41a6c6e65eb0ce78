from __future__ import annotations

from decimal import Decimal

from kit.backtest import DAY0, MINUTE_NS, bar, bar_venue
from kit.orders import new_order
from quantrail.execution.venues.base import (
    VenueAccepted,
    VenueCanceled,
    VenueFill,
    VenueReport,
    apply_report,
)
from quantrail.vocab import OrderStatus, OrderType, Side

D = Decimal


def _fills(reports: list[VenueReport]) -> list[VenueFill]:
    return [r for r in reports if isinstance(r, VenueFill)]


def _market(**overrides: object) -> object:
    fields: dict[str, object] = {"order_type": OrderType.MARKET, "limit_price": None, "qty": 100}
    fields.update(overrides)
    return new_order(**fields)


def test_market_buy_fills_at_next_open_plus_slippage() -> None:
    venue = bar_venue(slippage_ticks=2)
    venue.on_bar(bar(), DAY0)
    order = _market()
    venue.submit(order, DAY0 + 1)
    assert not _fills(venue.advance(DAY0 + 1))  # accepted, waiting for the next bar
    venue.on_bar(bar(start_ns=DAY0 + MINUTE_NS, open=D("10.40")), DAY0 + MINUTE_NS)
    (fill,) = _fills(venue.advance(DAY0 + MINUTE_NS))
    assert (fill.price, fill.qty, fill.ts_ns) == (D("10.42"), 100, DAY0 + MINUTE_NS)
    assert venue.open_orders() == []


def test_market_sell_gets_the_open_less_slippage() -> None:
    venue = bar_venue()
    order = _market(side=Side.SELL)
    venue.submit(order, DAY0 - 1)
    venue.on_bar(bar(), DAY0)
    (fill,) = _fills(venue.advance(DAY0))
    assert fill.price == D("9.99")


def test_fee_per_share_with_a_minimum() -> None:
    venue = bar_venue(fee_per_share=D("0.005"), min_fee_per_order=D("1.00"))
    venue.submit(_market(order_id="small", qty=100), DAY0 - 1)
    venue.submit(_market(order_id="big", qty=1001), DAY0 - 1)
    venue.on_bar(bar(), DAY0)
    fees = {f.order_id: f.fee for f in _fills(venue.advance(DAY0))}
    assert fees == {"small": D("1.00"), "big": D("5.00")}  # 5.005 rounds half-even to 5.00


def test_stop_fills_at_the_stop_inside_the_bar() -> None:
    venue = bar_venue(slippage_ticks=3)
    venue.on_bar(bar(open=D("10.00"), low=D("9.50")), DAY0)
    venue.submit(_market(side=Side.SELL, stop_price=D("9.80")), DAY0 + 30)
    (fill,) = _fills(venue.advance(DAY0 + 30))
    assert (fill.price, fill.ts_ns) == (D("9.80"), DAY0 + 30)  # no slippage on a stop


def test_stop_gapped_through_fills_at_the_open() -> None:
    venue = bar_venue()
    venue.on_bar(bar(open=D("9.60"), high=D("9.70"), low=D("9.40"), close=D("9.50")), DAY0)
    venue.submit(_market(side=Side.SELL, stop_price=D("9.80")), DAY0 + 1)
    (fill,) = _fills(venue.advance(DAY0 + 1))
    assert fill.price == D("9.60")


def test_short_stop_gapped_up_fills_at_the_open() -> None:
    venue = bar_venue()
    venue.on_bar(bar(open=D("10.50"), high=D("10.60"), low=D("10.40"), close=D("10.45")), DAY0)
    venue.submit(_market(side=Side.BUY, stop_price=D("10.30")), DAY0 + 1)
    (fill,) = _fills(venue.advance(DAY0 + 1))
    assert fill.price == D("10.50")


def test_stop_before_any_bar_waits_for_the_first() -> None:
    venue = bar_venue()
    venue.submit(_market(side=Side.SELL, stop_price=D("9.80")), DAY0 - 1)
    assert not _fills(venue.advance(DAY0 - 1))
    venue.on_bar(bar(open=D("9.70"), low=D("9.60")), DAY0)
    (fill,) = _fills(venue.advance(DAY0))
    assert fill.price == D("9.70")


def test_limit_buy_fills_at_open_when_marketable_else_at_limit_when_touched() -> None:
    venue = bar_venue(slippage_ticks=0)
    venue.submit(new_order(order_id="marketable", qty=100, limit_price=D("10.50")), DAY0 - 1)
    venue.submit(new_order(order_id="touched", qty=100, limit_price=D("9.95")), DAY0 - 1)
    venue.submit(new_order(order_id="missed", qty=100, limit_price=D("9.00")), DAY0 - 1)
    venue.on_bar(bar(), DAY0)
    prices = {f.order_id: f.price for f in _fills(venue.advance(DAY0))}
    assert prices == {"marketable": D("10.00"), "touched": D("9.95")}
    assert [o.order_id for o in venue.open_orders()] == ["missed"]


def test_reports_move_the_order_to_filled_and_ids_are_stable() -> None:
    venue = bar_venue()
    order = _market()
    order.move_to(OrderStatus.SUBMITTED, DAY0)
    venue.submit(order, DAY0)
    venue.submit(order, DAY0)  # a retried submit: one order
    venue.on_bar(bar(), DAY0 + 1)
    reports = venue.advance(DAY0 + 1)
    assert [type(r) for r in reports] == [VenueAccepted, VenueFill]
    for report in reports:
        apply_report(order, report)
    assert order.status is OrderStatus.FILLED and order.fill_ids == ["BAR-O-1-F1"]


def test_cancel_and_expire() -> None:
    venue = bar_venue()
    venue.submit(new_order(order_id="a", limit_price=D("1.00")), DAY0)
    venue.cancel("a", DAY0)
    venue.cancel("a", DAY0)
    reports = venue.advance(DAY0)
    assert isinstance(reports[1], VenueCanceled) and "done" in getattr(reports[2], "reason", "")
    venue.submit(new_order(order_id="b", limit_price=D("1.00")), DAY0)
    venue.expire_all(DAY0 + 1)
    assert venue.open_orders() == []


def test_restored_order_fills_the_rest_with_fees_and_ids_carried_on() -> None:
    venue = bar_venue()
    order = _market(qty=300)
    order.move_to(OrderStatus.SUBMITTED, DAY0)
    apply_report(order, VenueAccepted(order_id="O-1", venue_order_id="BAR-O-1", ts_ns=DAY0))
    order.apply_fill("BAR-O-1-F1", 100, D("10.00"), D("1.00"), DAY0)
    venue.restore(order, DAY0 + 1)
    assert venue.advance(DAY0 + 1) == []  # acked before: nothing to answer again
    venue.on_bar(bar(start_ns=DAY0 + MINUTE_NS), DAY0 + MINUTE_NS)
    (fill,) = _fills(venue.advance(DAY0 + MINUTE_NS))
    assert (fill.fill_id, fill.qty, fill.fee) == ("BAR-O-1-F2", 200, D("0.50"))  # 1.50 in all


def test_restored_order_never_acked_is_answered_again() -> None:
    venue = bar_venue()
    order = _market()
    order.move_to(OrderStatus.SUBMITTED, DAY0)
    venue.restore(order, DAY0)
    (accepted,) = venue.advance(DAY0)
    assert isinstance(accepted, VenueAccepted) and accepted.venue_order_id == "BAR-O-1"
