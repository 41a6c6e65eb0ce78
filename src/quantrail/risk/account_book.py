"""One account's book as the order stream tells it: positions from fills, orders from lifecycles.

Shared by the exposure service (positions, open orders for potential exposure) and the decision
engine (positions to plan de-risk steps from, which of its intents still have live orders).
Every rule here makes a redelivered or late event harmless:

* A fill moves the position once per ``fill_id`` (a redelivered fill changes nothing at all).
* An order's filled quantity is the highest ``cum_qty`` seen, so an older event arriving late
  never brings back shares that have filled; remaining = qty - filled (= ``leaves_qty``).
* A terminal status (filled, canceled, rejected, expired, denied) is final: a late or
  redelivered earlier event of that order does not bring it back.
* ``OrderReplaced`` ends the old order and opens the successor (``new_order_id``) with
  ``new_qty`` left to work (the larger reading of the contract: potential is a worst case); the
  successor's own events then correct it.
* Live orders are also indexed apart (``live_orders``): what a snapshot or a decision walks is
  the orders working now, never the day's history (issue 14).
* A fill whose bucket disagrees with the open position's is applied to the position as booked
  (the shares moved either way) and logged: refusing it would leave the book wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from quantrail.config import AccountConfig
from quantrail.events.orders import OrderEvent, OrderFill, OrderFillCorrected, OrderReplaced
from quantrail.money import ZERO
from quantrail.risk.baseline import BaselineRow, load_baseline
from quantrail.risk.exposure import OpenOrder
from quantrail.risk.positions import Position, PositionBook
from quantrail.vocab import Bucket, Side

log = logging.getLogger("quantrail.risk.book")


@dataclass(slots=True)
class TrackedOrder:
    """What the book knows of one order."""

    order_id: str
    intent_id: str
    symbol: str
    side: Side
    qty: int
    limit_price: Decimal | None
    bucket: Bucket
    filled: int = 0
    live: bool = True

    @property
    def remaining(self) -> int:
        return max(self.qty - self.filled, 0)

    def terms(self) -> tuple[int, Decimal | None, bool]:
        return self.remaining, self.limit_price, self.live


class AccountBook:
    """Positions (baseline + today's fills) and orders of one account (see module doc)."""

    def __init__(self, account: str, baseline: Iterable[BaselineRow] = ()) -> None:
        rows = list(baseline)
        self.account = account
        self.positions = PositionBook.from_positions(
            account,
            [
                Position(account, r.symbol, r.qty, r.bucket, r.prior_close if r.qty else ZERO)
                for r in rows
            ],
        )
        self._prior_close = {r.symbol: r.prior_close for r in rows}
        self._last_fill: dict[str, Decimal] = {}
        self._fill_ids: set[str] = set()
        self._orders: dict[str, TrackedOrder] = {}
        self._live: dict[str, TrackedOrder] = {}  # first seen first, as ``_orders``
        self._by_intent: dict[str, list[str]] = {}

    @classmethod
    def load(cls, account: AccountConfig) -> AccountBook:
        """The account's book from its baseline file (no file: a flat book)."""
        rows = load_baseline(account.baseline) if account.baseline else []
        return cls(account.name, rows)

    # --- reading -------------------------------------------------------------------------------
    def fallback_price(self, symbol: str) -> Decimal | None:
        """The mark before the symbol prints: the prior close, else our own last fill price."""
        return self._prior_close.get(symbol, self._last_fill.get(symbol))

    def open_orders(self) -> list[OpenOrder]:
        """Live orders with shares left, in the order they were first seen."""
        return [
            OpenOrder(o.symbol, o.side, o.remaining, o.limit_price, o.bucket)
            for o in self._live.values()
            if o.remaining > 0
        ]

    def live_orders(self) -> list[TrackedOrder]:
        """The live orders (shares left or not), in the order they were first seen."""
        return list(self._live.values())

    def order(self, order_id: str) -> TrackedOrder | None:
        return self._orders.get(order_id)

    def orders_of_intent(self, intent_id: str) -> list[TrackedOrder]:
        return [self._orders[i] for i in self._by_intent.get(intent_id, [])]

    def has_fill(self, fill_id: str) -> bool:
        return fill_id in self._fill_ids

    # --- applying events ---------------------------------------------------------------------
    def apply(self, event: OrderEvent) -> bool:
        """Apply one order event; True when positions or open orders changed."""
        if event.account is not None and event.account != self.account:
            raise ValueError(f"account: this book is {self.account!r}, got {event.account!r}")
        if isinstance(event, OrderFill):
            if event.fill_id in self._fill_ids:
                return False  # the same execution again: already in the position
            self._apply_fill(event)
            self._fill_ids.add(event.fill_id)
            self._track(event)
            return True
        if isinstance(event, OrderReplaced):
            return self._replace(event)
        if isinstance(event, OrderFillCorrected):
            return self._correct(event)
        return self._track(event)

    def _correct(self, event: OrderFillCorrected) -> bool:
        """A venue's correction of a fill in the position: the fill as booked is taken back
        and the corrected one booked (exposure needs the shares; the cost is the book's)."""
        if event.correction_id in self._fill_ids or event.fill_id not in self._fill_ids:
            return False  # a repeat, or a fill this book never had (an earlier day's)
        back = Side.SELL if event.side is Side.BUY else Side.BUY
        self.positions.apply_fill(event.symbol, back, event.previous_qty, event.previous_price)
        self.positions.apply_fill(event.symbol, event.side, event.last_qty, event.last_price)
        self._fill_ids.add(event.correction_id)
        order = self._orders.get(event.order_id)
        if order is not None and order.live:
            order.filled = event.cum_qty
        return True

    def _apply_fill(self, fill: OrderFill) -> None:
        held = self.positions.get(fill.symbol)
        bucket: Bucket | None = fill.bucket
        if held is not None and not held.is_flat and held.bucket is not fill.bucket:
            log.warning(
                "%s: fill %s books %s %s into the open %s position",
                self.account,
                fill.fill_id,
                fill.bucket.value,
                fill.symbol,
                held.bucket.value,
            )
            bucket = None
        self.positions.apply_fill(fill.symbol, fill.side, fill.last_qty, fill.last_price, bucket)
        self._last_fill[fill.symbol] = fill.last_price

    def _track(self, event: OrderEvent) -> bool:
        order = self._orders.get(event.order_id)
        before: tuple[int, Decimal | None, bool]
        if order is None:
            order = self._open(event.order_id, event, event.qty, event.limit_price)
            before = (0, None, False)
        elif not order.live:
            return False  # terminal is final
        else:
            before = order.terms()
        if isinstance(event, OrderFill):
            order.filled = max(order.filled, event.cum_qty)
        if event.status.is_terminal:
            self._end(order)
        return before != order.terms() and (before[2] or order.live)

    def _replace(self, event: OrderReplaced) -> bool:
        old = self._orders.get(event.order_id)
        if old is None:
            old = self._open(event.order_id, event, event.qty, event.limit_price)
        elif not old.live:
            return False  # terminal is final
        if event.new_order_id == event.order_id:
            # Modified in place: new total quantity (fills included) and price.
            old.qty, old.limit_price = event.new_qty, event.new_limit_price
            return True
        self._end(old)
        successor = self._orders.get(event.new_order_id)
        if successor is None:
            successor = self._open(event.new_order_id, event, event.new_qty, event.new_limit_price)
        return True

    def _open(
        self, order_id: str, event: OrderEvent, qty: int, limit_price: Decimal | None
    ) -> TrackedOrder:
        order = TrackedOrder(
            order_id=order_id,
            intent_id=event.intent_id,
            symbol=event.symbol,
            side=event.side,
            qty=qty,
            limit_price=limit_price,
            bucket=event.bucket,
        )
        self._orders[order_id] = order
        self._live[order_id] = order
        if event.intent_id:
            self._by_intent.setdefault(event.intent_id, []).append(order_id)
        return order

    def _end(self, order: TrackedOrder) -> None:
        order.live = False
        self._live.pop(order.order_id, None)
