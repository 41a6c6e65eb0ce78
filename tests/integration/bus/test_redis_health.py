"""The start-up warning for a Redis that keeps nothing on disk, asked of real redis-servers."""

from __future__ import annotations

import pytest

from kit.bus import make_bus
from kit.cluster import make_cluster_bus
from quantrail.bus.redis_health import persistence_of, persistence_warning
from quantrail.ops.redis_cluster import RedisClusterServer
from quantrail.ops.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"appendonly": "yes", "save": ""}, "aof"),
        ({"appendonly": "no", "save": "3600 1 300 100"}, "rdb"),
        ({"appendonly": "no", "save": ""}, "none"),
        ({}, "none"),
    ],
)
def test_persistence_is_read_from_appendonly_and_save(config: dict[str, str], kind: str) -> None:
    assert persistence_of(config) == kind


async def test_a_redis_without_persistence_is_named_in_a_warning(redis_url: str) -> None:
    bus = make_bus("redis", redis_url)  # the suite's private server: no AOF, no snapshots
    try:
        warning = await persistence_warning(bus)
    finally:
        await bus.close()
    assert warning is not None
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    assert f"127.0.0.1:{port} keeps nothing on disk" in warning
    assert "appendonly yes" in warning and "docs/redis_persistence.md" in warning


async def test_a_cluster_without_persistence_is_named_by_its_nodes(
    redis_cluster: RedisClusterServer,
) -> None:
    """The services warn at start on a cluster too (its client has nodes, no single pool)."""
    bus = make_cluster_bus(redis_cluster.startup_nodes)
    try:
        warning = await persistence_warning(bus)
    finally:
        await bus.close()
    assert warning is not None and "keeps nothing on disk" in warning
    assert any(node in warning for node in redis_cluster.startup_nodes)


async def test_a_redis_with_aof_and_the_memory_bus_get_no_warning() -> None:
    with RedisServer(persistent=True) as server:
        bus = make_bus("redis", server.url)
        try:
            assert await persistence_warning(bus) is None
        finally:
            await bus.close()
    memory = make_bus("memory", None)
    assert await persistence_warning(memory) is None
    await memory.close()
