"""Reads on the cluster: one round trip (no COMMAND GETKEYS before each XREADGROUP), and the
reads of one consumer never answered to another of the same group and name."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kit.cluster import make_cluster_bus
from kit.poll import eventually
from quantrail.bus.cluster import slot_of
from quantrail.ops.redis_cluster import RedisClusterServer


async def test_a_group_read_asks_no_getkeys(redis_cluster: RedisClusterServer) -> None:
    bus = make_cluster_bus(redis_cluster.startup_nodes)
    keys = {bus.names.key("t.x:{s01}"): ">", bus.names.key("t.y:{s01}"): ">"}
    try:
        for key in keys:
            await bus.transport.create_group(key, "g")
        before = redis_cluster.command_calls("command|getkeys")
        reads = redis_cluster.command_calls("xreadgroup")
        for _ in range(20):
            await bus.transport.read_group("g", "c", keys, 10, 0)
        assert redis_cluster.command_calls("xreadgroup") - reads == 20
        assert redis_cluster.command_calls("command|getkeys") == before
    finally:
        await bus.close()


async def test_two_consumers_of_one_group_and_name_keep_their_own_reads(
    redis_cluster: RedisClusterServer,
) -> None:
    """A service's subscriptions are consumers of one group with one consumer name (execution:
    orders on two streams, session on a third). A session read left in flight that answers is
    never taken by the orders consumer, which would hand a tick to the order handler."""
    bus = make_cluster_bus(redis_cluster.startup_nodes)
    transport: Any = bus.transport
    session = bus.names.key("session.clock")
    orders = {bus.names.key("trades.intent"): ">", bus.names.key("trades.request"): ">"}
    assert len({slot_of(key) for key in (session, *orders)}) == 3
    name = ("execution", "execution-t")
    try:
        for key in (session, *orders):
            await transport.create_group(key, "execution")
        orders_read = asyncio.create_task(transport.read_group(*name, orders, 10, 5_000))
        # The session consumer's call ends (it is stopping) with its read still in flight.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(transport.read_group(*name, {session: ">"}, 10, 5_000), 0.3)
        await transport.add([(session, {"kind": "tick"})], {})
        in_flight = transport._reads._in_flight
        left = ("group", *name, (session,))
        await eventually(lambda: left in in_flight and in_flight[left].done(), what="answered")
        await transport.add([(next(iter(orders)), {"kind": "intent"})], {})
        assert {e.stream for e in await orders_read} == {next(iter(orders))}
        again = await transport.read_group(*name, orders, 10, 200)
        assert again == []  # the session's answered read is not the orders consumer's
        ticks = await transport.read_group(*name, {session: ">"}, 10, 200)
        assert [e.stream for e in ticks] == [session]
    finally:
        await bus.close()
