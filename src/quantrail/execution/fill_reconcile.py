"""Reconciliation with any venue (pure): the fills it made against what ``trades.order`` holds.

The shape of the IB reconciliation (``quantrail.ibkr.reconcile``) made venue-independent: a
venue reports the fills it made for us and the orders it still works; we compare them with the
fill ids on the stream, the reports still waiting to be applied and our orders. Run by the
execution service on every start and whenever Redis is found to have lost its memory.

- ``republish``: fills our order already has (applied and saved before) whose event is no longer
  on ``trades.order`` (it died with Redis): their event is published again, with the original
  fill id, time and fee, so the ledger books each once.
- ``apply``: fills our order does not have and that are not waiting to be applied: they go
  through the normal report path (saved, then published).
- ``unknown``: fills of orders we hold no record of: alerted, never booked by guess (we would
  not know the account or book).
- ``unknown_open``: orders the venue works that we hold no record of: alerted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from quantrail.execution.order import Order
from quantrail.execution.venues.base import RestingOrder, VenueFill
from quantrail.vocab import OrderStatus


@dataclass(slots=True)
class FillGap:
    republish: list[VenueFill] = field(default_factory=list)
    apply: list[VenueFill] = field(default_factory=list)
    unknown: list[VenueFill] = field(default_factory=list)
    unknown_open: list[RestingOrder] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.republish or self.apply or self.unknown or self.unknown_open)


def compare_fills(
    venue_fills: Iterable[VenueFill],
    on_stream: set[str],
    waiting: set[str],
    our_fill_ids: Mapping[str, Iterable[str]],
    venue_open: Iterable[RestingOrder] = (),
) -> FillGap:
    """``on_stream``: fill ids on ``trades.order``; ``waiting``: fill ids of reports not applied
    yet; ``our_fill_ids``: order id -> the fill ids our order has, for every order we know."""
    gap = FillGap()
    seen: set[str] = set()
    for fill in venue_fills:
        if fill.fill_id in seen or fill.fill_id in on_stream or fill.fill_id in waiting:
            continue
        seen.add(fill.fill_id)
        ours = our_fill_ids.get(fill.order_id)
        if ours is None:
            gap.unknown.append(fill)
        elif fill.fill_id in set(ours):
            gap.republish.append(fill)
        else:
            gap.apply.append(fill)
    gap.unknown_open = [o for o in venue_open if o.order_id not in our_fill_ids]
    return gap


def order_at_fill(order: Order, fill: VenueFill, fills_of_order: Iterable[VenueFill]) -> Order:
    """Our order as it stood right after ``fill`` (for its event), from the order's totals less
    what its later fills added. ``fills_of_order``: the venue's fills of this order, in order
    (a venue's record may start after some of the order's fills: those stay in the base)."""
    recorded = [f for f in fills_of_order if f.fill_id in set(order.fill_ids)]
    ids = [f.fill_id for f in recorded]
    if fill.fill_id not in ids:
        raise ValueError(f"fill_id: {fill.fill_id!r} is not a fill of order {order.order_id!r}")
    later = recorded[ids.index(fill.fill_id) + 1 :]
    at = Order.from_dict(order.to_dict())
    at.filled_qty -= sum(f.qty for f in later)
    at.filled_notional -= sum((f.qty * f.price for f in later), start=at.filled_notional * 0)
    at.fees -= sum((f.fee for f in later), start=at.fees * 0)
    at.fill_ids = [i for i in order.fill_ids if i not in {f.fill_id for f in later}]
    at.status = OrderStatus.FILLED if at.filled_qty >= order.qty else OrderStatus.PARTIALLY_FILLED
    return at
