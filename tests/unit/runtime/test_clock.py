from __future__ import annotations

import asyncio

import pytest

from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock, WallClock


async def test_simulated_sleepers_wake_in_deadline_order() -> None:
    clock = SimulatedClock(start_ns=1_000)
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now_ns()))

    tasks = [asyncio.create_task(sleeper("late", 2.0)), asyncio.create_task(sleeper("early", 1.0))]
    await asyncio.sleep(0)
    await clock.advance(1.5)
    assert woke == [("early", 1_000 + NS_PER_SECOND)]
    assert clock.now_ns() == 1_000 + int(1.5 * NS_PER_SECOND)
    await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert [name for name, _ in woke] == ["early", "late"]
    assert woke[1][1] == 1_000 + 2 * NS_PER_SECOND


async def test_simulated_clock_refuses_to_go_back() -> None:
    clock = SimulatedClock(start_ns=10)
    with pytest.raises(ValueError, match="cannot go back"):
        await clock.advance_to(5)


def test_wall_clock_is_utc_nanoseconds() -> None:
    now = WallClock().now_ns()
    assert now > 1_700_000_000 * NS_PER_SECOND


async def test_skip_to_moves_time_only_when_no_sleeper_wakes_on_the_way() -> None:
    clock = SimulatedClock(start_ns=0)
    task = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    assert clock.skip_to(NS_PER_SECOND - 1) and clock.now_ns() == NS_PER_SECOND - 1
    assert not clock.skip_to(NS_PER_SECOND)  # the sleeper is due: advance_to must wake it
    assert clock.now_ns() == NS_PER_SECOND - 1 and not task.done()
    assert not clock.skip_to(5)  # never back
    await clock.advance_to(NS_PER_SECOND)
    await task


def test_staleness_spans_are_exact_on_the_wall_clock_and_an_unpaced_simulated_clock() -> None:
    # Backtests and scenarios compare exactly what they always did: not a bit of difference.
    for span in (0, 1, 61 * NS_PER_SECOND + 123, 7 * NS_PER_SECOND // 3):
        assert WallClock().wall_seconds(span) == span / NS_PER_SECOND
        assert SimulatedClock(0).wall_seconds(span) == span / NS_PER_SECOND
    assert SimulatedClock(0).speed == 1.0


def test_a_clock_paced_at_60x_counts_a_replayed_minute_as_one_wall_second() -> None:
    clock = SimulatedClock(0, speed=60)
    assert clock.wall_seconds(60 * NS_PER_SECOND) == 1.0
    assert clock.wall_seconds(5 * NS_PER_SECOND) == pytest.approx(1 / 12)
    clock.pace(0.5)  # slower than wall time: a replayed second is two wall seconds
    assert clock.wall_seconds(NS_PER_SECOND) == 2.0
    clock.pace(1)
    assert clock.wall_seconds(3 * NS_PER_SECOND) == 3.0


@pytest.mark.parametrize("speed", [0.0, -60.0, float("nan"), float("inf")])
def test_a_pace_that_is_not_a_positive_number_is_refused_by_name(speed: float) -> None:
    with pytest.raises(ValueError, match=r"speed: must be a positive number \(value: "):
        SimulatedClock(0, speed=speed)


async def test_call_at_runs_in_deadline_order_with_the_sleepers_at_its_time() -> None:
    clock = SimulatedClock(start_ns=0)
    seen: list[tuple[str, int]] = []

    async def sleeper() -> None:
        await clock.sleep_until(200)
        seen.append(("sleeper", clock.now_ns()))

    async def called(name: str) -> None:
        seen.append((name, clock.now_ns()))

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    clock.call_at(300, lambda: called("late"))
    clock.call_at(100, lambda: called("early"))
    dropped = clock.call_at(150, lambda: called("dropped"))
    dropped.cancel()
    assert clock.next_wake_ns == 100
    assert not clock.skip_to(100)  # a callback wakes on the way
    await clock.advance_to(1_000)
    await task
    assert seen == [("early", 100), ("sleeper", 200), ("late", 300)]
    assert clock.next_wake_ns is None


async def test_next_wake_except_one_entry_looks_past_it() -> None:
    clock = SimulatedClock(start_ns=0)

    async def nothing() -> None:
        return None

    first = clock.call_at(100, nothing)
    clock.call_at(500, nothing)
    assert clock.next_wake_ns_except(first) == 500
    assert clock.next_wake_ns_except(None) == 100
