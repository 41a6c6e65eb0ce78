"""A simulated venue: deterministic for a seed, matching against the market data it is fed.

Fill models: ``touch`` (default) takes the displayed touch for marketable orders and fills
resting limits at their limit on prints at or through them; ``probabilistic`` (the seeds'
prototype) fills an open order completely with a probability set by its risk mode, at arrival
and at each quote, drawn from ``random.Random(seed)``. The venue acts at call time; reports become
visible through ``advance`` ``latency_ns`` later. Fees: ``fee_per_share`` with a per-order
minimum, rounded to the cent. After our restart ``restore`` takes back an order as it was (its
fills and fees carry on). A quote or a print touches only the orders still working in its
symbol (``sim_orders.WorkingIndex``): the venue's cost does not grow with its history, and
``orders_examined`` counts what matching looked at. ``docs/orders.md`` has the details.
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, Protocol

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
from quantrail.execution.venues.sim_orders import Ended, SimOrder, State, WorkingIndex
from quantrail.money import ZERO
from quantrail.vocab import Side, TimeInForce

FillModel = Literal["touch", "probabilistic"]
FILL_MODELS: tuple[FillModel, ...] = ("touch", "probabilistic")


@dataclasses.dataclass(slots=True)
class _Book:
    """The last quote; sizes shrink as our orders take them."""

    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int


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
        self._working = WorkingIndex()  # all a quote or a print touches
        self._ended: dict[str, Ended] = {}  # looked up by id only, never walked
        self._seq = 0
        self.orders_examined = 0
        """Orders a quote or print looked at, ever: what a test counts instead of timing."""
        self._books: dict[str, _Book] = {}
        self._last_trade: dict[str, Decimal] = {}
        self._outbox: deque[tuple[int, VenueReport]] = deque()
        self._handed_out: list[VenueFill] = []  # every fill advance() returned, for fills()

    @property
    def name(self) -> str:
        return self._name

    # --- requests ------------------------------------------------------------------------

    def submit(self, order: Order, now_ns: int) -> None:
        self._set_time(now_ns)
        if self._knows(order.order_id):
            return  # a retried submit must not make a second order
        self._arrive(self._new_sim(order, order.unfilled_qty, f"SIM-{order.order_id}"), now_ns)

    def restore(self, order: Order, now_ns: int) -> None:
        """The order as our registry kept it: its fill count, filled quantity and fees paid
        carry on, so the next fill id is ``-F<n+1>`` and the minimum fee is not charged twice.
        An order whose ack we never got is answered as on arrival (that answer died with the
        old venue); an acked IOC order had its remainder canceled then, so it is again."""
        self._set_time(now_ns)
        if self._knows(order.order_id):
            return
        sim = self._new_sim(order, order.qty, order.venue_order_id or f"SIM-{order.order_id}")
        sim.filled_qty, sim.fees_paid = order.filled_qty, order.fees
        sim.fill_count = len(order.fill_ids)
        if not order.venue_order_id:
            self._arrive(sim, now_ns)
        elif sim.tif is TimeInForce.IOC:
            self._close(sim, "canceled", now_ns, reason="IOC remainder")
        else:
            self._working.add(sim)

    def _new_sim(self, order: Order, qty: int, venue_order_id: str) -> SimOrder:
        sim = SimOrder(
            order_id=order.order_id,
            venue_order_id=venue_order_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            limit_price=order.limit_price,
            tif=order.tif,
            qty=qty,
            mode=order.mode,
            seq=self._seq,
        )
        self._seq += 1
        return sim

    def _knows(self, order_id: str) -> bool:
        return self._working.get(order_id) is not None or order_id in self._ended

    def _arrive(self, sim: SimOrder, now_ns: int) -> None:
        """Refused, or accepted and matched at once (an IOC remainder then canceled)."""
        refusal = _refusal(sim)
        if refusal:
            self._end(sim, "rejected")
            self._emit(VenueRejected(order_id=sim.order_id, reason=refusal, ts_ns=now_ns))
            return
        self._working.add(sim)
        self._emit(
            VenueAccepted(order_id=sim.order_id, venue_order_id=sim.venue_order_id, ts_ns=now_ns)
        )
        self._on_arrival(sim, now_ns)

    def modify(self, order_id: str, qty: int, limit_price: Decimal, now_ns: int) -> bool:
        """No in-place modify here: a replace is cancel, then the successor as a new order."""
        return False

    def cancel(self, order_id: str, now_ns: int) -> None:
        self._set_time(now_ns)
        sim = self._working.get(order_id)
        if sim is None:
            ended = self._ended.get(order_id)
            reason = "unknown order" if ended is None else f"order already {ended.state}"
            venue_id = "" if ended is None else ended.venue_order_id
            self._emit(
                VenueCancelRejected(
                    order_id=order_id, reason=reason, ts_ns=now_ns, venue_order_id=venue_id
                )
            )
            return
        self._close(sim, "canceled", now_ns, reason="canceled on request")

    def expire_all(self, now_ns: int) -> None:
        self._set_time(now_ns)
        for sim in self._working:
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
        _check_quote(symbol, bid, ask, bid_size, ask_size)
        self._set_time(now_ns)
        self._books[symbol] = _Book(bid, ask, bid_size, ask_size)
        if self._fill_model == "probabilistic":
            working = self._working.of_symbol(symbol)
            self.orders_examined += len(working)
            for sim in working:
                self._draw(sim, now_ns)
            return
        for side in (Side.BUY, Side.SELL):
            for sim in self._working.by_priority(symbol, side):
                self.orders_examined += 1
                if not self._take_touch(sim, now_ns):
                    break  # the touch is gone, or this limit (so every one behind) misses it

    def quietly_taken(self, quotes: Sequence[QuoteLike], *, checked: bool = False) -> int:
        """How many quotes, from the first, each at its ``ts_event``, ``on_quote`` would only
        keep as the book: usable (``usable_quote``: ``_check_quote`` passes), time does not go
        back, and no order of the symbol works (so the last of such quotes alone leaves the
        venue as all of them one by one). ``checked``: every quote is known usable (a
        backtest's tape asks ``usable_quote`` of each when it is built), so only the time and
        the working orders are looked at."""
        now, busy = self._now_ns, self._working.symbols()
        for index, quote in enumerate(quotes):
            if not (checked or usable_quote(quote)):
                return index
            if quote.ts_event < now or quote.symbol in busy:
                return index
        return len(quotes)

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
        self._handed_out.extend(report for report in due if isinstance(report, VenueFill))
        return due

    def idle(self) -> bool:
        """No order works: a quote can only be kept as the book (or refused)."""
        return not self._working

    def next_report_ns(self) -> int | None:
        """When ``advance`` first has a report to hand out (None: none is on its way)."""
        return self._outbox[0][0] if self._outbox else None

    def fills(self) -> list[VenueFill]:
        """Every fill handed out through ``advance`` since this venue started, oldest first
        (the record the reconciliation after a Redis memory loss compares with the stream)."""
        return list(self._handed_out)

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
            for sim in self._working
        ]

    # --- matching ------------------------------------------------------------------------

    def _on_arrival(self, sim: SimOrder, now_ns: int) -> None:
        if self._fill_model == "touch":
            self._take_touch(sim, now_ns)
        else:
            self._draw(sim, now_ns)
        if sim.state == "open" and sim.tif is TimeInForce.IOC:
            self._close(sim, "canceled", now_ns, reason="IOC remainder")

    def _take_touch(self, sim: SimOrder, now_ns: int) -> bool:
        """Take what the touch shows; False when it could not (nothing shown, or the limit
        does not reach it): then no order behind this one in priority can take it either."""
        book = self._books.get(sim.symbol)
        if book is None:
            return False
        limit = sim.limit_price
        if sim.side is Side.BUY:
            if not book.ask_size or (limit is not None and limit < book.ask):
                return False
            qty = min(sim.leaves, book.ask_size)
            book.ask_size -= qty
            self._fill(sim, qty, book.ask, Liquidity.TAKER, now_ns)
            return True
        if not book.bid_size or (limit is not None and limit > book.bid):
            return False
        qty = min(sim.leaves, book.bid_size)
        book.bid_size -= qty
        self._fill(sim, qty, book.bid, Liquidity.TAKER, now_ns)
        return True

    def _match_print(self, symbol: str, side: Side, price: Decimal, size: int, now_ns: int) -> None:
        """Resting limits the print traded at or through fill at their limit, best first."""
        left = size
        for sim in self._working.by_priority(symbol, side):
            limit = sim.limit_price
            if left == 0:
                break
            self.orders_examined += 1
            if limit is None:
                continue  # market orders trade against quotes, not prints
            if limit < price if side is Side.BUY else limit > price:
                break  # this limit misses the print, and every one behind it is worse
            qty = min(sim.leaves, left)
            left -= qty
            self._fill(sim, qty, limit, Liquidity.MAKER, now_ns)

    def _draw(self, sim: SimOrder, now_ns: int) -> None:
        price = self._probabilistic_price(sim)
        if price is None:
            return  # a market order with no price to fill at yet: no step, no draw
        if self._rng.random() < self._probabilities.for_mode(sim.mode):
            liquidity = Liquidity.TAKER if sim.limit_price is None else Liquidity.MAKER
            self._fill(sim, sim.leaves, price, liquidity, now_ns)

    def _probabilistic_price(self, sim: SimOrder) -> Decimal | None:
        if sim.limit_price is not None:
            return sim.limit_price
        book = self._books.get(sim.symbol)
        if book is not None:
            return book.ask if sim.side is Side.BUY else book.bid
        return self._last_trade.get(sim.symbol)

    def _fill(
        self, sim: SimOrder, qty: int, price: Decimal, liquidity: Liquidity, now_ns: int
    ) -> None:
        sim.filled_qty += qty
        sim.fill_count += 1
        fee = order_fee(sim.filled_qty, self._fee_per_share, self._min_fee) - sim.fees_paid
        sim.fees_paid += fee
        if sim.leaves == 0:
            self._end(sim, "filled")
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

    def _close(self, sim: SimOrder, state: State, now_ns: int, reason: str = "") -> None:
        self._end(sim, state)
        order_id, venue_id = sim.order_id, sim.venue_order_id
        if state == "expired":
            self._emit(VenueExpired(order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns))
        else:
            self._emit(
                VenueCanceled(
                    order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns, reason=reason
                )
            )

    def _end(self, sim: SimOrder, state: State) -> None:
        """The order leaves the working index at once; a small record of it stays."""
        sim.state = state
        self._working.remove(sim)
        self._ended[sim.order_id] = Ended(state, sim.venue_order_id)

    def _emit(self, report: VenueReport) -> None:
        self._outbox.append((report.ts_ns + self._latency_ns, report))

    def _set_time(self, now_ns: int) -> None:
        require_count("now_ns", now_ns)
        if now_ns < self._now_ns:
            raise ValueError(f"now_ns: {now_ns} is before the venue's time {self._now_ns}")
        self._now_ns = now_ns


class QuoteLike(Protocol):
    """A quote as ``quietly_taken`` reads it (``QuoteUpdated``)."""

    @property
    def symbol(self) -> str: ...
    @property
    def bid(self) -> Decimal: ...
    @property
    def ask(self) -> Decimal: ...
    @property
    def bid_size(self) -> int: ...
    @property
    def ask_size(self) -> int: ...
    @property
    def ts_event(self) -> int: ...


def usable_quote(quote: QuoteLike) -> bool:
    """Whether ``on_quote`` takes the quote as a book (``_check_quote`` passes), asked of the
    quote at once: finite prices, 0 < bid <= ask, sizes plain ints >= 0, a symbol. Ints that
    are not plain ints are refused (the check itself would take a bool)."""
    bid, ask, bid_size, ask_size = quote.bid, quote.ask, quote.bid_size, quote.ask_size
    symbol = quote.symbol
    return (
        isinstance(bid, Decimal)
        and isinstance(ask, Decimal)
        and bid.is_finite()
        and ask.is_finite()
        and ZERO < bid <= ask
        and type(bid_size) is int
        and type(ask_size) is int
        and bid_size >= 0 <= ask_size
        and isinstance(symbol, str)
        and bool(symbol)
    )


def _check_quote(symbol: str, bid: Decimal, ask: Decimal, bid_size: int, ask_size: int) -> None:
    require_text("symbol", symbol)
    require_price("bid", bid)
    require_price("ask", ask)
    require_count("bid_size", bid_size)
    require_count("ask_size", ask_size)
    if bid > ask:
        raise ValueError(f"ask: {ask} is below the bid {bid} for {symbol!r} (crossed quote)")


def _refusal(sim: SimOrder) -> str:
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
