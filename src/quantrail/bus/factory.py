"""Building a bus from the config: ``memory`` in one process, ``redis`` across processes."""

from __future__ import annotations

from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.transport import Transport
from quantrail.config import Config
from quantrail.events.streams import StreamNames
from quantrail.runtime.clock import Clock, WallClock


def make_transport(config: Config, clock: Clock | None = None) -> Transport:
    if config.bus.transport == "redis" and config.redis.cluster_nodes:
        from quantrail.bus.cluster import RedisClusterTransport

        return RedisClusterTransport(
            config.redis.cluster_nodes,
            config.redis.socket_timeout_s,
            config.redis.failover_retry_s,
            config.redis,
        )
    if config.bus.transport == "redis":
        from quantrail.bus.redis import RedisTransport

        return RedisTransport(config.redis)
    now = (clock or WallClock()).now_ns
    return MemoryTransport(now_ns=now, mark_capacity=config.bus.consumer.idempotency_lru_size)


def open_bus(config: Config, clock: Clock | None = None) -> EventBus:
    clock = clock or WallClock()
    return EventBus(
        make_transport(config, clock),
        config=config.bus,
        names=StreamNames(config.namespace),
        clock=clock,
        reconnect_backoff_ms=config.redis.reconnect_backoff_ms,
    )
