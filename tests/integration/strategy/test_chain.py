"""The chain's first links on both transports: prints and quotes -> candles -> regime -> signals.

Every test runs the real services (built from the config by their builders) in a Simulation on
a simulated clock, so the same inputs give the same events on the memory bus and on Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from kit.bus import make_bus
from kit.event_base import ACCOUNT, T0
from kit.strategy_chain import (
    MINUTE_NS,
    candles_from_closes,
    chain_config,
    prints_for_closes,
    script,
    trending,
)
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.market import CandleClosed, PriceTicked, QuoteUpdated
from quantrail.events.regime import RegimeClassified
from quantrail.events.risk import KillSwitchActivated, KillSwitchReset
from quantrail.events.signals import SignalDeclined, SignalIssued
from quantrail.marketdata.candle_service import build_candles_service
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation
from quantrail.strategy.advisory_service import AdvisoryService, build_signals_service
from quantrail.strategy.regime_service import build_regime_service

Builder = Callable[[Config], Service]
CHAIN: tuple[Builder, ...] = (build_candles_service, build_regime_service, build_signals_service)


@pytest.fixture
async def simulate(bus: EventBus) -> AsyncIterator[Callable[..., object]]:
    running: list[Simulation] = []

    async def start(config: Config, builders: Sequence[Builder] = CHAIN) -> Simulation:
        services = [build(config) for build in builders]
        sim = Simulation(bus, SimulatedClock(T0), services, config, instance="t")
        running.append(await sim.start())
        return sim

    yield start
    for sim in running:
        assert await sim.stop() == 0


async def feed(sim: Simulation, events: Sequence[Event], step: float = 10.0) -> None:
    """Publish each event when the clock reaches its time."""
    for event in events:
        await sim.advance_to(event.ts_event, step)
        await sim.publish(event)


async def test_prints_and_quotes_become_candles_regimes_and_signals(
    simulate: Callable[..., object],
) -> None:
    sim = await simulate(chain_config("breakout", {"lookback": 5}))  # type: ignore[misc]
    assert isinstance(sim, Simulation)
    closes = trending(12)
    quote = QuoteUpdated(
        ts_event=T0 + 5 * NS_PER_SECOND, source="test", symbol="QUIET", bid=Decimal("9.99"),
        ask=Decimal("10.01"), bid_size=100, ask_size=100,
    )  # fmt: skip
    await feed(sim, [quote, *prints_for_closes(closes)])
    await sim.advance_to(T0 + 12 * MINUTE_NS + NS_PER_SECOND, step=10.0)

    candles = await sim.events(CandleClosed)
    acme = [c for c in candles if c.symbol == "ACME"]
    assert [c.close for c in acme] == closes  # the last one closed by the timer
    assert [c.start_ns for c in acme] == [T0 + i * MINUTE_NS for i in range(12)]
    # A symbol that only quotes gets candles of its mids; a quiet one still closes.
    [quiet] = [c for c in candles if c.symbol == "QUIET"]
    assert (quiet.close, quiet.volume, quiet.ts_event) == (Decimal("10.00"), 0, T0 + MINUTE_NS)
    ticks = await sim.events(PriceTicked)
    assert [t.price for t in ticks if t.symbol == "ACME"] == closes

    regimes = await sim.events(RegimeClassified)
    assert [(r.regime, r.changed) for r in regimes] == [("TRENDING", False)] * 3  # from the 10th
    assert regimes[0].causation_id == acme[9].event_id

    signals = await sim.events(SignalIssued)
    assert [s.signal_id for s in signals] == [
        f"sig:breakout:ACME:{c.start_ns}" for c in acme[9:]
    ]  # fmt: skip
    first = signals[0]
    assert first.correlation_id == first.signal_id and first.account == ACCOUNT
    assert first.causation_id == acme[9].event_id and first.regime == "TRENDING"
    assert first.recommended_action == "LONG" and first.execution_power == "NONE"
    assert first.stop_price is not None and first.entry_price == acme[9].close
    assert first.stop_price < first.entry_price
    declined = await sim.events(SignalDeclined)
    assert {d.gate_failed for d in declined if d.symbol == "ACME"} == {"regime"}
    assert len([d for d in declined if d.symbol == "ACME"]) == 9  # candles 1-9: no regime yet


async def test_a_strategy_exception_is_dead_lettered_and_the_service_goes_on(
    simulate: Callable[..., object],
) -> None:
    config = chain_config("kit.strategy_chain:Exploding", {"symbol": "BOOM"})
    sim = await simulate(config, (build_signals_service,))  # type: ignore[misc]
    assert isinstance(sim, Simulation)
    boom = candles_from_closes(["5.00"], symbol="BOOM")[0]
    acme = candles_from_closes(["25.00", "25.10"])
    await feed(sim, [boom, *acme])

    [letter] = await sim.bus.dead_letters()
    assert (letter.stream, letter.kind, letter.error_type) == (
        "market.candle", "market.candle.closed", "RuntimeError",
    )  # fmt: skip
    assert letter.error == "strategy bug on BOOM"
    decoded = sim.bus.codec.from_fields(letter.original)
    assert isinstance(decoded, CandleClosed) and decoded.event_id == boom.event_id
    signals = await sim.events(SignalIssued)
    assert [s.symbol for s in signals] == ["ACME", "ACME"]
    [service] = sim.services
    assert isinstance(service, AdvisoryService)
    assert service.health()["strategy_errors"] == 1


async def test_the_kill_switch_stops_advisories_until_reset(
    simulate: Callable[..., object], tmp_path: Path
) -> None:
    rows = [
        f"{T0 + 60 * NS_PER_SECOND},ACME,LONG,70,0.8,24.50,before",
        f"{T0 + 180 * NS_PER_SECOND},ACME,LONG,70,0.8,24.60,during",
        f"{T0 + 300 * NS_PER_SECOND},ACME,SHORT,60,0.7,26.00,after",
    ]
    path = script(tmp_path / "advisories.csv", rows)
    config = chain_config("scripted", {"path": str(path)})
    sim = await simulate(config, (build_signals_service,))  # type: ignore[misc]
    assert isinstance(sim, Simulation)
    kill = KillSwitchActivated(
        ts_event=T0 + 120 * NS_PER_SECOND, account=ACCOUNT, trigger="daily_loss",
        severity="CRITICAL", activated_by="killswitch",
    )  # fmt: skip
    reset = KillSwitchReset(
        ts_event=T0 + 240 * NS_PER_SECOND, account=ACCOUNT, reset_by="ann", reason="reviewed"
    )
    await feed(sim, [kill, reset], step=5.0)
    await sim.advance_to(T0 + 310 * NS_PER_SECOND, step=5.0)

    signals = await sim.events(SignalIssued)
    assert [(s.signal_id, s.recommended_action, s.ts_event) for s in signals] == [
        (f"sig:scripted:ACME:{T0 + 60 * NS_PER_SECOND}:2", "LONG", T0 + 60 * NS_PER_SECOND),
        (f"sig:scripted:ACME:{T0 + 300 * NS_PER_SECOND}:4", "SHORT", T0 + 300 * NS_PER_SECOND),
    ]
    assert signals[0].stop_price == Decimal("24.50") and signals[0].strategy == "scripted"
    [declined] = await sim.events(SignalDeclined)
    assert (declined.gate_failed, declined.symbol, declined.ts_event) == (
        "kill_switch", "ACME", T0 + 180 * NS_PER_SECOND,
    )  # fmt: skip


async def test_a_restarted_advisory_issues_nothing_twice(bus: EventBus, tmp_path: Path) -> None:
    rows = [f"{T0 + 30 * NS_PER_SECOND},ACME,LONG,70,0.8,24.50,once"]
    config = chain_config("scripted", {"path": str(script(tmp_path / "a.csv", rows))})
    clock = SimulatedClock(T0)
    first = await Simulation(bus, clock, [build_signals_service(config)], config).start()
    await first.advance(60, step=10.0)
    assert await first.stop() == 0
    again = await Simulation(bus, clock, [build_signals_service(config)], config).start()
    await again.advance(60, step=10.0)
    assert len(await again.events(SignalIssued)) == 1
    assert await again.stop() == 0


async def run_day_once(bus: EventBus) -> list[bytes]:
    """The breakout chain over twelve trending minutes, every chain event encoded (no seeded
    id factory: the chain's ids come from its events' keys)."""
    config = chain_config("breakout", {"lookback": 5})
    services = [build(config) for build in CHAIN]
    sim = await Simulation(bus, SimulatedClock(T0), services, config).start()
    await feed(sim, prints_for_closes(trending(12)))
    await sim.advance_to(T0 + 12 * MINUTE_NS + NS_PER_SECOND, step=10.0)
    assert await sim.stop() == 0
    streams = ("market.candle", "market.tick", "regime.classification", "signals.advisory")
    return [
        msgspec.json.encode(event) for stream in streams for event in await bus.read_events(stream)
    ]


async def test_the_same_day_gives_the_same_events_byte_for_byte_on_either_transport(
    bus: EventBus,
) -> None:
    """Whichever service gets to publish first in a step, ids are derived from the events'
    keys: a memory run and a run on this test's transport give the same bytes."""
    reference = await run_day_once(make_bus("memory", None))
    assert len(reference) == 12 + 12 + 3 + 12  # candles, ticks, regimes, 3 issued + 9 declined
    assert await run_day_once(bus) == reference


async def test_a_restarted_advisory_rebuilds_history_regime_and_kill_switch(
    bus: EventBus,
) -> None:
    config = chain_config("breakout", {"lookback": 5})
    candles = candles_from_closes(trending(13))
    clock = SimulatedClock(T0)
    first = await Simulation(bus, clock, [build_signals_service(config)], config).start()
    await first.publish(*candles[:10])
    assert [s.signal_id for s in await first.events(SignalIssued)] == [
        f"sig:breakout:ACME:{candles[9].start_ns}"
    ]
    assert await first.stop() == 0

    again = await Simulation(bus, clock, [build_signals_service(config)], config).start()
    await again.publish(candles[10])  # needs the replayed candles and regime to break out
    signals = await again.events(SignalIssued)
    assert [s.signal_id for s in signals] == [
        f"sig:breakout:ACME:{c.start_ns}" for c in candles[9:11]
    ]  # fmt: skip
    await again.publish(KillSwitchActivated(
        ts_event=T0, account=ACCOUNT, trigger="manual", severity="WARNING", activated_by="ann",
    ))  # fmt: skip
    assert await again.stop() == 0

    third = await Simulation(bus, clock, [build_signals_service(config)], config).start()
    await third.publish(candles[11])
    assert len(await third.events(SignalIssued)) == 2  # the switch survived the restart
    declined = [d for d in await third.events(SignalDeclined) if d.gate_failed == "kill_switch"]
    assert [d.causation_id for d in declined] == [candles[11].event_id]
    assert await third.stop() == 0
