"""A timer plan wakes at the first grid point (start + k x interval) that is due."""

from __future__ import annotations

import asyncio

import pytest

from quantrail.backtest.timers import TimerPlan
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import Timer

MS = 1_000_000
T0 = 1_000_000_000_000
S_LATER = 1_000_000_000


async def _nothing() -> None:
    return None


@pytest.mark.parametrize(
    ("now", "due", "wake"),
    [
        (T0, None, None),  # no work until the service's input changes
        (T0, T0 + 250 * MS, T0 + 300 * MS),  # between grid points: the next one
        (T0, T0 + 300 * MS, T0 + 300 * MS),  # on a grid point: that one
        (T0 + 250 * MS, T0 + 10 * MS, T0 + 300 * MS),  # overdue: the next grid point
        (T0 + 300 * MS, T0 + 300 * MS, T0 + 400 * MS),  # the point now has passed
    ],
)
async def test_the_wake_is_the_first_due_grid_point_after_now(
    now: int, due: int | None, wake: int | None
) -> None:
    clock = SimulatedClock(T0)
    plan = TimerPlan.start(Timer(0.1, _nothing, due_ns=lambda: due), clock, "svc")
    await clock.advance_to(now)  # no sleepers: nothing else wakes
    assert plan.due_wake() == wake


async def test_the_clock_wakes_a_sleeper_at_exactly_its_time() -> None:
    clock = SimulatedClock(T0)
    woken: list[int] = []

    async def sleeper() -> None:
        await clock.sleep_until(T0 + 300 * MS + 1)
        woken.append(clock.now_ns())

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    await clock.advance_to(T0 + 300 * MS)
    assert woken == []
    await clock.advance_to(T0 + S_LATER)
    await task
    assert woken == [T0 + 300 * MS + 1]


async def test_a_plan_fires_at_its_due_grid_point_and_a_poke_only_brings_it_forward() -> None:
    clock = SimulatedClock(T0)
    due: list[int | None] = [T0 + 450 * MS]
    fired: list[int] = []

    async def work() -> None:
        fired.append(clock.now_ns())
        due[0] = None  # done: nothing more until poked

    plan = TimerPlan.start(Timer(0.1, work, due_ns=lambda: due[0]), clock, "svc")
    assert plan.wake_ns == T0 + 500 * MS
    due[0] = T0 + 120 * MS  # the service's state moved: work comes due sooner
    plan.poke()
    assert plan.wake_ns == T0 + 200 * MS
    due[0] = T0 + 900 * MS  # later: a poke does not move the wake-up back
    plan.poke()
    assert plan.wake_ns == T0 + 200 * MS
    await clock.advance_to(T0 + S_LATER)
    # Its wake-up one interval early (at 100 ms) planned again: the work was due at 900 ms.
    assert fired == [T0 + 900 * MS]
    plan.stop()
    due[0] = T0 + S_LATER + 100 * MS
    plan.poke()
    await clock.advance_to(T0 + 2 * S_LATER)
    assert fired == [T0 + 900 * MS]
