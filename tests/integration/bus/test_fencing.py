"""Fencing tokens on shard leases, on memory, a single Redis and a Redis Cluster: an instance
that lost its lease while its handler was paused cannot ack; the shard's new holder claims
the entry, handles it and acks it."""

from __future__ import annotations

import asyncio
import contextlib

from kit.cluster import SYMBOL_STREAM, SymbolPing, shard_bus
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.leased_consumer import LeasedGroupConsumer
from quantrail.bus.leases import Ack
from quantrail.bus.sharding import shard_of
from quantrail.events.base import Event

TTL_MS = 600
ALL = {0, 1, 2, 3}


async def test_a_token_is_new_on_each_take_and_kept_while_renewed(three_way_bus: EventBus) -> None:
    bus = shard_bus(three_way_bus, 4, lease_ttl_ms=TTL_MS)
    store = bus.transport.lease_store()
    lease, fence = bus.names.key("lease:g:{s01}"), bus.names.key("fence:g:{s01}")
    first = await store.acquire(lease, fence, "a", TTL_MS)
    assert first >= 1
    assert await store.acquire(lease, fence, "a", TTL_MS) == first  # renewed: same token
    assert await store.acquire(lease, fence, "b", TTL_MS) == 0  # held by another
    await store.release(lease, "a")
    assert await store.acquire(lease, fence, "b", TTL_MS) == first + 1
    await store.release(lease, "b")
    assert await store.acquire(lease, fence, "a", TTL_MS) == first + 2  # a's old token is dead


async def test_a_fenced_ack_checks_the_token_and_the_holder(three_way_bus: EventBus) -> None:
    bus = shard_bus(three_way_bus, 4, lease_ttl_ms=TTL_MS)
    consumer = bus.group_consumer(streams=[SYMBOL_STREAM], group="g", consumer="a", handler=_ignore)
    assert isinstance(consumer, LeasedGroupConsumer)
    leases = consumer.leases
    await leases.refresh()
    [index] = {shard_of("AAPL", 4)}
    old = leases.fence(index)
    assert old is not None and leases.held == ALL
    # The lease lost and taken back: the token read under before no longer acks.
    await leases.store.release(leases.lease_key(index), "a")
    await leases.refresh()
    new = leases.fence(index)
    assert new is not None and new.token == old.token + 1
    key = bus.names.key(bus.shard_streams(SYMBOL_STREAM)[index])
    await bus.transport.create_group(key, "g")
    ack = Ack(key, "g", [], [], 60)
    assert not await leases.store.fenced_ack(old, ack)
    assert await leases.store.fenced_ack(new, ack)
    await leases.leave()


async def test_an_instance_paused_past_its_lease_cannot_ack_and_the_holder_takes_over(
    three_way_bus: EventBus,
) -> None:
    bus = shard_bus(three_way_bus, 4, lease_ttl_ms=TTL_MS)
    entered, gate = asyncio.Event(), asyncio.Event()
    by_b: list[int] = []

    async def paused(_event: Event, _delivery: Delivery) -> None:
        entered.set()
        await gate.wait()  # a GC pause, a stuck call: longer than the lease

    async def record(event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, SymbolPing)
        by_b.append(event.seq)

    a = bus.group_consumer(streams=[SYMBOL_STREAM], group="svc", consumer="a", handler=paused)
    b = bus.group_consumer(streams=[SYMBOL_STREAM], group="svc", consumer="b", handler=record)
    assert isinstance(a, LeasedGroupConsumer) and isinstance(b, LeasedGroupConsumer)
    tasks = [asyncio.create_task(a.run())]
    try:
        await eventually(lambda: a.leases.held, lambda held: held == ALL, what="a holds all")
        await bus.publish(SymbolPing(ts_event=1, symbol="AAPL", seq=0))
        await asyncio.wait_for(entered.wait(), 10)
        tasks.append(asyncio.create_task(b.run()))
        # a renews nothing while paused: its membership and leases expire, b takes every shard.
        await eventually(lambda: b.leases.held, lambda held: held == ALL, what="b holds all")
        a.stop()  # once its handler returns: a does not come back to take a shard again
        gate.set()
        await eventually(lambda: a.stats.fenced, lambda n: n == 1, what="a's ack refused")
        await eventually(lambda: by_b, lambda seqs: seqs == [0], what="b claims and handles")
        key = bus.names.key(bus.shard_streams(SYMBOL_STREAM)[shard_of("AAPL", 4)])
        await eventually(lambda: _pending(bus, key), lambda n: n == 0, what="b's ack")
        assert b.stats.fenced == 0
    finally:
        gate.set()
        a.stop()
        b.stop()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)


async def _pending(bus: EventBus, key: str) -> int:
    info = await bus.transport.info(key)
    return sum(group.pending for group in info.groups)


async def _ignore(_event: Event, _delivery: Delivery) -> None:
    return None
