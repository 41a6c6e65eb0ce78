"""The session clock service on a simulated clock: phases from the real XNYS calendar, every tick.

Runs on both transports (the ``bus`` fixture): memory and the private redis-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kit.poll import eventually
from kit.session import ny_ns, xnys
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events.session import SessionClockTicked
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.session import PhaseBoundaries
from quantrail.session.service import SessionClockService
from quantrail.vocab import Phase


class Clocked:
    """One session clock service in a runner, driven tick by tick."""

    def __init__(self, bus: EventBus, start: str, tick_s: float = 1.0) -> None:
        self.bus = bus
        self.clock = SimulatedClock(ny_ns(start))
        self.service = SessionClockService(xnys(), PhaseBoundaries(), tick_s)
        self.runner = ServiceRunner(
            bus, [self.service], Config(), clock=self.clock, instance="t", heartbeats=False
        )
        self.task: asyncio.Task[int] | None = None

    async def ticks(self) -> list[SessionClockTicked]:
        events = await self.bus.read_events("session.clock")
        return [event for event in events if isinstance(event, SessionClockTicked)]

    async def advance(self, seconds: float) -> None:
        """Move time; wait for the tick it causes and for the timer to sleep again."""
        before = len(await self.ticks())
        await self.clock.advance(seconds)
        await eventually(self.ticks, lambda t: len(t) > before, what="a tick")
        await eventually(
            lambda: self.clock.next_wake_ns,
            lambda wake: wake is not None and wake > self.clock.now_ns(),
            what="the timer asleep again",
        )


@pytest.fixture
async def clocked() -> AsyncIterator[list[Clocked]]:
    made: list[Clocked] = []
    yield made
    for each in made:
        each.runner.request_stop()
        assert each.task is not None and await each.task == 0


async def start(made: list[Clocked], bus: EventBus, at: str, tick_s: float = 1.0) -> Clocked:
    rig = Clocked(bus, at, tick_s)
    made.append(rig)
    rig.task = asyncio.create_task(rig.runner.run(install_signals=False))
    await rig.runner.started.wait()
    await eventually(
        lambda: rig.clock.next_wake_ns, lambda wake: wake is not None, what="the first sleep"
    )
    return rig


async def test_early_close_day_turns_late_at_1245(bus: EventBus, clocked: list[Clocked]) -> None:
    rig = await start(clocked, bus, "2026-11-27 12:44:58")
    await rig.advance(1)
    await rig.advance(1)
    await rig.advance(1)
    ticks = await rig.ticks()
    assert [t.ts_event for t in ticks] == [
        ny_ns(f"2026-11-27 12:{m}") for m in ("44:58", "44:59", "45:00", "45:01")
    ]
    assert [t.phase for t in ticks] == [Phase.MID, Phase.MID, Phase.LATE, Phase.LATE]
    late = ticks[2]
    assert (late.session_date, late.is_trading_day, late.early_close) == ("2026-11-27", True, True)
    assert (late.open_ns, late.close_ns) == (ny_ns("2026-11-27 09:30"), ny_ns("2026-11-27 13:00"))
    assert (late.minutes_to_close, late.minutes_since_open) == (15.0, 195.0)
    assert late.exchange == "XNYS" and late.source == "session-clock"
    state = await bus.get_state("session")
    assert (state["phase"], state["ts_ns"], state["early_close"]) == (
        "LATE",
        str(ny_ns("2026-11-27 12:45:01")),
        "true",
    )
    assert state["minutes_to_close"] == repr(14 + 59 / 60)


async def test_close_phase_on_a_regular_day(bus: EventBus, clocked: list[Clocked]) -> None:
    rig = await start(clocked, bus, "2026-11-20 15:57:59")
    await rig.advance(1)
    first, second = await rig.ticks()
    assert (first.phase, second.phase) == (Phase.LATE, Phase.CLOSE)
    assert (second.early_close, second.minutes_to_close) == (False, 2.0)


async def test_a_holiday_is_closed_with_no_open_or_close(
    bus: EventBus, clocked: list[Clocked]
) -> None:
    rig = await start(clocked, bus, "2026-11-26 11:00")  # Thanksgiving
    (tick,) = await rig.ticks()
    assert (tick.phase, tick.is_trading_day, tick.session_date) == (
        Phase.CLOSED,
        False,
        "2026-11-26",
    )
    assert (tick.open_ns, tick.close_ns) == (None, None)
    state = await bus.get_state("session")
    assert (state["phase"], state["open_ns"], state["is_trading_day"]) == ("CLOSED", "", "false")


async def test_ticks_follow_the_configured_interval(bus: EventBus, clocked: list[Clocked]) -> None:
    rig = await start(clocked, bus, "2026-11-20 09:29:59", tick_s=0.5)
    for _ in range(4):
        await rig.advance(0.5)
    ticks = await rig.ticks()
    start_ns = ny_ns("2026-11-20 09:29:59")
    assert [t.ts_event - start_ns for t in ticks] == [i * NS_PER_SECOND // 2 for i in range(5)]
    assert [t.phase for t in ticks] == [Phase.PRE, Phase.PRE, Phase.OPEN, Phase.OPEN, Phase.OPEN]
    assert ticks[2].minutes_since_open == 0.0


def test_a_bad_tick_is_refused_naming_the_field() -> None:
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tick_s"):
            SessionClockService(xnys(), PhaseBoundaries(), bad)
