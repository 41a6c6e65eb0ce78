"""Venue reports applied to orders: races between fills, cancels and replaces."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import MS, T0, apply_reports, new_order, simulated_venue, working_order
from quantrail.execution.order import Order
from quantrail.execution.state_machine import InvalidTransition
from quantrail.execution.venues.base import (
    VenueCanceled,
    VenueCancelRejected,
    VenueExpired,
    VenueFill,
    VenueRejected,
    apply_report,
)
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.vocab import OrderStatus

S = OrderStatus
D = Decimal
LATENCY = 5 * MS


def submitted(venue: SimulatedVenue, order: Order, now: int) -> dict[str, Order]:
    order.move_to(S.SUBMITTED, now)
    venue.submit(order, now)
    return {order.order_id: order}


def test_the_ack_moves_the_order_to_accepted_then_working() -> None:
    venue = simulated_venue(latency_ns=LATENCY)
    order = new_order()
    orders = submitted(venue, order, T0)
    [applied] = apply_reports(orders, venue.advance(T0 + LATENCY))
    assert applied.transitions == (S.ACCEPTED, S.WORKING)
    assert (order.status, order.venue_order_id) == (S.WORKING, "SIM-O-1")


def test_a_fill_racing_a_cancel_is_kept_and_the_rest_canceled() -> None:
    venue = simulated_venue(latency_ns=LATENCY)
    order = new_order()
    orders = submitted(venue, order, T0)
    apply_reports(orders, venue.advance(T0 + LATENCY))
    venue.on_trade("XYZ", D("10.00"), 400, T0 + 6 * MS)  # fills 400; we do not know yet
    order.request_cancel(T0 + 7 * MS)
    venue.cancel("O-1", T0 + 7 * MS)
    reports = venue.advance(T0 + 12 * MS)
    assert [type(report) for report in reports] == [VenueFill, VenueCanceled]
    applied = apply_reports(orders, reports)
    assert [a.transitions for a in applied] == [(S.PARTIALLY_FILLED,), (S.CANCELED,)]
    assert (order.status, order.filled_qty, order.leaves_qty) == (S.CANCELED, 400, 0)
    assert order.fees == D("1.40")  # 400 * 0.0035


def test_a_cancel_of_a_filled_order_is_refused_with_a_report() -> None:
    venue = simulated_venue(latency_ns=LATENCY)
    order = new_order()
    orders = submitted(venue, order, T0)
    apply_reports(orders, venue.advance(T0 + LATENCY))
    venue.on_trade("XYZ", D("9.99"), 1000, T0 + 6 * MS)
    order.request_cancel(T0 + 7 * MS)
    venue.cancel("O-1", T0 + 7 * MS)
    fill, refusal = venue.advance(T0 + 12 * MS)
    assert isinstance(refusal, VenueCancelRejected)
    assert refusal.reason == "order already filled"
    assert apply_report(order, fill).transitions == (S.FILLED,)
    assert not apply_report(order, refusal).changed
    assert (order.status, order.filled_qty) == (S.FILLED, 1000)


def test_a_refused_cancel_puts_the_order_back_to_work() -> None:
    order = working_order()
    order.request_cancel(T0 + 2)
    refusal = VenueCancelRejected(order_id="O-1", reason="too late", ts_ns=T0 + 3)
    assert apply_report(order, refusal).transitions == (S.WORKING,)
    order.apply_fill("F1", 100, D("10.00"), D("0.35"), T0 + 4)
    order.request_cancel(T0 + 5)
    assert apply_report(order, refusal).transitions == (S.PARTIALLY_FILLED,)


def test_replace_keeps_the_filled_part_and_links_the_ids() -> None:
    venue = simulated_venue(latency_ns=LATENCY)
    old = new_order()
    orders = submitted(venue, old, T0)
    apply_reports(orders, venue.advance(T0 + LATENCY))
    venue.on_trade("XYZ", D("10.00"), 300, T0 + 6 * MS)
    apply_reports(orders, venue.advance(T0 + 11 * MS))
    old.request_replace(1000, D("10.01"), T0 + 12 * MS)
    assert old.status is S.PENDING_REPLACE
    venue.cancel("O-1", T0 + 12 * MS)
    [applied] = apply_reports(orders, venue.advance(T0 + 17 * MS))
    new = applied.successor
    assert new is not None
    assert (old.status, old.filled_qty, old.replaced_by_order_id) == (S.CANCELED, 300, "O-1.r1")
    assert (new.order_id, new.replaces_order_id, new.status) == ("O-1.r1", "O-1", S.NEW)
    assert (new.qty, new.limit_price, new.intent_id) == (700, D("10.01"), "I-1")
    assert (old.replace_qty, old.replace_price) == (0, None)
    orders |= submitted(venue, new, T0 + 18 * MS)
    venue.on_trade("XYZ", D("10.01"), 700, T0 + 19 * MS)
    apply_reports(orders, venue.advance(T0 + 24 * MS))
    assert (new.status, new.filled_qty, new.avg_fill_price) == (S.FILLED, 700, D("10.01"))


def test_a_fill_racing_a_replace_shrinks_the_successor() -> None:
    venue = simulated_venue(latency_ns=LATENCY)
    old = new_order()
    orders = submitted(venue, old, T0)
    apply_reports(orders, venue.advance(T0 + LATENCY))
    old.request_replace(1000, D("10.02"), T0 + 6 * MS)
    venue.on_trade("XYZ", D("10.00"), 200, T0 + 6 * MS)  # the venue fills before the cancel
    venue.cancel("O-1", T0 + 7 * MS)
    applied = apply_reports(orders, venue.advance(T0 + 12 * MS))
    assert [a.transitions for a in applied] == [(S.PARTIALLY_FILLED,), (S.CANCELED,)]
    new = applied[1].successor
    assert new is not None and (new.qty, new.limit_price) == (800, D("10.02"))
    assert (old.filled_qty, old.replaced_by_order_id) == (200, "O-1.r1")


def test_a_cancel_during_a_replace_brings_no_successor() -> None:
    order = working_order()
    order.request_replace(1000, D("10.02"), T0 + 2)
    order.request_cancel(T0 + 3)  # the kill switch
    applied = apply_report(order, VenueCanceled(order_id="O-1", venue_order_id="V", ts_ns=T0 + 4))
    assert applied.successor is None
    assert (order.status, order.replaced_by_order_id) == (S.CANCELED, "")


def test_a_replace_whose_total_is_already_filled_brings_no_successor() -> None:
    order = working_order()
    order.apply_fill("F1", 300, D("10.00"), D("1.05"), T0 + 1)
    order.request_replace(500, D("10.02"), T0 + 2)
    order.apply_fill("F2", 200, D("10.00"), D("0.70"), T0 + 3)
    applied = apply_report(order, VenueCanceled(order_id="O-1", venue_order_id="V", ts_ns=T0 + 4))
    assert applied.transitions == (S.CANCELED,)
    assert applied.successor is None


def test_a_refused_replace_drops_the_request() -> None:
    order = working_order()
    order.request_replace(1000, D("10.02"), T0 + 2)
    refusal = VenueCancelRejected(order_id="O-1", reason="no", ts_ns=T0 + 3)
    assert apply_report(order, refusal).transitions == (S.WORKING,)
    assert (order.replace_qty, order.replace_price) == (0, None)


def test_a_cancel_sent_before_the_ack_and_the_order_rejected() -> None:
    order = new_order()
    order.move_to(S.SUBMITTED, T0)
    order.request_cancel(T0 + 1)
    rejected = VenueRejected(order_id="O-1", reason="halted", ts_ns=T0 + 2)
    assert apply_report(order, rejected).transitions == (S.REJECTED,)
    assert not apply_report(order, rejected).changed  # redelivered


def test_a_redelivered_cancel_ack_changes_nothing() -> None:
    order = working_order()
    canceled = VenueCanceled(order_id="O-1", venue_order_id="V", ts_ns=T0 + 4)
    assert apply_report(order, canceled).changed
    assert not apply_report(order, canceled).changed
    assert order.updated_ns == T0 + 4


def test_a_report_the_table_forbids_raises() -> None:
    order = working_order(qty=100)
    order.apply_fill("F1", 100, D("10.00"), D("0.35"), T0 + 1)
    with pytest.raises(InvalidTransition, match="FILLED -> EXPIRED"):
        apply_report(order, VenueExpired(order_id="O-1", venue_order_id="V", ts_ns=T0 + 2))
    with pytest.raises(InvalidTransition, match="FILLED -> CANCELED"):
        apply_report(order, VenueCanceled(order_id="O-1", venue_order_id="V", ts_ns=T0 + 2))
    assert order.status is S.FILLED


def test_a_report_for_another_order_is_refused() -> None:
    order = working_order()
    with pytest.raises(ValueError, match=r"^order_id: report for 'O-2'"):
        apply_report(order, VenueExpired(order_id="O-2", venue_order_id="V", ts_ns=T0))
