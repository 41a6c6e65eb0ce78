"""The exit brain service (``exit_brain``): the async shell around ``ExitBrain``.

It follows ``position.state``, ``trades.order`` (its exit orders' fate), the regime streams,
``risk.mode``, ``risk.kill_switch`` and market prices with broadcast readers, and checks time
exits on a timer. Stops are kept here, not at the venue, and survive a restart: on start the
brain is rebuilt from today's ``regime.classification``, ``position.state``, ``exit.decision``
(tightened stops, committed exits, kill switch decisions), ``trades.intent`` (its exit intents:
the next ``n``, the order that works) and ``trades.order``, plus every kept ``risk.mode`` and
``risk.kill_switch`` entry; nothing is decided during the rebuild, and live reading continues
from where it stopped (market prices from the start on). One instance per bus.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from quantrail.bus.cursor import ShardedCursor, StreamStart
from quantrail.bus.delivery import Delivery, Handler
from quantrail.config import Config
from quantrail.events import (
    Event,
    ExitDecisionMade,
    IntentCreated,
    KillSwitchActivated,
    KillSwitchReset,
    OrderEvent,
    PriceTicked,
    QuoteUpdated,
    RegimeClassified,
    RiskModeChanged,
    VolatilitySpiked,
)
from quantrail.risk.exposure_service import day_start_ns
from quantrail.runtime.market_fold import Released, fold_nothing_at, keeps_nothing
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.strategy.exit_brain import ANY_PRICE, ExitBrain, QuietBand
from quantrail.strategy.position_service import price_of

log = logging.getLogger("quantrail.exit_brain")

NAME = "exit_brain"
POSITIONS = "position.state"
ORDERS = "trades.order"
REGIME = "regime.classification"
SPIKES = "regime.volatility"
MODES = "risk.mode"
KILL = "risk.kill_switch"
MARKET = ("market.tick", "market.quote", "market.trade")
FOLDED = frozenset({"market.tick", "market.quote"})
"""The market streams a replay may hand over in runs (``MarketFold``)."""


class ExitService(Service):
    name = NAME

    def __init__(self, config: Config) -> None:
        super().__init__()
        self._config = config
        self.brain = ExitBrain(config.exit_brain)
        self._starts: dict[str, StreamStart] = {}
        self._lock = asyncio.Lock()

    # --- start: the brain rebuilt from the streams -----------------------------------------

    async def on_start(self) -> None:
        bus = self.ctx.bus
        since = day_start_ns(self.ctx.now_ns(), self._config.session.timezone)
        for market in (*MARKET, SPIKES):  # from now on: an old price or spike decides nothing
            self._starts[market] = (await ShardedCursor.at_end(bus, market)).positions
        brain = self.brain
        for stream, today in (
            (REGIME, True), (POSITIONS, True), ("exit.decision", True), ("trades.intent", True),
            (ORDERS, True), (MODES, False), (KILL, False),
        ):  # fmt: skip
            cursor = ShardedCursor(bus, stream)
            for event in await cursor.read_new(since if today else 0):
                if isinstance(event, RegimeClassified):
                    brain.record_regime(event)
                elif isinstance(event, ExitDecisionMade):
                    brain.on_decision(event)
                elif isinstance(event, IntentCreated):
                    brain.on_intent(event)
                else:
                    self._take(event)  # its decisions (a kill switch's) were made before
            self._starts[stream] = cursor.positions
        log.info("exit brain rebuilt: %d open positions", len(brain.positions))

    def subscriptions(self) -> list[Subscription]:
        def reader(stream: str, handler: Handler) -> Subscription:
            start = self._starts.get(stream, "$")
            return Subscription([stream], handler, name=stream, broadcast=True, start=start)

        state = [reader(s, self.on_state) for s in (POSITIONS, ORDERS, REGIME, SPIKES, MODES, KILL)]
        released = Released(self.quiet_prices_at, fold_nothing_at)  # keeps nothing
        fold = dataclasses.replace(
            keeps_nothing(self.quiet_prices), released=released, idle=self.idle
        )
        market = [reader(stream, self.on_price) for stream in MARKET]
        market = [dataclasses.replace(m, fold=fold) if m.name in FOLDED else m for m in market]
        return state + market

    def timers(self) -> list[Timer]:
        interval_s = self._config.exit_brain.check_interval_s
        return [Timer(interval_s, self.on_timer, "exit-check", due_ns=self._timed_due)]

    def _timed_due(self) -> int | None:
        return self.brain.next_timed_ns()

    def health(self) -> dict[str, object]:
        return {"positions": len(self.brain.positions)}

    # --- handlers --------------------------------------------------------------------------

    async def on_state(self, event: Event, _delivery: Delivery) -> None:
        async with self._lock:
            await self._publish(self._take(event))

    async def on_price(self, event: Event, _delivery: Delivery) -> None:
        price = price_of(event)
        if price is None:
            return
        async with self._lock:
            # Decided at the service clock's time (as the timer's decisions), whatever a feed
            # stamps on its prices; the retry wait compares like with like.
            symbol, now = event.symbol, self.ctx.now_ns()  # type: ignore[attr-defined]
            await self._publish(self.brain.on_price(symbol, price, now, event))

    def idle(self) -> bool:
        """Nothing watched: no price decides anything (``MarketFold.idle``)."""
        return not self._lock.locked() and not self.brain.positions

    def quiet_prices(self, prices: Sequence[QuoteUpdated | PriceTicked]) -> int:
        """How many prices, from the first, decide nothing (``MarketFold``), each at its own
        time: of symbols the brain holds nothing in, or inside every held position's quiet
        band (``ExitBrain.quiet_band``: between stop and target, an exit waiting)."""
        if not self.brain.positions and not self._lock.locked():
            return len(prices)  # nothing to decide on (``on_price`` looks at held ones only)
        return self.quiet_prices_at(prices, [event.ts_event for event in prices])

    def quiet_prices_at(
        self, prices: Sequence[QuoteUpdated | PriceTicked], at_ns: Sequence[int]
    ) -> int:
        """``quiet_prices`` with each price decided at ``at_ns`` (a tick at its release)."""
        if self._lock.locked():
            return 0
        brain = self.brain
        if not brain.positions:
            return len(prices)
        bands: dict[str, QuietBand | None] = {}
        for index, event in enumerate(prices):
            symbol = event.symbol
            if symbol not in bands:
                bands[symbol] = brain.quiet_band(symbol) if brain.watches(symbol) else ANY_PRICE
            band = bands[symbol]
            if band is None:
                return index
            if band is ANY_PRICE:
                continue
            price = price_of(event)
            if price is not None and not band.holds(price, at_ns[index]):
                return index
        return len(prices)

    async def on_timer(self) -> None:
        async with self._lock:
            await self._publish(self.brain.on_time(self.ctx.now_ns()))

    def _take(self, event: Event) -> list[Event]:
        brain = self.brain
        if isinstance(event, OrderEvent):
            brain.on_order(event)
        elif isinstance(event, RegimeClassified):
            return brain.on_regime(event)
        elif isinstance(event, VolatilitySpiked):
            return brain.on_spike(event)
        elif isinstance(event, RiskModeChanged):
            brain.on_mode(event)
        elif isinstance(event, KillSwitchActivated | KillSwitchReset):
            return brain.on_kill(event)
        else:
            brain.on_position(event)
        return []

    async def _publish(self, events: list[Event]) -> None:
        if events:
            await self.ctx.publish_batch(events)


def build_exit_brain_service(config: Config) -> Service:
    return ExitService(config)
