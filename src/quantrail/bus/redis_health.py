"""Does the Redis behind the bus keep what it holds across a restart?

A Redis without persistence (neither AOF nor RDB snapshots, the way many install it) comes back
from a crash empty: streams, consumer groups and the order registry are gone. The services
detect that and repair what they can (``docs/redis_persistence.md``), but production should run
Redis with AOF. ``persistence_warning`` says so at start; it never stops a service.
"""

from __future__ import annotations

import logging
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport

log = logging.getLogger("quantrail.bus")

NO_PERSISTENCE = (
    "Redis at {where} keeps nothing on disk (appendonly no, save ''): a crash or restart "
    "empties it. The services recover (docs/redis_persistence.md) but production should run "
    "Redis with AOF: appendonly yes, appendfsync everysec or always"
)


def persistence_of(config: dict[str, str]) -> str:
    """``aof``, ``rdb`` or ``none`` from ``CONFIG GET appendonly`` and ``CONFIG GET save``."""
    if config.get("appendonly", "no").lower() == "yes":
        return "aof"
    if config.get("save", "").strip():
        return "rdb"
    return "none"


async def persistence_warning(bus: EventBus) -> str | None:
    """The warning for a Redis that keeps nothing on disk; None when it persists, when the bus
    is in process, or when Redis does not let us ask (CONFIG is often renamed away)."""
    transport = bus.transport
    if not isinstance(transport, RedisTransport):
        return None
    client: Any = transport.client
    try:
        found: dict[str, str] = {}
        for name in ("appendonly", "save"):
            reply = await client.config_get(name)
            found.update({_text(key): _text(value) for key, value in reply.items()})
    except Exception as exc:  # an unreachable Redis is reported by the services themselves
        log.info("Redis persistence not checked (CONFIG GET refused or failed): %s", exc)
        return None
    if persistence_of(found) != "none":
        return None
    return NO_PERSISTENCE.format(where=_where_of(client))


def _where_of(client: Any) -> str:
    """Where the client talks to: a cluster client has nodes, not one connection pool."""
    if hasattr(client, "get_nodes"):  # redis-py's RedisCluster
        return ",".join(sorted(f"{node.host}:{node.port}" for node in client.get_nodes()))
    return _where(client.connection_pool.connection_kwargs)


async def warn_if_not_persistent(bus: EventBus) -> None:
    """Log the warning once at start (the one line ``quantrail up``/``service`` call)."""
    warning = await persistence_warning(bus)
    if warning is not None:
        log.warning("%s", warning)


def _where(kwargs: dict[str, Any]) -> str:
    """Host and port (or the socket path), never the password the URL may carry."""
    if kwargs.get("path"):
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
