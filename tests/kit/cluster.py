"""A private Redis Cluster for the suite (3 masters, 3 replicas) and buses on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit.bus import TEST_CODEC, fast_consumer_config, new_namespace
from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import RedisClusterTransport
from quantrail.config import BusConfig
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
