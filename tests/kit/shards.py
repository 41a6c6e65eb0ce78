"""Buses with ``bus.shards: 4`` and symbols that land one on each shard (cursor readers' tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kit.bus import make_bus
from kit.cluster import make_cluster_bus, shard_bus
from quantrail.bus.bus import EventBus
from quantrail.bus.sharding import shard_of

SHARDS = 4
SPREAD = ("AAPL", "XOM", "QBK", "PFA")
"""One symbol per shard of four: CRC-32 puts AAPL on 0, XOM on 1, QBK on 2, PFA on 3."""


@pytest.fixture(params=["redis", "cluster"])
async def sharded_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """A four-shard bus on the private single Redis, then on the private Redis Cluster."""
    if request.param == "cluster":
        bus = sharded_cluster_bus(request.getfixturevalue("redis_cluster").startup_nodes)
    else:
        bus = sharded_redis_bus(request.getfixturevalue("redis_url"))
    yield bus
    await bus.close()


def sharded_redis_bus(redis_url: str) -> EventBus:
    """A bus on the private single Redis, sharded four ways, its own namespace."""
    return checked(shard_bus(make_bus("redis", redis_url), SHARDS))


def sharded_cluster_bus(startup_nodes: list[str]) -> EventBus:
    """A bus on the private Redis Cluster, sharded four ways, its own namespace."""
    return checked(shard_bus(make_cluster_bus(startup_nodes), SHARDS))


def checked(bus: EventBus) -> EventBus:
    # The tests' point is symbols on different shards: a change of the hash must fail here.
    assert [shard_of(symbol, SHARDS) for symbol in SPREAD] == [0, 1, 2, 3]
    return bus


async def shard_keys_written(bus: EventBus, stream: str) -> list[str]:
    """The shard streams of ``stream`` that hold entries."""
    return [s for s in bus.shard_streams(stream) if await bus.read_range(s, count=1)]
