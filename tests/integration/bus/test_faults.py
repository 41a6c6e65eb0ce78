"""Fault tests on a real redis-server: kill -9, Redis restarts, load across consumers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kit.bus import PING_STREAM, EffectLog, Ping, make_bus, new_namespace, pings
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.redis import RedisTransport
from quantrail.bus.transport import TransportError
from quantrail.events.base import Event
from quantrail.ops.redis_server import RedisServer

PROCS = Path(__file__).resolve().parents[2] / "kit" / "procs.py"
EFFECT_ONCE_SCRIPT = (
    (PROCS.parent / "procs.py").read_text().split('EFFECT_ONCE = """')[1].split('"""')[0]
)

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_bus(redis_url: str) -> AsyncIterator[EventBus]:
    bus = make_bus("redis", redis_url)
    yield bus
    await bus.close()


async def test_kill_9_mid_batch_after_effect_before_ack_loses_and_doubles_nothing(
    redis_bus: EventBus, redis_url: str
) -> None:
    total, crash_seq = 1000, 537  # the crash lands inside a batch of 50
    for start in range(0, total, 100):
        await redis_bus.publish_batch(pings(100, start=start))
    doomed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(PROCS), "crash-after", "--url", redis_url,
         "--namespace", redis_bus.names.namespace, "--crash-seq", str(crash_seq)],
        timeout=60, capture_output=True,
    )  # fmt: skip
    assert doomed.returncode == -9, doomed.stderr.decode()
    assert isinstance(redis_bus.transport, RedisTransport)
    client = redis_bus.transport.client
    effects_key = redis_bus.names.key("effects")
    before = {int(k): int(v) for k, v in (await client.hgetall(effects_key)).items()}
    assert crash_seq in before and len(before) < total

    async def effect_once(event: Event, delivery: Delivery) -> None:
        assert isinstance(event, Ping) and delivery.mark is not None
        await client.eval(
            EFFECT_ONCE_SCRIPT, 2, delivery.mark, effects_key, event.seq, delivery.mark_ttl_s
        )

    survivor = redis_bus.group_consumer(
        streams=[PING_STREAM], group="g", consumer="survivor", handler=effect_once
    )
    task = asyncio.create_task(survivor.run())
    try:
        await eventually(
            lambda: client.hlen(effects_key), lambda n: n == total, within=30, what="all effects"
        )
        info = await eventually(
            lambda: redis_bus.transport.info(redis_bus.names.key(PING_STREAM)),
            lambda i: i.groups[0].pending == 0,
            what="pending list drained",
        )
    finally:
        survivor.stop()
        await task
    effects = {int(k): int(v) for k, v in (await client.hgetall(effects_key)).items()}
    assert set(effects) == set(range(total))
    assert set(effects.values()) == {1}, "an effect happened twice"
    assert survivor.stats.claimed > 0, "the dead consumer's entries were not claimed"
    assert survivor.stats.duplicates >= 1, "the crashed entry was not recognised as done"
    assert info.groups[0].lag == 0


async def test_redis_restart_is_survived_without_restarting_the_consumer(
    own_redis: RedisServer,
) -> None:
    bus = make_bus("redis", own_redis.url)
    log = EffectLog()
    consumer = bus.group_consumer(
        streams=[PING_STREAM], group="g", consumer="c", handler=log.handle
    )
    task = asyncio.create_task(consumer.run())
    try:
        await bus.publish_batch(pings(10))
        await eventually(lambda: log.seqs(), lambda s: s == set(range(10)), what="before restart")
        own_redis.restart()  # kill -9 and start again: everything in Redis is gone

        async def publish_after_restart() -> bool:
            try:
                await bus.publish_batch(pings(10, start=100))
            except TransportError:
                return False
            return True

        await eventually(publish_after_restart, within=15, what="publish after restart")
        await eventually(
            lambda: log.seqs(),
            lambda s: set(range(100, 110)) <= s,
            within=20,
            what="events after the restart handled",
        )
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
        await bus.close()
    assert consumer.stats.reconnects >= 1
    assert log.doubled() == []


async def test_ten_thousand_events_three_competing_consumers_exactly_once(
    redis_bus: EventBus,
) -> None:
    log = EffectLog()
    consumers = [
        redis_bus.group_consumer(streams=[PING_STREAM], group="g", consumer=f"c{i}",
                                 handler=log.handle)
        for i in range(3)
    ]  # fmt: skip
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    try:
        for start in range(0, 10_000, 500):
            await redis_bus.publish_batch(pings(500, start=start))
        await eventually(lambda: len(log.effects), lambda n: n == 10_000, within=60)
        await eventually(
            lambda: redis_bus.transport.info(redis_bus.names.key(PING_STREAM)),
            lambda i: i.groups[0].pending == 0,
        )
    finally:
        for c in consumers:
            c.stop()
        await asyncio.gather(*tasks)
    assert log.seqs() == set(range(10_000))
    assert log.doubled() == []
    assert all(c.stats.handled > 0 for c in consumers), [c.stats.handled for c in consumers]


async def test_sigterm_under_load_exits_0_with_every_handled_entry_acked(redis_url: str) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    assert isinstance(bus.transport, RedisTransport)
    client = bus.transport.client
    worker = subprocess.Popen(  # noqa: ASYNC220 - starting a process is quick; we await its exit
        [sys.executable, str(PROCS), "serve", "--url", redis_url, "--namespace", namespace],
        stderr=subprocess.PIPE,
    )
    try:
        for start in range(0, 4000, 200):
            await bus.publish_batch(pings(200, start=start))
        await eventually(
            lambda: client.scard(f"{namespace}:handled"),
            lambda n: n >= 300,
            within=30,
            what="worker busy",
        )
        worker.terminate()  # SIGTERM
        code = await asyncio.to_thread(worker.wait, 30)
        stderr = worker.stderr.read().decode() if worker.stderr else ""
        assert code == 0, stderr
        handled = {v.decode() for v in await client.smembers(f"{namespace}:handled")}
        pending = await bus.transport.pending_ids(
            bus.names.key(PING_STREAM), "load", "load-proc", 10_000
        )
        assert handled.isdisjoint(pending), "an entry was handled but left un-acked"
        assert len(handled) < 4000, "the load finished before the signal: test proves nothing"
    finally:
        if worker.poll() is None:
            worker.kill()
        await bus.close()
