"""The replayed clock: its owner's pace and ticks, a follower's clock, the replay window."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from kit.bus import make_bus
from kit.opsrun import DAY_END_NS, DAY_START_NS, short_day_market
from kit.poll import eventually
from quantrail.config import Config
from quantrail.events.system import ClockTicked
from quantrail.ops.serve import replay_window
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.replay_clock import (
    MAX_SPEED,
    ClockFollower,
    ReplayDriver,
    ReplayWindow,
    pace_of,
    parse_speed,
)

S = NS_PER_SECOND


def test_speed_is_a_positive_multiple_or_max() -> None:
    assert parse_speed("60") == 60.0 and parse_speed("MAX") == MAX_SPEED
    for bad in ("0", "-2", "fast"):
        with pytest.raises(ValueError, match=f"speed: .*{bad!r}"):
            parse_speed(bad)


def test_the_window_of_a_date_a_market_file_and_a_holiday(tmp_path: Path) -> None:
    day = replay_window(Config(), "synthetic", dt.date(2026, 11, 20), dt.date(2026, 12, 1))
    opens = int(dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC).timestamp()) * S
    assert day.start_ns == opens - 300 * S
    market = short_day_market(tmp_path / "m.csv")
    span = replay_window(Config(), str(market), None, dt.date(2026, 12, 1))
    assert (span.start_ns, span.end_ns) == (DAY_START_NS, DAY_END_NS)
    with pytest.raises(ValueError, match="date: 2026-11-26 is not a XNYS trading day"):
        replay_window(Config(), "synthetic", dt.date(2026, 11, 26), dt.date(2026, 12, 1))
    yesterday = replay_window(Config(), "none", None, dt.date(2026, 11, 23))  # a Monday
    assert yesterday.start_ns == opens - 300 * S  # Friday the 20th


async def test_the_owner_moves_the_clock_at_its_speed_and_publishes_ticks() -> None:
    bus = make_bus("memory", None)
    clock = SimulatedClock(DAY_START_NS)
    woke: list[int] = []

    async def sleeper() -> None:
        await clock.sleep(30)
        woke.append(clock.now_ns())

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    driver = ReplayDriver(bus, clock, ReplayWindow(DAY_START_NS, DAY_START_NS + 60 * S), 600.0)
    await asyncio.wait_for(driver.run(), timeout=10)  # 60 s at 600x: a tenth of a second
    await task
    assert clock.now_ns() == DAY_START_NS + 60 * S
    assert woke == [DAY_START_NS + 30 * S]
    ticks = [e.ts_event for e in await bus.read_events("system.clock")]
    assert ticks[0] == DAY_START_NS and ticks[-1] == DAY_START_NS + 60 * S
    assert ticks == sorted(ticks)
    await bus.close()


async def test_max_speed_settles_after_every_step() -> None:
    bus = make_bus("memory", None)
    clock = SimulatedClock(0)
    settled: list[int] = []

    async def settle() -> None:
        settled.append(clock.now_ns())

    await ReplayDriver(bus, clock, ReplayWindow(0, 3 * S), MAX_SPEED, settle=settle).run()
    assert settled == [S, 2 * S, 3 * S]
    await bus.close()


async def test_a_follower_moves_to_the_owners_ticks_and_never_back() -> None:
    bus = make_bus("memory", None)
    await bus.publish(ClockTicked(ts_event=100 * S, source="owner"))
    clock = SimulatedClock(0)
    follower = ClockFollower(bus, clock, block_ms=10)
    assert await follower.first_tick(within_s=5) == 100 * S
    assert clock.now_ns() == 100 * S

    task = asyncio.create_task(follower.run())
    try:
        await bus.publish(ClockTicked(ts_event=130 * S, source="owner"))
        await eventually(clock.now_ns, lambda now: now == 130 * S, what="the followed tick")
        await bus.publish(ClockTicked(ts_event=120 * S, source="owner"))  # an owner restarted
        await bus.publish(ClockTicked(ts_event=140 * S, source="owner"))
        await eventually(clock.now_ns, lambda now: now == 140 * S, what="the next tick")
    finally:
        task.cancel()
        await bus.close()


async def test_a_follower_without_an_owner_says_so() -> None:
    bus = make_bus("memory", None)
    with pytest.raises(TimeoutError, match="no replay clock tick"):
        await ClockFollower(bus, SimulatedClock(0)).first_tick(within_s=0.1)
    await bus.close()


async def test_the_owner_paces_its_clock_at_a_fixed_speed_and_leaves_max_exact() -> None:
    bus = make_bus("memory", None)
    window = ReplayWindow(DAY_START_NS, DAY_START_NS + 60 * S)
    paced = SimulatedClock(DAY_START_NS)
    ReplayDriver(bus, paced, window, 60.0)
    assert paced.speed == 60.0 and paced.wall_seconds(300 * S) == 5.0  # 5 min replayed: 5 s

    async def settle() -> None:
        pass

    exact = SimulatedClock(DAY_START_NS)
    ReplayDriver(bus, exact, window, MAX_SPEED, settle=settle)
    assert exact.speed == 1.0 and exact.wall_seconds(300 * S) == 300.0
    await bus.close()


async def test_a_follower_takes_the_owners_speed_from_its_ticks() -> None:
    bus = make_bus("memory", None)
    await bus.publish(ClockTicked(ts_event=100 * S, source="owner", speed=60.0))
    clock = SimulatedClock(0)
    follower = ClockFollower(bus, clock, block_ms=10)
    await follower.first_tick(within_s=5)
    assert clock.speed == 60.0
    task = asyncio.create_task(follower.run())
    try:
        await bus.publish(ClockTicked(ts_event=110 * S, source="owner", speed=MAX_SPEED))
        await eventually(clock.now_ns, lambda now: now == 110 * S, what="the max tick")
        assert clock.speed == 1.0  # max: exact spans
    finally:
        task.cancel()
        await bus.close()


def test_a_ticks_pace_is_its_fixed_speed_else_exact() -> None:
    def tick(speed: float) -> ClockTicked:
        return ClockTicked(ts_event=0, source="owner", speed=speed)

    assert [pace_of(tick(s)) for s in (60.0, 0.5, MAX_SPEED, -1.0, float("nan"))] == [
        60.0, 0.5, 1.0, 1.0, 1.0,
    ]  # fmt: skip
