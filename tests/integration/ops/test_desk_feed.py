"""The desk feed on a real redis-server: today's history, then live events, stream health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from kit.bus import make_bus
from kit.desk import desk_story
from kit.poll import eventually
from kit.risk_events import risk_mode_changed
from quantrail.bus.bus import EventBus
from quantrail.events.streams import DEADLETTER
from quantrail.ops.desk_feed import DeskFeed
from quantrail.ops.desk_view import DeskLimits, DeskView
from quantrail.vocab import Mode

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_bus(redis_url: str) -> AsyncIterator[EventBus]:
    bus = make_bus("redis", redis_url)
    yield bus
    await bus.close()


@contextlib.asynccontextmanager
async def following(feed: DeskFeed) -> AsyncIterator[DeskFeed]:
    task = asyncio.create_task(feed.run())
    try:
        yield feed
    finally:
        feed.stop()  # a cancel alone can be swallowed by redis-py mid-command (DeskFeed.stop)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def mode_of(feed: DeskFeed, account: str = "ACC1") -> str:
    return feed.view.account(account).mode


async def test_history_then_live_events_and_a_bad_entry_is_skipped(redis_bus: EventBus) -> None:
    await redis_bus.publish_batch(desk_story())
    feed = DeskFeed(redis_bus, DeskView(DeskLimits()), timezone="America/New_York")
    async with following(feed):
        await eventually(lambda: mode_of(feed), lambda m: m == "NORMAL", within=5)
        assert feed.view.phase == "MID" and len(feed.view.account("ACC1").exposure) == 2
        seen = feed.version
        await redis_bus.publish_raw("risk.mode", {b"kind": b"risk.mode.changed", b"x": b"1"})
        await redis_bus.publish(risk_mode_changed(mode=Mode.THROTTLE_NEW_ORDERS))
        assert await feed.wait_change(seen, within_s=5) > seen
        await eventually(lambda: mode_of(feed), lambda m: m == "THROTTLE_NEW_ORDERS", within=5)
        assert feed.undecodable == 1


async def test_stream_health_counts_lengths_and_dead_letters(redis_bus: EventBus) -> None:
    await redis_bus.publish_batch(desk_story())
    await redis_bus.publish_raw(DEADLETTER, {b"stream": b"system.alert", b"error": b"boom"})
    feed = DeskFeed(redis_bus, DeskView(DeskLimits()), timezone="America/New_York")
    await feed.poll_streams()
    lengths = {row["stream"]: row["length"] for row in feed.view.streams}
    assert lengths["exposure.snapshot"] == 2 and lengths["trades.order"] == 1
    assert feed.view.dead_letters == 1
