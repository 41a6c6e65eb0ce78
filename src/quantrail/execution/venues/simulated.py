"""A simulated venue: deterministic for a seed, matching against the market data it is fed.

Fill models: ``touch`` (default) takes the displayed touch for marketable orders and fills
resting limits at their limit on prints at or through them; ``probabilistic`` (the seeds'
prototype) fills an open order completely with a probability set by its risk mode, at arrival
and at each quote, drawn from ``random.Random(seed)``. The venue acts at call time; reports become
visible through ``advance`` ``latency_ns`` later. Fees: ``fee_per_share`` with a per-order
minimum, rounded to the cent. After our restart ``restore`` takes back an order as it was (its
fills and fees carry on). ``docs/orders.md`` has the details.
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from decimal import Decimal
from typing import Literal

from quantrail.execution.config import FillProbabilities
from quantrail.execution.order import (
    Order,
    require_count,
    require_finite,
    require_price,
    require_shares,
    require_text,
)
from quantrail.execution.venues.base import (
    Liquidity,
    RestingOrder,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueExpired,
    VenueFill,
    VenueRejected,
    VenueReport,
    order_fee,
    tick_for,
)
from quantrail.money import ZERO
from quantrail.vocab import Mode, OrderType, Side, TimeInForce

FillModel = Literal["touch", "probabilistic"]
FILL_MODELS: tuple[FillModel, ...] = ("touch", "probabilistic")
_Closed = Literal["open", "filled", "canceled", "expired", "rejected"]


@dataclasses.dataclass(slots=True)
class _Book:
    """The last quote; sizes shrink as our orders take them."""

    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int


@dataclasses.dataclass(slots=True, kw_only=True)
class _SimOrder:
    order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    qty: int
    mode: Mode
    seq: int
    filled_qty: int = 0
    fees_paid: Decimal = ZERO
    fill_count: int = 0
    state: _Closed = "open"

    @property
    def leaves(self) -> int:
        return self.qty - self.filled_qty

    def priority(self) -> tuple[int, Decimal, int]:
        """Market orders first, then best limit (highest buy, lowest sell), then arrival."""
        if self.limit_price is None:
            return (0, ZERO, self.seq)
        price = -self.limit_price if self.side is Side.BUY else self.limit_price
        return (1, price, self.seq)


class SimulatedVenue:
    """The ``simulated`` venue. Same seed and same calls give the same reports and ids."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_ns: int = 0,
        fee_per_share: Decimal = Decimal("0.0035"),
        min_fee: Decimal = Decimal("0.35"),
        fill_model: FillModel = "touch",
        probabilities: FillProbabilities | None = None,
        name: str = "simulated",
    ) -> None:
        require_count("latency_ns", latency_ns)
        _require_rate("fee_per_share", fee_per_share)
        _require_rate("min_fee", min_fee)
        if fill_model not in FILL_MODELS:
            raise ValueError(f"fill_model: must be one of {FILL_MODELS}, got {fill_model!r}")
        self._name = name
        self._latency_ns = latency_ns
        self._fee_per_share = fee_per_share
        self._min_fee = min_fee
        self._fill_model: FillModel = fill_model
        self._probabilities = probabilities or FillProbabilities()
        self._rng = random.Random(seed)
        self._now_ns = 0
        self._orders: dict[str, _SimOrder] = {}
        self._books: dict[str, _Book] = {}
        self._last_trade: dict[str, Decimal] = {}
        self._outbox: deque[tuple[int, VenueReport]] = deque()

    @property
    def name(self) -> str:
        return self._name

    # --- requests ------------------------------------------------------------------------

    def submit(self, order: Order, now_ns: int) -> None:
        self._set_time(now_ns)
        if order.order_id in self._orders:
            return  # a retried submit must not make a second order
        self._arrive(self._new_sim(order, order.unfilled_qty, f"SIM-{order.order_id}"), now_ns)

    def restore(self, order: Order, now_ns: int) -> None:
        """The order as our registry kept it: its fill count, filled quantity and fees paid
        carry on, so the next fill id is ``-F<n+1>`` and the minimum fee is not charged twice.
        An order whose ack we never got is answered as on arrival (that answer died with the
        old venue); an acked IOC order had its remainder canceled then, so it is again."""
        self._set_time(now_ns)
        if order.order_id in self._orders:
            return
        sim = self._new_sim(order, order.qty, order.venue_order_id or f"SIM-{order.order_id}")
        sim.filled_qty, sim.fees_paid = order.filled_qty, order.fees
        sim.fill_count = len(order.fill_ids)
        if not order.venue_order_id:
            self._arrive(sim, now_ns)
        elif sim.tif is TimeInForce.IOC:
            self._close(sim, "canceled", now_ns, reason="IOC remainder")

    def _new_sim(self, order: Order, qty: int, venue_order_id: str) -> _SimOrder:
        sim = _SimOrder(
            order_id=order.order_id,
            venue_order_id=venue_order_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            limit_price=order.limit_price,
            tif=order.tif,
            qty=qty,
            mode=order.mode,
            seq=len(self._orders),
        )
        self._orders[sim.order_id] = sim
        return sim

    def _arrive(self, sim: _SimOrder, now_ns: int) -> None:
        """Refused, or accepted and matched at once (an IOC remainder then canceled)."""
        refusal = _refusal(sim)
        if refusal:
            sim.state = "rejected"
            self._emit(VenueRejected(order_id=sim.order_id, reason=refusal, ts_ns=now_ns))
            return
        self._emit(
            VenueAccepted(order_id=sim.order_id, venue_order_id=sim.venue_order_id, ts_ns=now_ns)
        )
        self._on_arrival(sim, now_ns)

    def cancel(self, order_id: str, now_ns: int) -> None:
        self._set_time(now_ns)
        sim = self._orders.get(order_id)
        if sim is None or sim.state != "open":
            reason = "unknown order" if sim is None else f"order already {sim.state}"
            venue_id = "" if sim is None else sim.venue_order_id
            self._emit(
                VenueCancelRejected(
                    order_id=order_id, reason=reason, ts_ns=now_ns, venue_order_id=venue_id
                )
            )
            return
        self._close(sim, "canceled", now_ns, reason="canceled on request")

    def expire_all(self, now_ns: int) -> None:
        self._set_time(now_ns)
        for sim in self._open():
            if sim.tif is TimeInForce.DAY:
                self._close(sim, "expired", now_ns)

    # --- market data ---------------------------------------------------------------------

    def on_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: int,
        ask_size: int,
        now_ns: int,
    ) -> None:
        require_text("symbol", symbol)
        require_price("bid", bid)
        require_price("ask", ask)
        require_count("bid_size", bid_size)
        require_count("ask_size", ask_size)
        if bid > ask:
            raise ValueError(f"ask: {ask} is below the bid {bid} for {symbol!r} (crossed quote)")
        self._set_time(now_ns)
        self._books[symbol] = _Book(bid, ask, bid_size, ask_size)
        if self._fill_model == "probabilistic":
            for sim in self._open(symbol):
                self._draw(sim, now_ns)
            return
        for side in (Side.BUY, Side.SELL):
            for sim in self._by_priority(symbol, side):
                self._take_touch(sim, now_ns)

    def on_trade(self, symbol: str, price: Decimal, size: int, now_ns: int) -> None:
        require_text("symbol", symbol)
        require_price("price", price)
        require_shares("size", size)
        self._set_time(now_ns)
        self._last_trade[symbol] = price
        if self._fill_model == "touch":
            for side in (Side.BUY, Side.SELL):
                self._match_print(symbol, side, price, size, now_ns)

    # --- reports -------------------------------------------------------------------------

    def advance(self, now_ns: int) -> list[VenueReport]:
        self._set_time(now_ns)
        due: list[VenueReport] = []
        while self._outbox and self._outbox[0][0] <= now_ns:
            due.append(self._outbox.popleft()[1])
        return due

    def open_orders(self) -> list[RestingOrder]:
        return [
            RestingOrder(
                order_id=sim.order_id,
                venue_order_id=sim.venue_order_id,
                symbol=sim.symbol,
                side=sim.side,
                order_type=sim.order_type,
                limit_price=sim.limit_price,
                tif=sim.tif,
                qty=sim.qty,
                filled_qty=sim.filled_qty,
            )
            for sim in self._open()
        ]

    # --- matching ------------------------------------------------------------------------

    def _on_arrival(self, sim: _SimOrder, now_ns: int) -> None:
        if self._fill_model == "touch":
            self._take_touch(sim, now_ns)
        else:
            self._draw(sim, now_ns)
        if sim.state == "open" and sim.tif is TimeInForce.IOC:
            self._close(sim, "canceled", now_ns, reason="IOC remainder")

    def _take_touch(self, sim: _SimOrder, now_ns: int) -> None:
        book = self._books.get(sim.symbol)
        if book is None or sim.state != "open":
            return
        if sim.side is Side.BUY:
            if book.ask_size and (sim.limit_price is None or sim.limit_price >= book.ask):
                qty = min(sim.leaves, book.ask_size)
                book.ask_size -= qty
                self._fill(sim, qty, book.ask, Liquidity.TAKER, now_ns)
        elif book.bid_size and (sim.limit_price is None or sim.limit_price <= book.bid):
            qty = min(sim.leaves, book.bid_size)
            book.bid_size -= qty
            self._fill(sim, qty, book.bid, Liquidity.TAKER, now_ns)

    def _match_print(self, symbol: str, side: Side, price: Decimal, size: int, now_ns: int) -> None:
        """Resting limits the print traded at or through fill at their limit, best first."""
        left = size
        for sim in self._by_priority(symbol, side):
            limit = sim.limit_price
            if left == 0:
                break
            if limit is None:
                continue  # market orders trade against quotes, not prints
            if limit >= price if side is Side.BUY else limit <= price:
                qty = min(sim.leaves, left)
                left -= qty
                self._fill(sim, qty, limit, Liquidity.MAKER, now_ns)

    def _draw(self, sim: _SimOrder, now_ns: int) -> None:
        price = self._probabilistic_price(sim)
        if price is None:
            return  # a market order with no price to fill at yet: no step, no draw
        if self._rng.random() < self._probabilities.for_mode(sim.mode):
            liquidity = Liquidity.TAKER if sim.limit_price is None else Liquidity.MAKER
            self._fill(sim, sim.leaves, price, liquidity, now_ns)

    def _probabilistic_price(self, sim: _SimOrder) -> Decimal | None:
        if sim.limit_price is not None:
            return sim.limit_price
        book = self._books.get(sim.symbol)
        if book is not None:
            return book.ask if sim.side is Side.BUY else book.bid
        return self._last_trade.get(sim.symbol)

    def _fill(
        self, sim: _SimOrder, qty: int, price: Decimal, liquidity: Liquidity, now_ns: int
    ) -> None:
        sim.filled_qty += qty
        sim.fill_count += 1
        fee = order_fee(sim.filled_qty, self._fee_per_share, self._min_fee) - sim.fees_paid
        sim.fees_paid += fee
        if sim.leaves == 0:
            sim.state = "filled"
        self._emit(
            VenueFill(
                order_id=sim.order_id,
                venue_order_id=sim.venue_order_id,
                fill_id=f"{sim.venue_order_id}-F{sim.fill_count}",
                symbol=sim.symbol,
                side=sim.side,
                qty=qty,
                price=price,
                fee=fee,
                liquidity=liquidity,
                ts_ns=now_ns,
            )
        )

    # --- bookkeeping ---------------------------------------------------------------------

    def _close(self, sim: _SimOrder, state: _Closed, now_ns: int, reason: str = "") -> None:
        sim.state = state
        order_id, venue_id = sim.order_id, sim.venue_order_id
        if state == "expired":
            self._emit(VenueExpired(order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns))
        else:
            self._emit(
                VenueCanceled(
                    order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns, reason=reason
                )
            )

    def _open(self, symbol: str | None = None) -> list[_SimOrder]:
        return [
            sim
            for sim in self._orders.values()
            if sim.state == "open" and (symbol is None or sim.symbol == symbol)
        ]

    def _by_priority(self, symbol: str, side: Side) -> list[_SimOrder]:
        same_side = [sim for sim in self._open(symbol) if sim.side is side]
        return sorted(same_side, key=_SimOrder.priority)

    def _emit(self, report: VenueReport) -> None:
        self._outbox.append((report.ts_ns + self._latency_ns, report))

    def _set_time(self, now_ns: int) -> None:
        require_count("now_ns", now_ns)
        if now_ns < self._now_ns:
            raise ValueError(f"now_ns: {now_ns} is before the venue's time {self._now_ns}")
        self._now_ns = now_ns


def _refusal(sim: _SimOrder) -> str:
    """Why the venue refuses an order, or "" (the Order itself already checked its fields)."""
    if sim.leaves <= 0:
        return f"qty: nothing left to work on order {sim.order_id!r}"
    price = sim.limit_price
    if price is not None and price % tick_for(price) != 0:
        return f"limit_price: {price} is not on the tick {tick_for(price)}"
    return ""


def _require_rate(name: str, value: object) -> None:
    require_finite(name, value)
    if isinstance(value, Decimal) and value < 0:
        raise ValueError(f"{name}: must be >= 0, got {value}")
