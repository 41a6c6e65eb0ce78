"""Fault test on a Redis Cluster: a master dies while consumers run; its replica takes over.

Effects are counted against published events: each handler writes its effect and its
idempotency mark in one script, in the slot of its stream (``beside(delivery.mark, ...)``), so
mark, effect and ack are kept or lost together; nothing acked may be lost or doubled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kit.bus import Ping
from kit.cluster import SYMBOL_STREAM, SymbolPing, make_cluster_bus, shard_bus
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import RedisClusterTransport, slot_of
from quantrail.bus.delivery import Delivery
from quantrail.bus.keyslot import beside
from quantrail.events.base import Event
from quantrail.ops.redis_cluster import RedisClusterServer

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STREAMS = ["test.a", "test.b", "test.c", "test.d"]
TOTAL = 1200
EFFECT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
"""


@pytest.fixture
def own_cluster() -> Iterator[RedisClusterServer]:
    """A cluster of this test alone (a master of it gets killed)."""
    cluster = RedisClusterServer(masters=3, replicas=1, node_timeout_ms=1000).start()
    yield cluster
    cluster.stop()


def effects_key(bus: EventBus, stream: str) -> str:
    return beside(bus.names.key(stream), bus.names.key("effects"))


async def effect_counts(bus: EventBus) -> dict[int, int]:
    assert isinstance(bus.transport, RedisClusterTransport)
    counts: dict[int, int] = {}
    for stream in STREAMS:
        raw = await bus.transport.client.hgetall(effects_key(bus, stream))
        counts.update({int(seq): int(n) for seq, n in raw.items()})
    return counts


async def publish_steadily(bus: EventBus, published: list[int]) -> None:
    """Ten events at a time, round robin over the streams, as fast as the cluster takes them."""
    for seq in range(TOTAL):
        stream = STREAMS[seq % len(STREAMS)]
        await bus.publish_raw(stream, bus.codec.to_fields(Ping(ts_event=1_000 + seq, seq=seq)))
        published.append(seq)
        if seq % 10 == 9:
            await asyncio.sleep(0.005)  # pacing the producer so the kill lands mid-stream


async def test_a_master_killed_mid_stream_loses_and_doubles_no_acked_effect(
    own_cluster: RedisClusterServer,
) -> None:
    bus = make_cluster_bus(own_cluster.startup_nodes, failover_retry_s=30.0)
    assert isinstance(bus.transport, RedisClusterTransport)
    client = bus.transport.client

    async def effect_once(event: Event, delivery: Delivery) -> None:
        assert isinstance(event, Ping) and delivery.mark is not None
        key = beside(delivery.mark, bus.names.key("effects"))
        await client.eval(EFFECT_ONCE, 2, delivery.mark, key, event.seq, delivery.mark_ttl_s)

    consumers = [
        bus.group_consumer(streams=STREAMS, group="g", consumer=f"c{i}", handler=effect_once)
        for i in range(2)
    ]
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    published: list[int] = []
    producer = asyncio.create_task(publish_steadily(bus, published))
    try:
        await eventually(lambda: len(published), lambda n: n >= TOTAL // 4, within=30)
        doomed = own_cluster.master_of(slot_of(bus.names.key(STREAMS[0])))
        own_cluster.kill(doomed)
        await asyncio.wait_for(producer, timeout=60)
        counts = await eventually(
            lambda: effect_counts(bus), lambda c: len(c) >= TOTAL, within=60, what="all effects"
        )
        assert all(c.running for c in consumers)  # they rode through, nobody restarted them
    finally:
        for c in consumers:
            c.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()
    assert sorted(published) == list(range(TOTAL))
    assert set(counts) == set(range(TOTAL))
    assert [seq for seq, n in counts.items() if n != 1] == []
    # The replica took over the slot (the consumers and the producer followed it).
    assert doomed.port != own_cluster.master_of(slot_of(bus.names.key(STREAMS[0]))).port


async def test_sharded_instances_ride_a_failover_with_each_effect_once(
    own_cluster: RedisClusterServer,
) -> None:
    bus = shard_bus(make_cluster_bus(own_cluster.startup_nodes), 4, lease_ttl_ms=3_000)
    assert isinstance(bus.transport, RedisClusterTransport)
    client, effects = bus.transport.client, bus.names.key("effects")
    symbols = [f"S{i:02d}" for i in range(16)]

    async def effect_once(event: Event, delivery: Delivery) -> None:
        assert isinstance(event, SymbolPing) and delivery.mark is not None
        key = beside(delivery.mark, effects)
        field = f"{event.symbol}:{event.seq}"
        await client.eval(EFFECT_ONCE, 2, delivery.mark, key, field, delivery.mark_ttl_s)

    instances = [
        bus.group_consumer(streams=[SYMBOL_STREAM], group="g", consumer=n, handler=effect_once)
        for n in ("a", "b")
    ]
    tasks = [asyncio.create_task(c.run()) for c in instances]
    total = 0
    try:
        doomed = own_cluster.master_of(slot_of(bus.names.key(f"{SYMBOL_STREAM}:{{s00}}")))
        for seq in range(40):
            if seq == 10:
                own_cluster.kill(doomed)
            await bus.publish_batch([SymbolPing(ts_event=seq, symbol=s, seq=seq) for s in symbols])
            total += len(symbols)

        async def counts() -> dict[str, int]:
            found: dict[str, int] = {}
            for shard in range(4):
                raw = await client.hgetall(f"{effects}:{{s{shard:02d}}}")
                found.update({k.decode(): int(v) for k, v in raw.items()})
            return found

        handled = await eventually(counts, lambda c: len(c) >= total, within=60, what="effects")
        assert all(c.running for c in instances)
    finally:
        for c in instances:
            c.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()
    assert len(handled) == total == 40 * len(symbols)
    assert [field for field, n in handled.items() if n != 1] == []
