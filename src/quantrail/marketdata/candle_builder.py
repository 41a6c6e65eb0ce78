"""Candles of several timeframes and a throttled last price, per symbol (pure, no I/O).

The candle service (``candle_service``) feeds this with prints and quotes and publishes what it
returns. The rules:

* **Prints first**: a symbol's candles and ticks come from its trade prints. Until a symbol has
  printed, its two-sided, uncrossed quote mids stand in (no volume). From its first print on,
  its quotes are ignored (a candle open at that moment keeps its mids: prices, not trades).
* **Closing**: a candle closes when data of a later bucket arrives for its symbol
  (``CandleBuilder``) or when ``flush(now_ns)`` finds its bucket ended, so a quiet symbol's
  candle still closes. Data for a bucket already closed is late: counted and dropped.
* **Ticks**: at most one ``market.tick.updated`` per symbol per ``min_interval_ns`` of service
  clock. A price offered inside the window is kept (the latest wins) and handed out by ``due``
  once the window allows, so the last price is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from quantrail.events.ids import id_for_key
from quantrail.events.market import CandleClosed, PriceTicked
from quantrail.marketdata.candles import Candle, CandleBuilder
from quantrail.marketdata.config import timeframe_seconds
from quantrail.marketdata.types import Print

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ClosedCandle:
    timeframe: str
    candle: Candle

    @property
    def key(self) -> str:
        """The candle's idempotency key: one candle per symbol, timeframe and bucket."""
        return candle_key(self.candle.symbol, self.timeframe, self.candle.start_ns)


def candle_key(symbol: str, timeframe: str, start_ns: int) -> str:
    return f"candle:{symbol}:{timeframe}:{start_ns}"


class PriceUpdate(NamedTuple):
    """A price for the tick throttle (a named tuple: one is made per tick released, and a
    frozen dataclass costs several times as much to build)."""

    symbol: str
    price: Decimal
    ts_ns: int
    """When the price happened (the print's or the quote's time)."""


class CandleBook:
    """One ``CandleBuilder`` per timeframe; prints win over quote mids per symbol."""

    def __init__(self, timeframes: Sequence[str]) -> None:
        if not timeframes:
            raise ValueError("timeframes: must name at least one timeframe, got []")
        self._builders = {tf: CandleBuilder(timeframe_seconds(tf)) for tf in timeframes}
        self._printed: set[str] = set()

    @property
    def late(self) -> int:
        """Prices dropped because their bucket had already closed (all timeframes)."""
        return sum(builder.late_prints for builder in self._builders.values())

    def has_prints(self, symbol: str) -> bool:
        return symbol in self._printed

    def on_trade(self, symbol: str, price: Decimal, size: int, ts_ns: int) -> list[ClosedCandle]:
        """A trade print of ``size`` shares; returns the candles it closed."""
        self._printed.add(symbol)
        closed: list[ClosedCandle] = []
        for timeframe, builder in self._builders.items():
            candle = _add(builder, symbol, price, size, ts_ns)
            if candle is not None:
                closed.append(ClosedCandle(timeframe, candle))
        return closed

    def on_quote(
        self, symbol: str, bid: Decimal, ask: Decimal, ts_ns: int
    ) -> tuple[list[ClosedCandle], PriceUpdate | None]:
        """A quote: its mid counts only while the symbol has no prints and the quote is
        two-sided and not crossed. Returns the candles it closed and the price it set."""
        if symbol in self._printed or not (0 < bid < ask):
            return [], None
        mid = (bid + ask) / 2
        closed: list[ClosedCandle] = []
        for timeframe, builder in self._builders.items():
            candle = builder.update_price(symbol, mid, ts_ns)
            if candle is not None:
                closed.append(ClosedCandle(timeframe, candle))
        return closed, PriceUpdate(symbol, mid, ts_ns)

    @property
    def printed(self) -> Set[str]:
        """The symbols that have printed (their quotes no longer count; read-only view)."""
        return self._printed

    def quiet_window(self, symbol: str) -> tuple[int, int] | None:
        """[from, to): the times at which a counted quote mid only moves ``symbol``'s open
        candles, every timeframe's (none opens, closes or is late; None: some timeframe has
        no candle open, or the window is empty)."""
        low, high = 0, None
        for builder in self._builders.values():
            window = builder.quiet_window(symbol)
            if window is None:
                return None
            low, high = max(low, window[0]), window[1] if high is None else min(high, window[1])
        return None if high is None or low >= high else (low, high)

    def fold_mids(self, symbol: str, mids: Sequence[Decimal], last_ts_ns: int) -> None:
        """Quote mids each inside ``quiet_window``, in order: as ``on_quote`` one by one."""
        for builder in self._builders.values():
            builder.fold_prices(symbol, mids, last_ts_ns)

    def next_end_ns(self) -> int | None:
        """When the first open candle's bucket ends, any timeframe (None: none is open)."""
        ends = [end for b in self._builders.values() if (end := b.next_end_ns()) is not None]
        return min(ends, default=None)

    def flush(self, now_ns: int) -> list[ClosedCandle]:
        """Close every candle whose bucket ended by ``now_ns``, oldest first."""
        closed = [
            ClosedCandle(timeframe, candle)
            for timeframe, builder in self._builders.items()
            for candle in builder.flush(now_ns)
        ]
        return sorted(closed, key=lambda c: (c.candle.end_ns, c.candle.symbol, c.timeframe))


def _add(
    builder: CandleBuilder, symbol: str, price: Decimal, size: int, ts_ns: int
) -> Candle | None:
    # The builder's update_price adds no volume; a print's size is added through a Print.
    if size <= 0:
        return builder.update_price(symbol, price, ts_ns)
    return builder.update(Print(symbol, price, size, ts_ns))


@dataclass(slots=True)
class TickThrottle:
    """At most one tick per symbol per ``min_interval_ns``; the latest price wins."""

    min_interval_ns: int
    _sent_ns: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _pending: dict[str, PriceUpdate] = field(default_factory=dict, init=False, repr=False)
    _latest_ts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def per_second(cls, max_per_s: float) -> TickThrottle:
        if not max_per_s > 0:
            raise ValueError(f"tick_max_per_s: must be > 0, got {max_per_s}")
        return cls(max(1, round(NS_PER_SECOND / max_per_s)))

    def offer(self, update: PriceUpdate, now_ns: int) -> PriceUpdate | None:
        """The update to publish now, or None when it waits (replacing an older waiting one)
        or is older than a price already offered (a late print is not the last price)."""
        if update.ts_ns < self._latest_ts.get(update.symbol, update.ts_ns):
            return None
        self._latest_ts[update.symbol] = update.ts_ns
        sent = self._sent_ns.get(update.symbol)
        if sent is not None and now_ns - sent < self.min_interval_ns:
            self._pending[update.symbol] = update
            return None
        self._sent_ns[update.symbol] = now_ns
        self._pending.pop(update.symbol, None)
        return update

    def copy(self) -> TickThrottle:
        """A throttle in the same state that moves on its own (a run walked ahead)."""
        twin = TickThrottle.__new__(TickThrottle)  # not __init__: a walk copies per release
        twin.min_interval_ns = self.min_interval_ns
        twin._sent_ns, twin._pending = self._sent_ns.copy(), self._pending.copy()
        twin._latest_ts = self._latest_ts.copy()
        return twin

    @property
    def sent_times(self) -> Mapping[str, int]:
        """When each symbol's last tick went out (read-only view, for a walk's hot loop)."""
        return self._sent_ns

    @property
    def latest_times(self) -> Mapping[str, int]:
        """The time of each symbol's latest price offered (read-only view)."""
        return self._latest_ts

    @property
    def waiting_prices(self) -> Mapping[str, PriceUpdate]:
        """The prices waiting to go out (read-only view)."""
        return self._pending

    def waits(self, symbol: str) -> bool:
        """Whether a price of ``symbol`` waits to go out."""
        return symbol in self._pending

    def holds(self, symbol: str, ts_ns: int, now_ns: int) -> bool:
        """True when ``offer`` of a price at ``ts_ns`` at ``now_ns`` would keep it waiting
        (a tick went out within the interval; the price is not older than the latest)."""
        latest = self._latest_ts.get(symbol)
        sent = self._sent_ns.get(symbol)
        in_order = latest is None or ts_ns >= latest
        return in_order and sent is not None and now_ns - sent < self.min_interval_ns

    def keep(self, update: PriceUpdate) -> None:
        """The last of prices that each ``holds``: as ``offer`` one by one leaves the throttle."""
        self._latest_ts[update.symbol] = update.ts_ns
        self._pending[update.symbol] = update

    def due(self, now_ns: int) -> list[PriceUpdate]:
        """Waiting prices whose window has passed, by symbol."""
        pending = self._pending
        if len(pending) == 1:  # most often: the same as below, without the sort
            for symbol, update in pending.items():
                if now_ns - self._sent_ns.get(symbol, now_ns) < self.min_interval_ns:
                    return []
                del pending[symbol]
                self._sent_ns[symbol] = now_ns
                return [update]
        ready = [
            update
            for symbol, update in sorted(self._pending.items())
            if now_ns - self._sent_ns.get(symbol, now_ns) >= self.min_interval_ns
        ]
        for update in ready:
            del self._pending[update.symbol]
            self._sent_ns[update.symbol] = now_ns
        return ready

    def next_due_ns(self) -> int | None:
        """When the first waiting price may go out (None: none waits)."""
        pending, sent = self._pending, self._sent_ns
        if not pending:
            return None
        if len(pending) == 1:  # most often, in a walk of one symbol's quotes
            for symbol in pending:
                return sent[symbol] + self.min_interval_ns
        return min((sent[symbol] + self.min_interval_ns for symbol in pending), default=None)

    @property
    def waiting(self) -> int:
        return len(self._pending)


def candle_event(closed: ClosedCandle, source: str) -> CandleClosed:
    """``market.candle.closed`` for a closed candle: at its bucket's end, with a key (and an
    event id derived from it) that makes a re-published candle (a restart) one effect."""
    candle = closed.candle
    return CandleClosed(
        ts_event=candle.end_ns,
        source=source,
        event_id=id_for_key(closed.key),
        idempotency_key=closed.key,
        symbol=candle.symbol,
        timeframe=closed.timeframe,
        start_ns=candle.start_ns,
        open=candle.open,
        high=candle.high,
        low=candle.low,
        close=candle.close,
        volume=candle.volume,
    )


def tick_event(update: PriceUpdate, source: str) -> PriceTicked:
    """``market.tick.updated`` at the price's own time (two prices of one instant are two
    ticks; the same price again is the same tick)."""
    key = f"tick:{update.symbol}:{update.ts_ns}:{update.price}"
    return PriceTicked(
        ts_event=update.ts_ns,
        source=source,
        event_id=id_for_key(key),
        idempotency_key=key,
        symbol=update.symbol,
        price=update.price,
    )
