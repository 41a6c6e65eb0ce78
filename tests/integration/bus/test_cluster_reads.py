"""Reads on the cluster cost one round trip: no COMMAND GETKEYS before each XREADGROUP."""

from __future__ import annotations

from kit.cluster import make_cluster_bus
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
