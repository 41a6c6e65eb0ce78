"""The venue-independent reconciliation (pure): the venue's fills against the stream and us."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.orders import T0, working_order
from quantrail.execution.fill_reconcile import compare_fills, order_at_fill
from quantrail.execution.venues.base import Liquidity, RestingOrder, VenueFill
from quantrail.vocab import OrderStatus, OrderType, Side, TimeInForce


def _fill(order_id: str, n: int, qty: int = 100, price: str = "10.00") -> VenueFill:
    return VenueFill(
        order_id=order_id, venue_order_id=f"V-{order_id}", fill_id=f"V-{order_id}-F{n}",
        symbol="XYZ", side=Side.BUY, qty=qty, price=Decimal(price), fee=Decimal("0.35"),
        liquidity=Liquidity.MAKER, ts_ns=T0 + n,
    )  # fmt: skip


def _resting(order_id: str) -> RestingOrder:
    return RestingOrder(
        order_id=order_id, venue_order_id=f"V-{order_id}", symbol="XYZ", side=Side.BUY,
        order_type=OrderType.LIMIT, limit_price=Decimal("10.00"), tif=TimeInForce.DAY,
        qty=1000, filled_qty=0,
    )  # fmt: skip


def test_each_venue_fill_lands_in_one_place() -> None:
    on_stream, ours_gone, never_applied, waiting = (_fill("A", n) for n in (1, 2, 3, 4))
    stranger = _fill("Z", 1)
    venue = [on_stream, ours_gone, never_applied, waiting, stranger, ours_gone]  # one listed twice
    ours = {"A": [on_stream.fill_id, ours_gone.fill_id]}
    gap = compare_fills(
        venue, {on_stream.fill_id}, {waiting.fill_id}, ours, [_resting("A"), _resting("Q")]
    )
    assert gap.republish == [ours_gone]
    assert gap.apply == [never_applied]
    assert gap.unknown == [stranger]
    assert [o.order_id for o in gap.unknown_open] == ["Q"]
    assert not gap.clean


def test_a_venue_whose_every_fill_is_on_the_stream_is_clean() -> None:
    fills = [_fill("A", 1), _fill("A", 2)]
    ids = {f.fill_id for f in fills}
    gap = compare_fills(fills, ids, set(), {"A": sorted(ids)}, [_resting("A")])
    assert gap.clean


def test_the_order_as_it_stood_after_each_of_its_fills() -> None:
    order = working_order(order_id="A", qty=300)
    fills = [_fill("A", 1, 100, "10.00"), _fill("A", 2, 200, "10.30")]
    for fill in fills:
        order.apply_fill(fill.fill_id, fill.qty, fill.price, fill.fee, fill.ts_ns)
    first = order_at_fill(order, fills[0], fills)
    assert (first.filled_qty, first.status, first.fill_ids) == (
        100, OrderStatus.PARTIALLY_FILLED, [fills[0].fill_id],
    )  # fmt: skip
    assert (first.filled_notional, first.fees) == (Decimal("1000.00"), Decimal("0.35"))
    last = order_at_fill(order, fills[1], fills)
    assert (last.filled_qty, last.status, last.unfilled_qty) == (300, OrderStatus.FILLED, 0)
    assert order.filled_qty == 300  # the order itself is not touched


def test_fills_before_the_venues_record_stay_in_the_base() -> None:
    """A venue restarted with us only knows the fills since: the earlier ones still count."""
    order = working_order(order_id="A", qty=300)
    early, late = _fill("A", 1), _fill("A", 2)
    for fill in (early, late):
        order.apply_fill(fill.fill_id, fill.qty, fill.price, fill.fee, fill.ts_ns)
    at = order_at_fill(order, late, [late])
    assert (at.filled_qty, at.fill_ids) == (200, [early.fill_id, late.fill_id])


def test_a_fill_that_is_not_the_orders_is_refused_by_name() -> None:
    order = working_order(order_id="A")
    with pytest.raises(ValueError, match="fill_id: 'V-A-F9' is not a fill of order 'A'"):
        order_at_fill(order, _fill("A", 9), [_fill("A", 9)])
