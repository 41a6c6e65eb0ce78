"""The regime service on both transports: classifications per candle, and a restart."""

from __future__ import annotations

from kit.event_base import T0
from kit.strategy_chain import calm_then_wild, candles_from_closes, chain_config, trending
from quantrail.bus.bus import EventBus
from quantrail.events.regime import RegimeClassified, VolatilitySpiked
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.simulation import Simulation
from quantrail.strategy.regime_service import build_regime_service

CONFIG = chain_config("")


async def test_candles_of_other_timeframes_are_not_classified(bus: EventBus) -> None:
    sim = await Simulation(bus, SimulatedClock(T0), [build_regime_service(CONFIG)]).start()
    await sim.publish(*candles_from_closes(trending(12), timeframe="5m"))
    assert await sim.events(RegimeClassified) == []
    assert await sim.stop() == 0


async def test_a_spike_is_published_once_and_a_restart_catches_up_without_repeats(
    bus: EventBus,
) -> None:
    clock = SimulatedClock(T0)
    candles = candles_from_closes(calm_then_wild(10, 4))
    first = await Simulation(bus, clock, [build_regime_service(CONFIG)]).start()
    await first.publish(*candles[:11])
    assert [r.regime for r in await first.events(RegimeClassified)] == ["RANGING", "CHAOTIC"]
    [spike] = await first.events(VolatilitySpiked)
    assert spike.causation_id == candles[10].event_id and spike.spike_ratio >= 2.0
    assert await first.stop() == 0

    await bus.publish_batch(candles[11:])  # while the service is down
    again = await Simulation(bus, clock, [build_regime_service(CONFIG)]).start()
    regimes = await again.events(RegimeClassified)
    assert [r.regime for r in regimes] == ["RANGING"] + ["CHAOTIC"] * 4
    assert [r.previous_regime for r in regimes[1:3]] == ["RANGING", "CHAOTIC"]
    assert len(await again.events(VolatilitySpiked)) == 1  # the same episode
    assert await again.stop() == 0
