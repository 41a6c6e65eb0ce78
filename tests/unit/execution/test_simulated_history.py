"""The simulated venue's work per quote and print does not grow with the orders it has seen.

Issue 14: a quote used to walk every order the venue was ever given. These tests count the
orders matching examines (``orders_examined``), never time, so they cannot be flaky.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import T0, new_order, simulated_venue
from quantrail.execution.config import FillProbabilities
from quantrail.execution.order import Order
from quantrail.execution.venues.base import VenueCancelRejected, VenueFill
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.vocab import Mode, OrderType, Side, TimeInForce

D = Decimal
NEVER = Mode.SOFT_DERISK
"""The probabilistic model below never fills an order of this mode, and always any other."""


def venue_for(fill_model: str = "touch") -> SimulatedVenue:
    return simulated_venue(
        fill_model=fill_model, probabilities=FillProbabilities(hard=1.0, soft=0.0, other=1.0)
    )


def with_history(venue: SimulatedVenue, ended: int) -> int:
    """``ended`` orders that each end a different way (filled, canceled, expired, rejected,
    IOC remainder), on the same symbol; returns the time after them."""
    now = T0
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 1_000_000, 1_000_000, now)
    for n in range(ended):
        now += 10
        order_id = f"H-{n}"
        match n % 5:
            case 0:  # a market buy, filled at once
                venue.submit(market(order_id, Side.BUY), now)
            case 1:  # a resting limit, canceled
                venue.submit(new_order(order_id=order_id, qty=100, limit_price=D("9.00")), now)
                venue.cancel(order_id, now + 1)
            case 2:  # a resting DAY limit, expired
                venue.submit(new_order(order_id=order_id, qty=100, limit_price=D("9.00")), now)
                venue.expire_all(now + 1)
            case 3:  # off the tick: rejected
                venue.submit(new_order(order_id=order_id, qty=100, limit_price=D("9.001")), now)
            case _:  # an IOC limit that cannot fill: its remainder canceled
                venue.submit(
                    new_order(
                        order_id=order_id, qty=100, limit_price=D("9.00"), tif=TimeInForce.IOC
                    ),
                    now,
                )
    venue.advance(now + 2)
    assert venue.open_orders() == []
    return now + 10


def market(order_id: str, side: Side) -> Order:
    return new_order(
        order_id=order_id, side=side, qty=100, order_type=OrderType.MARKET, limit_price=None
    )


def examined_by_quotes(venue: SimulatedVenue, now: int, quotes: int = 10) -> int:
    before = venue.orders_examined
    for n in range(quotes):
        venue.on_quote("XYZ", D("9.98"), D("9.99"), 500, 500, now + n)
    return venue.orders_examined - before


@pytest.mark.parametrize("fill_model", ["touch", "probabilistic"])
@pytest.mark.parametrize("ended", [0, 50, 2000])
def test_a_quote_examines_no_ended_order(fill_model: str, ended: int) -> None:
    venue = venue_for(fill_model)
    now = with_history(venue, ended)
    assert examined_by_quotes(venue, now) == 0


@pytest.mark.parametrize("fill_model", ["touch", "probabilistic"])
def test_the_work_of_a_quote_is_the_same_after_thousands_of_ended_orders(fill_model: str) -> None:
    counts = []
    for ended in (0, 3000):
        venue = venue_for(fill_model)
        now = with_history(venue, ended)
        # Two resting orders the quotes below never fill (a buy under the ask, a sell over
        # the bid; the probabilistic model never fills their mode).
        buy = new_order(order_id="BUY", qty=100, limit_price=D("9.50"), mode=NEVER)
        sell = new_order(
            order_id="SELL", side=Side.SELL, qty=100, limit_price=D("10.50"), mode=NEVER
        )
        venue.submit(buy, now)
        venue.submit(sell, now)
        counts.append(examined_by_quotes(venue, now + 1))
        assert [o.order_id for o in venue.open_orders()] == ["BUY", "SELL"]
    assert counts[0] == counts[1] == 20  # two orders, ten quotes


def test_a_quote_stops_at_the_first_limit_that_misses_the_touch() -> None:
    venue = venue_for()
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 500, 500, T0)
    for n in range(100):  # buys well under the ask: none can take it
        venue.submit(new_order(order_id=f"B-{n}", qty=100, limit_price=D("9.00")), T0 + 1)
    before = venue.orders_examined
    venue.on_quote("XYZ", D("9.99"), D("10.00"), 500, 500, T0 + 2)
    assert venue.orders_examined - before == 1  # the best buy misses, so every one behind it


def test_a_print_examines_no_ended_order() -> None:
    venue = venue_for()
    now = with_history(venue, 1000)
    before = venue.orders_examined
    venue.on_trade("XYZ", D("9.99"), 500, now)
    assert venue.orders_examined == before


def test_an_ended_order_is_still_known_to_cancel_and_submit() -> None:
    venue = venue_for()
    now = with_history(venue, 10)
    venue.cancel("H-0", now)  # filled
    venue.cancel("H-3", now)  # rejected
    venue.cancel("NOPE", now)
    refusals = [r for r in venue.advance(now) if isinstance(r, VenueCancelRejected)]
    assert [(r.order_id, r.reason, r.venue_order_id) for r in refusals] == [
        ("H-0", "order already filled", "SIM-H-0"),
        ("H-3", "order already rejected", "SIM-H-3"),
        ("NOPE", "unknown order", ""),
    ]
    venue.submit(market("H-0", Side.BUY), now + 1)  # a retried submit of an ended order
    assert venue.advance(now + 1) == [] and venue.open_orders() == []


def test_resting_orders_still_fill_best_first_among_ended_ones() -> None:
    venue = venue_for()
    now = with_history(venue, 200)
    for order_id, price in (("A", "9.50"), ("B", "9.60"), ("C", "9.60")):
        venue.submit(new_order(order_id=order_id, qty=100, limit_price=D(price)), now)
    venue.on_quote("XYZ", D("9.50"), D("9.60"), 500, 150, now + 1)
    filled = [(r.order_id, r.qty) for r in venue.advance(now + 1) if isinstance(r, VenueFill)]
    assert filled == [("B", 100), ("C", 50)]
    assert [o.order_id for o in venue.open_orders()] == ["A", "C"]
