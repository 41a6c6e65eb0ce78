"""The per-consumer handler watchdog: exact deadlines, and other cancellations pass through."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from quantrail.bus.watchdog import HandlerTimeoutError, HandlerWatchdog


async def test_a_call_within_the_timeout_returns() -> None:
    watchdog = HandlerWatchdog(5.0)
    done: list[int] = []

    async def quick() -> None:
        await asyncio.sleep(0)
        done.append(1)

    for _ in range(3):
        await watchdog.run(quick())
    watchdog.close()
    assert done == [1, 1, 1]


async def test_a_call_over_the_timeout_raises_and_the_task_is_not_left_cancelling() -> None:
    watchdog = HandlerWatchdog(0.02)
    with pytest.raises(HandlerTimeoutError, match=r"ran over its 0.02 s timeout"):
        await watchdog.run(asyncio.Event().wait())
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)  # the task still runs normally afterwards


async def test_each_call_gets_its_own_deadline_after_quick_ones() -> None:
    # A timer armed by a quick first call must not cut a later call short: the later call's
    # deadline counts from its own start.
    loop = asyncio.get_running_loop()
    watchdog = HandlerWatchdog(0.2)
    await watchdog.run(asyncio.sleep(0))
    await asyncio.sleep(0.1)
    started = loop.time()
    with pytest.raises(HandlerTimeoutError):
        await watchdog.run(asyncio.Event().wait())
    assert loop.time() - started >= 0.2


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    watchdog = HandlerWatchdog(5.0)
    task = asyncio.create_task(watchdog.run(asyncio.Event().wait()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_handler_that_swallows_the_cancel_leaves_no_cancel_behind() -> None:
    watchdog = HandlerWatchdog(0.02)

    async def stubborn() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # a badly behaved handler
            await asyncio.Event().wait()

    await watchdog.run(stubborn())
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


@pytest.mark.parametrize("timeout_s", [0.0, -1.0])
def test_a_timeout_that_is_not_positive_is_refused(timeout_s: float) -> None:
    with pytest.raises(ValueError, match=r"handler_timeout_s: must be > 0"):
        HandlerWatchdog(timeout_s)
