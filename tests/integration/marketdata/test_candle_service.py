"""The candles service on both transports: the tick throttle and a restart mid-day."""

from __future__ import annotations

from decimal import Decimal

from kit.event_base import T0
from kit.strategy_chain import MINUTE_NS, chain_config, prints_for_closes
from quantrail.bus.bus import EventBus
from quantrail.events.market import CandleClosed, PriceTicked, TradePrinted
from quantrail.marketdata.candle_service import build_candles_service
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

CONFIG = chain_config("")


def burst(count: int, at: int) -> list[TradePrinted]:
    """``count`` prints of ACME one millisecond apart, 25.00, 25.01, ..."""
    return [
        TradePrinted(
            ts_event=at + i * 1_000_000,
            source="test",
            symbol="ACME",
            price=Decimal("25.00") + Decimal(i) / 100,
            size=100,
        )
        for i in range(count)
    ]


async def test_a_burst_publishes_one_tick_then_the_latest_price_when_the_window_allows(
    bus: EventBus,
) -> None:
    sim = await Simulation(bus, SimulatedClock(T0), [build_candles_service(CONFIG)]).start()
    await sim.publish(*burst(5, T0))
    assert [t.price for t in await sim.events(PriceTicked)] == [Decimal("25.00")]
    await sim.advance(1.0, step=0.1)
    ticks = await sim.events(PriceTicked)
    assert [t.price for t in ticks] == [Decimal("25.00"), Decimal("25.04")]  # the last wins
    assert ticks[1].ts_event == T0 + 4_000_000
    await sim.advance(1.0, step=0.1)
    assert len(await sim.events(PriceTicked)) == 2  # nothing new, nothing repeated
    assert await sim.stop() == 0


async def test_a_restarted_service_publishes_the_candles_it_missed_once(bus: EventBus) -> None:
    clock = SimulatedClock(T0)
    closes = [Decimal("25.00"), Decimal("25.10"), Decimal("25.20")]
    prints = prints_for_closes(closes)
    first = await Simulation(bus, clock, [build_candles_service(CONFIG)]).start()
    await first.publish(*prints[:2])  # the second print closes minute 0
    assert [c.start_ns for c in await first.events(CandleClosed)] == [T0]
    assert await first.stop() == 0

    await bus.publish(prints[2])  # while the service is down: closes minute 1
    await clock.advance_to(T0 + 3 * MINUTE_NS + NS_PER_SECOND)  # and minute 2 has ended
    again = await Simulation(bus, clock, [build_candles_service(CONFIG)]).start()
    candles = await again.events(CandleClosed)
    assert [(c.start_ns, c.close) for c in candles] == [
        (T0 + i * MINUTE_NS, close) for i, close in enumerate(closes)
    ]  # fmt: skip
    await again.advance(120, step=10.0)
    assert len(await again.events(CandleClosed)) == 3
    assert await again.stop() == 0


async def test_a_print_without_size_is_refused_and_the_service_goes_on(bus: EventBus) -> None:
    sim = await Simulation(bus, SimulatedClock(T0), [build_candles_service(CONFIG)]).start()
    bad = TradePrinted(ts_event=T0, source="test", symbol="ACME", price=Decimal("99"), size=0)
    await sim.publish(bad, *burst(1, T0 + 1))
    await sim.advance(61, step=10.0)
    [candle] = await sim.events(CandleClosed)
    assert (candle.high, candle.volume) == (Decimal("25.00"), 100)
    assert await bus.dead_letters() == []
    assert sim.services[0].health()["refused_prints"] == 1
    assert await sim.stop() == 0
