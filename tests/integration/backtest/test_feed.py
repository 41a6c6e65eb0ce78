"""The backtest's fast path gives the live events: market data handed to the readers as frozen
events and a candle timer that sleeps through its idle wake-ups, against the live runner."""

from __future__ import annotations

from decimal import Decimal

from quantrail.backtest.feed import CountingBus
from quantrail.backtest.run import BacktestSimulation
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.config import Config
from quantrail.events import Event, QuoteUpdated
from quantrail.events.market import PriceTicked
from quantrail.events.streams import StreamNames
from quantrail.marketdata.candle_service import CandleService
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import Service, Subscription
from quantrail.runtime.simulation import Simulation

S = 1_000_000_000
START = 1_709_562_600 * S  # a minute boundary


class CountedCandles(CandleService):
    """The candle service, counting its timer's calls."""

    ticks = 0

    async def tick(self) -> None:
        self.ticks += 1
        await super().tick()


class TickReader(Service):
    """A reader of ``market.tick`` (as the signals, positions, exit brain and kill switch
    services are): what it saw, in order."""

    name = "tick_reader"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, Decimal]] = []

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(["market.tick"], self.on_tick, name="ticks", broadcast=True)]

    async def on_tick(self, event: Event, _delivery: Delivery) -> None:
        self.seen.append((event.ts_event, event.price))  # type: ignore[attr-defined]


def _quotes() -> list[QuoteUpdated]:
    """A minute of quotes 20 ms apart, a quiet 150 s (candles close on the timer), more."""
    times = [START + n * 20_000_000 for n in range(3000)]
    times += [START + 210 * S + n * 50_000_000 for n in range(600)]
    return [
        QuoteUpdated(ts_event=ts, source="test", symbol="ACME", bid=bid, ask=bid + Decimal("0.01"),
                     bid_size=500, ask_size=500, ts_exchange_ns=ts)
        for n, ts in enumerate(times)
        if (bid := Decimal(10_000 + (n * 7) % 23) / 100)
    ]  # fmt: skip


def _shape(events: list[Event]) -> list[tuple[object, ...]]:
    """What the events say, without their random ids."""
    return [
        (e.kind, e.ts_event, getattr(e, "price", None), getattr(e, "close", None),
         getattr(e, "start_ns", None))
        for e in events
    ]  # fmt: skip


async def _live(
    quotes: list[QuoteUpdated], reader: Service | None = None
) -> tuple[list[Event], int]:
    clock = SimulatedClock(START)
    bus = EventBus(MemoryTransport(clock.now_ns), names=StreamNames("live"), clock=clock)
    service = CountedCandles(Config().marketdata)
    sim = await Simulation(bus, clock, [service, *([reader] if reader else [])]).start()
    for quote in quotes:
        await clock.advance_to(quote.ts_event)
        await sim.publish(quote)
    await sim.advance(120, step=120)
    await sim.stop()
    events = await bus.read_events("market.candle") + await bus.read_events("market.tick")
    return events, service.ticks


async def _fast(
    quotes: list[QuoteUpdated], reader: Service | None = None
) -> tuple[list[Event], int]:
    clock = SimulatedClock(START)
    bus = CountingBus(MemoryTransport(clock.now_ns), names=StreamNames("fast"), clock=clock)
    service = CountedCandles(Config().marketdata)
    services = [service, *([reader] if reader else [])]
    sim = BacktestSimulation(bus, clock, services, Config(), instance="test")
    await sim.start()
    if reader is not None:  # handed the ticks by the runner, not reading the bus
        assert [r.name for r in sim.direct.direct["market.tick"]] == ["tick_reader-test"]
    for quote in quotes:
        await clock.advance_to(quote.ts_event)
        await sim.play([quote])
    await sim.advance(120, step=120)
    await sim.stop()
    events = await bus.read_events("market.candle") + await bus.read_events("market.tick")
    return events, service.ticks


async def test_the_fast_path_gives_the_live_candles_and_ticks_with_far_fewer_wake_ups() -> None:
    quotes = _quotes()
    live, live_ticks = await _live(quotes)
    fast, fast_ticks = await _fast(quotes)
    assert len([e for e in live if e.kind == "market.candle.closed"]) == 2
    assert _shape(fast) == _shape(live)
    # Live, the 0.1 s timer ran over the whole 5.5 simulated minutes; here only when due.
    assert live_ticks >= 3300
    assert fast_ticks < live_ticks / 3


async def test_a_tick_reader_is_handed_every_tick_in_order_as_live() -> None:
    quotes = _quotes()
    live_reader, fast_reader = TickReader(), TickReader()
    live, _ = await _live(quotes, live_reader)
    await _fast(quotes, fast_reader)
    ticks = [(e.ts_event, e.price) for e in live if isinstance(e, PriceTicked)]
    assert len(ticks) > 500
    assert live_reader.seen == ticks
    assert fast_reader.seen == ticks
