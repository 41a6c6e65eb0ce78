"""``SimulatedVenue.restore``: after our restart the venue takes an order back as it was."""

from __future__ import annotations

from decimal import Decimal

from kit.orders import T0, apply_reports, new_order, simulated_venue, working_order
from quantrail.execution.order import Order
from quantrail.execution.venues.base import (
    VenueAccepted,
    VenueCanceled,
    VenueFill,
    VenueReport,
    order_fee,
)
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.vocab import OrderStatus, TimeInForce

S = OrderStatus
D = Decimal
PER_SHARE, MIN_FEE = D("0.0035"), D("0.35")


def partly_filled(first: int = 40, **overrides: object) -> Order:
    """A 1,000-share buy at 10.00 that filled ``first`` shares at a first venue (fill F1)."""
    before = simulated_venue()
    order = new_order(**overrides)
    order.move_to(S.SUBMITTED, T0)
    before.submit(order, T0)
    before.on_trade("XYZ", D("10.00"), first, T0 + 1)
    apply_reports({order.order_id: order}, before.advance(T0 + 1))
    assert (order.status, order.filled_qty, order.fill_ids) == (
        S.PARTIALLY_FILLED,
        first,
        [f"SIM-{order.order_id}-F1"],
    )
    return order


def fills(reports: list[VenueReport]) -> list[VenueFill]:
    return [report for report in reports if isinstance(report, VenueFill)]


def restored(order: Order, now: int = T0 + 10) -> SimulatedVenue:
    venue = simulated_venue()
    venue.restore(order, now)
    return venue


def test_the_next_fill_continues_the_ids_and_tops_the_fee_up_once() -> None:
    order = partly_filled(first=40)  # 40 shares paid the 0.35 minimum
    assert order.fees == MIN_FEE
    venue = restored(order)
    venue.on_trade("XYZ", D("10.00"), 60, T0 + 11)
    venue.on_trade("XYZ", D("9.99"), 900, T0 + 12)
    reports = venue.advance(T0 + 12)
    assert [f.fill_id for f in fills(reports)] == ["SIM-O-1-F2", "SIM-O-1-F3"]
    # 100 shares in all still owe only the minimum: nothing more; then 1,000 owe 3.50.
    assert [f.fee for f in fills(reports)] == [D("0.00"), D("3.15")]
    apply_reports({order.order_id: order}, reports)
    assert (order.status, order.filled_qty) == (S.FILLED, 1000)
    assert order.fees == order_fee(1000, PER_SHARE, MIN_FEE) == D("3.50")
    assert order.fill_ids == ["SIM-O-1-F1", "SIM-O-1-F2", "SIM-O-1-F3"]


def test_a_small_order_pays_the_minimum_once_across_the_restart() -> None:
    order = partly_filled(first=40, qty=100)
    venue = restored(order)
    venue.on_trade("XYZ", D("10.00"), 500, T0 + 11)
    [last] = fills(venue.advance(T0 + 11))
    assert (last.fill_id, last.qty, last.fee) == ("SIM-O-1-F2", 60, D("0.00"))
    apply_reports({order.order_id: order}, [last])
    # max(0.35, 100 x 0.0035 = 0.35) to the cent, not the minimum twice (0.70).
    assert order.fees == D("0.35")


def test_an_acked_order_is_taken_back_silently_with_its_venue_id_and_what_is_left() -> None:
    order = working_order(qty=500)  # acked by a venue that called it V-O-1
    venue = restored(order)
    assert venue.advance(T0 + 10) == []  # no second acceptance
    [resting] = venue.open_orders()
    assert (resting.venue_order_id, resting.qty, resting.filled_qty) == ("V-O-1", 500, 0)
    venue.on_trade("XYZ", D("10.00"), 200, T0 + 11)
    [fill] = fills(venue.advance(T0 + 11))
    assert (fill.fill_id, fill.venue_order_id, fill.qty, fill.fee) == (
        "V-O-1-F1",
        "V-O-1",
        200,
        D("0.70"),  # 200 x 0.0035: nothing was paid before
    )


def test_a_partly_filled_order_rests_with_its_leaves() -> None:
    venue = restored(partly_filled(first=40))
    [resting] = venue.open_orders()
    assert (resting.qty, resting.filled_qty, resting.leaves_qty) == (1000, 40, 960)


def test_an_order_whose_ack_never_came_is_answered_as_on_arrival() -> None:
    order = new_order()
    order.move_to(S.SUBMITTED, T0)  # the first venue's ack died with it
    venue = restored(order)
    [ack] = venue.advance(T0 + 10)
    assert isinstance(ack, VenueAccepted) and ack.venue_order_id == "SIM-O-1"


def test_a_pending_cancel_is_answered_once_the_cancel_is_sent_again() -> None:
    order = partly_filled(first=40)
    order.request_cancel(T0 + 2)
    venue = restored(order)
    venue.cancel(order.order_id, T0 + 10)  # the service re-sends it on restart
    [canceled] = venue.advance(T0 + 10)
    assert isinstance(canceled, VenueCanceled)
    apply_reports({order.order_id: order}, [canceled])
    assert (order.status, order.filled_qty, order.fees) == (S.CANCELED, 40, MIN_FEE)


def test_an_acked_ioc_order_is_canceled_as_its_remainder_was() -> None:
    venue = restored(working_order(tif=TimeInForce.IOC))
    [canceled] = venue.advance(T0 + 10)
    assert isinstance(canceled, VenueCanceled) and canceled.reason == "IOC remainder"
    assert venue.open_orders() == []


def test_an_order_the_venue_knows_is_not_taken_twice() -> None:
    order = working_order()
    venue = restored(order)
    venue.restore(order, T0 + 11)
    venue.submit(order, T0 + 12)
    assert len(venue.open_orders()) == 1
    assert venue.advance(T0 + 12) == []
