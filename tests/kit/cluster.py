"""A private Redis Cluster for the suite (3 masters, 3 replicas) and buses on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest

from kit.bus import TEST_CODEC, Ping, fast_consumer_config, make_bus, new_namespace
from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import RedisClusterTransport
from quantrail.bus.leased_consumer import LeasedGroupConsumer
from quantrail.bus.leases import Ack, Fence, LeaseStore
from quantrail.bus.sharding import SHARDED_STREAMS, Sharding
from quantrail.bus.transport import TransportError
from quantrail.config import BusConfig
from quantrail.events.base import Event
from quantrail.events.catalog import ALL_EVENTS
from quantrail.events.codec import Codec
from quantrail.events.streams import StreamNames
from quantrail.ops.redis_cluster import RedisClusterServer
from quantrail.ops.redis_server import RedisServerError


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServer]:
    """Started once per session on free loopback ports; every node stopped by its pid."""
    cluster = RedisClusterServer(masters=3, replicas=1)
    try:
        cluster.start()
    except RedisServerError as exc:
        cluster.stop()
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def three_way_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """A bus on memory, a single Redis and the Redis Cluster; its own namespace each time."""
    if request.param == "cluster":
        cluster: RedisClusterServer = request.getfixturevalue("redis_cluster")
        event_bus = make_cluster_bus(cluster.startup_nodes)
    else:
        url = request.getfixturevalue("redis_url") if request.param == "redis" else None
        event_bus = make_bus(request.param, url)
    yield event_bus
    await event_bus.close()


def make_cluster_bus(
    startup_nodes: list[str], namespace: str | None = None, failover_retry_s: float = 20.0
) -> EventBus:
    """A bus on the cluster with the suite's fast consumer timings and its own namespace."""
    return EventBus(
        RedisClusterTransport(startup_nodes, failover_retry_s=failover_retry_s),
        config=BusConfig(consumer=fast_consumer_config()),
        names=StreamNames(namespace or new_namespace()),
        codec=TEST_CODEC,
        reconnect_backoff_ms=(20, 50, 100, 200),
    )


class SymbolPing(Event, frozen=True, kw_only=True, tag="test.symbol.sent"):
    """A test event on a stream sharded by symbol."""

    symbol: str
    seq: int


SYMBOL_STREAM = "test.symbol"
SHARD_CODEC = Codec((*ALL_EVENTS, Ping, SymbolPing))


def shard_bus(bus: EventBus, shards: int, lease_ttl_ms: int = 10_000) -> EventBus:
    """``bus`` sharded ``shards`` ways, with the test stream among the sharded ones."""
    bus.codec = SHARD_CODEC
    bus.config = msgspec.structs.replace(bus.config, shards=shards, lease_ttl_ms=lease_ttl_ms)
    bus.sharding = Sharding(shards, SHARDED_STREAMS | {SYMBOL_STREAM})
    return bus


class _GoneStore(LeaseStore):
    """The lease store of a crashed instance: nothing it sends arrives any more."""

    async def acquire(self, key: str, fence: str, owner: str, ttl_ms: int) -> int:
        raise TransportError("crashed")

    async def fenced_ack(self, lease: Fence, ack: Ack) -> bool:
        raise TransportError("crashed")

    async def release(self, key: str, owner: str) -> None:
        raise TransportError("crashed")

    async def heartbeat(self, key: str, member: str, ttl_ms: int) -> list[str]:
        raise TransportError("crashed")

    async def leave(self, key: str, member: str) -> None:
        raise TransportError("crashed")


async def crash(consumer: LeasedGroupConsumer, task: asyncio.Task[None]) -> None:
    """Stop ``consumer`` as a crash would: no lease released, its pending entries left."""
    consumer.leases.store = _GoneStore()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
