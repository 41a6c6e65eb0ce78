"""A stopping consumer does not sit out its block time on the in-process bus."""

from __future__ import annotations

import asyncio

from kit.bus import PING_STREAM, make_bus
from kit.poll import eventually
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.config import ConsumerConfig
from quantrail.events.base import Event

AN_HOUR_MS = 3_600_000


async def test_a_blocked_read_returns_empty_when_its_readers_are_woken() -> None:
    transport = MemoryTransport()
    read = asyncio.create_task(transport.read({"s": "0-0"}, 10, AN_HOUR_MS))
    await asyncio.sleep(0)
    assert not read.done()  # blocked: nothing on the stream
    transport.wake_readers(["s"])
    assert await asyncio.wait_for(read, timeout=10) == []


async def test_a_consumer_blocked_for_an_hour_stops_at_once() -> None:
    bus = make_bus("memory", None)

    async def ignore(_event: Event, _delivery: Delivery) -> None:
        return None

    consumer = bus.broadcast_consumer(
        streams=[PING_STREAM], consumer="c", handler=ignore,
        config=ConsumerConfig(block_ms=AN_HOUR_MS),
    )  # fmt: skip
    running = asyncio.create_task(consumer.run())
    await eventually(lambda: consumer.running, bool, what="the consumer reading")
    await asyncio.sleep(0)  # into its blocked read
    consumer.stop()
    await asyncio.wait_for(running, timeout=10)  # a deadline, not a measurement
    await bus.close()
