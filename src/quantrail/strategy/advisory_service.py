"""The signal advisory service (``signals``): the configured strategy on the bus.

It follows ``market.candle``, ``market.tick``, ``position.state`` and ``risk.kill_switch``
(broadcast readers) into an ``AdvisoryDesk`` (``strategy.advisory``: the rules) and publishes
what the desk returns on ``signals.advisory`` (issued or declined; never an order). A timer
every ``strategy.clock_s`` of service clock, and each event before it is handled, asks the
strategy's ``on_clock`` (the scripted strategy's rows come due there).

A strategy that raises is logged and counted (``strategy_errors`` in the heartbeat) and the
event it was handling goes to the dead-letter stream at once (its own fields, the error, the
reader); the service goes on with the next event. Handlers and the timer share one lock.

Restart: the desk's state is rebuilt from what the streams keep (candles, positions, kill
switch, the last tick) and the signal ids and decline keys already on ``signals.advisory`` are
remembered, so nothing is issued twice; reading goes on from where the replay stopped. The
strategy is not asked about replayed candles (an advisory is for fresh data). Run one instance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.deadletter import dead_letter_fields
from quantrail.bus.delivery import Delivery
from quantrail.bus.transport import Entry
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.market import CandleClosed, PriceTicked
from quantrail.events.streams import DEADLETTER
from quantrail.marketdata.config import require_built_timeframe
from quantrail.runtime.market_fold import MarketFold, Released
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.strategy.advisory import AdvisoryDesk
from quantrail.strategy.api import StrategyError
from quantrail.strategy.loader import load_strategy

log = logging.getLogger("quantrail.strategy.signals")

NAME = "signals"
ADVISORIES = "signals.advisory"
CANDLES = "market.candle"
TICKS = "market.tick"
POSITIONS = "position.state"
KILL_SWITCH = "risk.kill_switch"


class AdvisoryService(Service):
    name = NAME

    def __init__(self, desk: AdvisoryDesk | None, clock_s: float = 1.0) -> None:
        super().__init__()
        self.desk = desk
        self._clock_s = clock_s
        self._starts: dict[str, StreamStart] = {}
        self._lock = asyncio.Lock()
        self.issued = 0
        self.declined = 0
        self.strategy_errors = 0

    def subscriptions(self) -> list[Subscription]:
        if self.desk is None:
            return []
        handlers = {
            CANDLES: self.on_candle, TICKS: self.on_tick,
            POSITIONS: self.on_state, KILL_SWITCH: self.on_state,
        }  # fmt: skip
        released = Released(self.quiet_ticks_at, self.fold_ticks_at, take=self.take_ticks)
        tick_fold = MarketFold(self.quiet_ticks, self.fold_ticks, pokes=False, released=released)
        return [
            Subscription(
                [stream],
                handler,
                name=stream,
                broadcast=True,
                start=self._starts.get(stream, "$"),
                fold=tick_fold if stream == TICKS else None,
            )
            for stream, handler in handlers.items()
        ]

    def timers(self) -> list[Timer]:
        if self.desk is None:
            return []
        return [
            Timer(self._clock_s, self.on_clock, "strategy-clock", due_ns=self.desk.next_clock_ns)
        ]

    def health(self) -> dict[str, object]:
        return {
            "strategy": self.desk.label if self.desk else "",
            "issued": self.issued,
            "declined": self.declined,
            "strategy_errors": self.strategy_errors,
            "kill_switch": bool(self.desk and self.desk.kill.active(self.desk.account)),
        }

    async def on_start(self) -> None:
        desk = self.desk
        if desk is None:
            log.info("no strategy configured (strategy.name is empty): no advisories")
            return
        bus = self.ctx.bus
        await replay_history(bus, ADVISORIES, desk.remember)

        def take_candle(event: Event) -> None:
            if isinstance(event, CandleClosed):
                desk.take_candle(event)

        def take_tick(event: Event) -> None:
            if isinstance(event, PriceTicked) and desk.watches(event.symbol):
                desk.view.set_price(event.symbol, event.price)

        readers: dict[str, Callable[[Event], object]] = {
            CANDLES: take_candle, TICKS: take_tick,
            POSITIONS: desk.take_state, KILL_SWITCH: desk.take_state,
        }  # fmt: skip
        for stream, take in readers.items():
            self._starts[stream] = await replay_history(bus, stream, take)

    # --- handlers ------------------------------------------------------------------------------
    async def on_candle(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, CandleClosed):
            await self._ask(event, delivery, lambda desk, now: desk.on_candle(event, now))

    async def on_tick(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, PriceTicked):
            await self._ask(event, delivery, lambda desk, now: desk.on_tick(event, now))

    def quiet_ticks(self, ticks: Sequence[PriceTicked]) -> int:
        """All of them when the strategy takes no ticks (``MarketFold``), else none."""
        desk = self.desk
        quiet = desk is not None and desk.ignores_ticks() and not self._lock.locked()
        return len(ticks) if quiet else 0

    def fold_ticks(self, ticks: Sequence[PriceTicked]) -> None:
        assert self.desk is not None
        self.desk.fold_ticks(ticks, self.ctx.now_ns())

    def quiet_ticks_at(self, ticks: Sequence[PriceTicked], _at_ns: Sequence[int]) -> int:
        return self.quiet_ticks(ticks)

    def fold_ticks_at(self, ticks: Sequence[PriceTicked], at_ns: Sequence[int]) -> None:
        assert self.desk is not None
        self.desk.fold_ticks(ticks, at_ns[-1])

    def take_ticks(self, ticks: Sequence[PriceTicked], at_ns: Sequence[int]) -> int:
        """Ticks in a run (``Released.take``): folded when the strategy takes no ticks, else
        asked one by one (``AdvisoryDesk.take_ticks``) while it answers nothing."""
        desk = self.desk
        if desk is None or self._lock.locked() or not ticks:
            return 0
        if desk.ignores_ticks():
            desk.fold_ticks(ticks, at_ns[-1])
            return len(ticks)
        return desk.take_ticks(ticks, at_ns) if desk.takes_ticks_alone() else 0

    async def on_state(self, event: Event, _delivery: Delivery) -> None:
        async with self._lock:
            assert self.desk is not None
            await self._clock_step()
            self.desk.take_state(event)

    async def on_clock(self) -> None:
        async with self._lock:
            await self._clock_step()

    async def _clock_step(self) -> None:
        assert self.desk is not None
        try:
            events = self.desk.on_clock(self.ctx.now_ns())
        except Exception:
            self.strategy_errors += 1
            log.exception("strategy %s failed on the clock", self.desk.label)
            return
        await self._publish(events)

    async def _ask(
        self,
        event: Event,
        delivery: Delivery,
        call: Callable[[AdvisoryDesk, int], list[Event]],
    ) -> None:
        async with self._lock:
            assert self.desk is not None
            await self._clock_step()
            try:
                events = call(self.desk, self.ctx.now_ns())
            except Exception as exc:  # the strategy's bug must not stop the service
                self.strategy_errors += 1
                log.exception("strategy %s failed on %s", self.desk.label, event.event_id)
                await self._dead_letter(event, delivery, exc)
                return
            await self._publish(events)

    async def _publish(self, events: list[Event]) -> None:
        if not events:
            return
        await self.ctx.publish_batch(events)
        self.declined += sum(1 for e in events if e.kind == "signals.advisory.declined")
        self.issued += sum(1 for e in events if e.kind == "signals.advisory.issued")

    async def _dead_letter(self, event: Event, delivery: Delivery, error: Exception) -> None:
        """The event the strategy failed on, to the dead letters now (not after retries: the
        same strategy on the same event fails the same way)."""
        bus = self.ctx.bus
        entry = Entry(delivery.stream, delivery.entry_id, bus.codec.to_fields(event))
        fields = dead_letter_fields(
            entry, stream=bus.names.logical(delivery.stream), group=delivery.group,
            consumer=delivery.consumer, error=error, deliveries=delivery.deliveries,
            ts_ns=self.ctx.now_ns(),
        )  # fmt: skip
        await bus.publish_raw(DEADLETTER, fields)


def build_signals_service(config: Config) -> Service:
    """The advisory service for ``config.strategy`` (no strategy when its name is empty);
    ``StrategyError`` (a ValueError naming the key) when it cannot be loaded."""
    section = config.strategy
    if not section.name:
        return AdvisoryService(None)
    require_built_timeframe("strategy.timeframe", section.timeframe, config.marketdata)
    require_built_timeframe("regime.timeframe", config.regime.timeframe, config.marketdata)
    strategy = load_strategy(section.name, section.params)
    account = section.account or (config.risk.accounts[0].name if config.risk.accounts else None)
    if account is None:
        raise StrategyError("strategy.account: no account; set it or list risk.accounts")
    desk = AdvisoryDesk(strategy, section.name, account, section, config.regime, NAME)
    return AdvisoryService(desk, section.clock_s)
