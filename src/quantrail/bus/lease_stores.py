"""Lease stores: Lua scripts on Redis (one key each, so a cluster takes them), or in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from quantrail.bus.leases import LeaseStore

NS_PER_MS = 1_000_000


class RedisLeaseStore(LeaseStore):
    """Leases on Redis (single node or cluster); every script touches one key."""

    def __init__(
        self, client: Any, errors: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        self._client = client
        self._errors = errors  # the transport's: redis errors as TransportError
        self._acquire: Any = client.register_script(_ACQUIRE)
        self._release: Any = client.register_script(_RELEASE)
        self._heartbeat: Any = client.register_script(_HEARTBEAT)

    async def acquire(self, key: str, owner: str, ttl_ms: int) -> bool:
        async with self._errors():
            taken = await self._acquire(keys=[key], args=[owner, ttl_ms], client=self._client)
        return bool(taken)

    async def release(self, key: str, owner: str) -> None:
        async with self._errors():
            await self._release(keys=[key], args=[owner], client=self._client)

    async def heartbeat(self, key: str, member: str, ttl_ms: int) -> list[str]:
        async with self._errors():
            raw = await self._heartbeat(keys=[key], args=[member, ttl_ms], client=self._client)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in raw)

    async def leave(self, key: str, member: str) -> None:
        async with self._errors():
            await self._client.zrem(key, member)


class MemoryLeaseStore(LeaseStore):
    """Leases between consumers of one process (the memory transport)."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._leases: dict[str, tuple[str, int]] = {}  # key -> (owner, expiry ns)
        self._members: dict[str, dict[str, int]] = {}  # key -> member -> expiry ns

    async def acquire(self, key: str, owner: str, ttl_ms: int) -> bool:
        now = self._now_ns()
        holder = self._leases.get(key)
        if holder is not None and holder[1] > now and holder[0] != owner:
            return False
        self._leases[key] = (owner, now + ttl_ms * NS_PER_MS)
        return True

    async def release(self, key: str, owner: str) -> None:
        holder = self._leases.get(key)
        if holder is not None and holder[0] == owner:
            del self._leases[key]

    async def heartbeat(self, key: str, member: str, ttl_ms: int) -> list[str]:
        now = self._now_ns()
        members = self._members.setdefault(key, {})
        members[member] = now + ttl_ms * NS_PER_MS
        for name in [n for n, expiry in members.items() if expiry <= now]:
            del members[name]
        return sorted(members)

    async def leave(self, key: str, member: str) -> None:
        self._members.get(key, {}).pop(member, None)


# KEYS[1]: the lease; ARGV: owner, ttl ms. Take a free lease or renew our own.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS[1]: the lease; ARGV: owner. Delete it only when we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1]: the members (sorted set scored by expiry ms, server time); ARGV: member, ttl ms.
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
