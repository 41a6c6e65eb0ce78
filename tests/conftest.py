"""Suite-wide fixtures: a private redis-server for the whole session, a bus per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kit.bus import make_bus
from kit.cluster import redis_cluster, three_way_bus  # noqa: F401  (Redis Cluster fixtures)
from kit.shards import sharded_bus  # noqa: F401  (four shards on Redis and the cluster)
from quantrail.bus.bus import EventBus
from quantrail.ops.redis_server import RedisServer, RedisServerError


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on a free port (never one the user runs)."""
    try:
        server = RedisServer().start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of one test alone, for tests that kill it or restart it (empty, or
    from its AOF); the session's ``redis_server`` is shared and must not be touched."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """The same bus API on both transports; every test gets its own namespace."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    event_bus = make_bus(request.param, url)
    yield event_bus
    await event_bus.close()
