"""The candle service (``candles``): prints and quotes in, candles and throttled ticks out.

It follows ``market.trade`` and ``market.quote`` (broadcast readers) through a ``CandleBook``
(``candle_builder``: the rules) and publishes ``market.candle.closed`` and
``market.tick.updated``. A timer on the service clock closes the candles whose bucket has
ended (a quiet symbol's candle still closes) and releases throttled ticks, so on the simulated
clock the same data gives the same events.

Restart: on start it reads which candles ``market.candle`` already holds, replays what the
market streams keep (both merged by data time) through a fresh book, publishes only the candles
not yet published (those that closed while it was down) and reads on from where the replay
stopped. Candle keys are ``candle:<symbol>:<timeframe>:<start ns>``, so a candle published twice
(a crash between publish and state) is one effect for every group consumer. Run one instance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.market import CandleClosed, QuoteUpdated, TradePrinted
from quantrail.marketdata.candle_builder import (
    NS_PER_SECOND,
    CandleBook,
    ClosedCandle,
    PriceUpdate,
    TickThrottle,
    candle_event,
    tick_event,
)
from quantrail.marketdata.candle_run import CandleRun, data_ts
from quantrail.marketdata.config import MarketDataConfig
from quantrail.runtime.market_fold import MarketFold, TimerGrid
from quantrail.runtime.service import Service, Subscription, Timer

log = logging.getLogger("quantrail.marketdata.candles")

NAME = "candles"
TRADES = "market.trade"
QUOTES = "market.quote"
CANDLES = "market.candle"
MAX_TIMER_S = 1.0
"""The timer runs at the tick throttle's interval, but at least this often."""


class CandleService(Service):
    name = NAME

    def __init__(self, config: MarketDataConfig) -> None:
        super().__init__()
        self._config = config
        self._book = CandleBook(config.timeframes)
        self._throttle = TickThrottle.per_second(config.tick_max_per_s)
        self._published: dict[tuple[str, str], int] = {}  # (symbol, timeframe) -> last start
        self._starts: dict[str, StreamStart] = {}
        self._lock = asyncio.Lock()
        self.candles_published = 0
        self.ticks_published = 0
        self.refused = 0

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(
                [stream],
                self.on_market,
                name=stream,
                broadcast=True,
                start=self._starts.get(stream, "$"),
                fold=self._quote_fold() if stream == QUOTES else None,
            )
            for stream in (TRADES, QUOTES)
        ]

    def timers(self) -> list[Timer]:
        interval_s = min(self._throttle.min_interval_ns / NS_PER_SECOND, MAX_TIMER_S)
        return [Timer(interval_s, self.tick, "candles", due_ns=self.next_work_ns)]

    def next_work_ns(self) -> int | None:
        """The first time ``tick`` has work (a bucket ends, a waiting tick may go out), as
        things stand; None when it has none until a new price comes."""
        times = [
            t for t in (self._book.next_end_ns(), self._throttle.next_due_ns()) if t is not None
        ]
        return min(times, default=None)

    def health(self) -> dict[str, object]:
        return {
            "candles_published": self.candles_published,
            "ticks_published": self.ticks_published,
            "late_prices": self._book.late,
            "ticks_waiting": self._throttle.waiting,
            "refused_prints": self.refused,
        }

    async def on_start(self) -> None:
        bus = self.ctx.bus
        await replay_history(bus, CANDLES, self._remember_published)
        history: list[QuoteUpdated | TradePrinted] = []

        def keep(event: Event) -> None:
            if isinstance(event, QuoteUpdated | TradePrinted):
                history.append(event)

        for stream in (TRADES, QUOTES):
            self._starts[stream] = await replay_history(bus, stream, keep)
        history.sort(key=data_ts)  # stable: equal times keep trades before quotes
        closed: list[ClosedCandle] = []
        for event in history:
            closed.extend(self._apply(event)[0])
        closed.extend(self._book.flush(self.ctx.now_ns()))
        await self._publish(closed, [])
        log.info("replayed %d prices; %d candles caught up", len(history), len(closed))

    def _remember_published(self, event: Event) -> None:
        if isinstance(event, CandleClosed):
            key = (event.symbol, event.timeframe)
            self._published[key] = max(self._published.get(key, event.start_ns), event.start_ns)

    def _apply(self, event: Event) -> tuple[list[ClosedCandle], PriceUpdate | None]:
        if isinstance(event, TradePrinted) and not (event.size > 0 and event.price > 0):
            self.refused += 1  # a feed's garbage must not move a candle or stop the service
            log.warning("print %s refused: size %s at %s", event.event_id, event.size, event.price)
            return [], None
        if isinstance(event, TradePrinted):
            ts = data_ts(event)
            closed = self._book.on_trade(event.symbol, event.price, event.size, ts)
            return closed, PriceUpdate(event.symbol, event.price, ts)
        if isinstance(event, QuoteUpdated):
            return self._book.on_quote(event.symbol, event.bid, event.ask, data_ts(event))
        return [], None

    async def on_market(self, event: Event, _delivery: Delivery) -> None:
        async with self._lock:
            closed, price = self._apply(event)
            ticks = []
            if price is not None and (ready := self._throttle.offer(price, self.ctx.now_ns())):
                ticks.append(ready)
            await self._publish(closed, ticks)

    def _quote_fold(self) -> MarketFold[QuoteUpdated]:
        return MarketFold(
            self.quiet_quotes, self.fold_quotes, timed=self.walk_quotes, horizon=self.horizon
        )

    def horizon(self, grid: TimerGrid) -> int | None:
        """Where a walk on ``grid`` stops at the latest: its timer's fire at or after the
        first open candle's end (which a walk does not take), reached by the first quote at
        or after it."""
        end = self._book.next_end_ns()
        return None if end is None else grid.at_or_after(end)

    def walk_quotes(self, quotes: Sequence[QuoteUpdated], grid: TimerGrid) -> CandleRun:
        """The run walked with this service's timer firing on ``grid`` (``candle_run``)."""
        return self._walk(quotes, grid)

    def _walk(self, quotes: Sequence[QuoteUpdated], grid: TimerGrid | None) -> CandleRun:
        run = CandleRun(self._book, self._throttle, grid, self._take_run, self.name)
        return run if self._lock.locked() else run.walk(quotes)

    def _take_run(
        self, throttle: TickThrottle, mids: dict[str, list[Decimal]], last_ts: dict[str, int],
        released: int,
    ) -> None:  # fmt: skip
        self._throttle = throttle
        for symbol, prices in mids.items():
            self._book.fold_mids(symbol, prices, last_ts[symbol])
        self.ticks_published += released

    def quiet_quotes(self, quotes: Sequence[QuoteUpdated]) -> int:
        """How many quotes, from the first, only move open candles and a waiting tick
        (``MarketFold``): none closes or opens a candle, none sends a tick."""
        return self._walk(quotes, None).quiet

    def fold_quotes(self, quotes: Sequence[QuoteUpdated]) -> None:
        """Quiet quotes at once: each symbol's mids into its candles, its last as the tick
        waiting."""
        self._walk(quotes, None).apply(len(quotes))

    async def tick(self) -> None:
        """Close the candles whose bucket has ended; release throttled ticks."""
        async with self._lock:
            now = self.ctx.now_ns()
            await self._publish(self._book.flush(now), self._throttle.due(now))

    async def _publish(self, closed: list[ClosedCandle], ticks: list[PriceUpdate]) -> None:
        fresh = [c for c in closed if not self._was_published(c)]
        events: list[Event] = [candle_event(c, self.name) for c in fresh]
        events += [tick_event(update, self.name) for update in ticks]
        if not events:
            return
        await self.ctx.publish_batch(events)
        for c in fresh:
            self._published[(c.candle.symbol, c.timeframe)] = c.candle.start_ns
        self.candles_published += len(fresh)
        self.ticks_published += len(ticks)

    def _was_published(self, closed: ClosedCandle) -> bool:
        last = self._published.get((closed.candle.symbol, closed.timeframe))
        return last is not None and closed.candle.start_ns <= last


def build_candles_service(config: Config) -> Service:
    return CandleService(config.marketdata)
