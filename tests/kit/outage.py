"""A Redis outage that loses nothing: a private redis-server with an append-only file.

``kill()`` then ``start()`` on the same port is an outage the services must ride out; with AOF
synced on every write the server comes back with everything it held, so a test can count what
was published exactly once. Import the fixtures into a test module to use them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kit.bus import make_bus
from quantrail.bus.bus import EventBus
from quantrail.ops.redis_server import RedisServer


@pytest.fixture
def persistent_redis() -> Iterator[RedisServer]:
    """A redis-server of this test alone that keeps its data across a kill -9 (AOF)."""
    server = RedisServer(persistent=True).start()
    yield server
    server.stop()


@pytest.fixture
async def outage_bus(persistent_redis: RedisServer) -> AsyncIterator[EventBus]:
    """A bus on ``persistent_redis`` (its own namespace)."""
    bus = make_bus("redis", persistent_redis.url)
    yield bus
    await bus.close()
