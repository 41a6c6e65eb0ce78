"""Lease stores: Lua scripts on Redis (one slot each, so a cluster takes them), or in-process.

The fencing counter and the lease of a shard carry its hash tag (``{sNN}``), as do the shard's
streams and, on a cluster, their marks: the fenced ack is one script in one slot."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from quantrail.bus.leases import Ack, Fence, LeaseStore

NS_PER_MS = 1_000_000


class RedisLeaseStore(LeaseStore):
    """Leases on Redis (single node or cluster); every script touches one key."""

    def __init__(
        self, client: Any, errors: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        self._client = client
        self._errors = errors  # the transport's: redis errors as TransportError
        self._acquire: Any = client.register_script(_ACQUIRE)
        self._fenced_ack: Any = client.register_script(_FENCED_ACK)
        self._release: Any = client.register_script(_RELEASE)
        self._heartbeat: Any = client.register_script(_HEARTBEAT)

    async def acquire(self, key: str, fence: str, owner: str, ttl_ms: int) -> int:
        async with self._errors():
            token = await self._acquire(
                keys=[key, fence], args=[owner, ttl_ms], client=self._client
            )
        return int(token)

    async def fenced_ack(self, lease: Fence, ack: Ack) -> bool:
        keys = [lease.key, lease.fence, *ack.marks, ack.stream]
        args = [lease.owner, lease.token, max(ack.ttl_s, 1), ack.group, *ack.ids]
        async with self._errors():
            done = await self._fenced_ack(keys=keys, args=args, client=self._client)
        return bool(done)

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


AckFn = Callable[[str, str, Sequence[str], Sequence[str], int], Awaitable[None]]


class MemoryLeaseStore(LeaseStore):
    """Leases between consumers of one process (the memory transport, whose ``ack`` it takes:
    the check and the ack run with no await between them, so nothing comes in between)."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns, ack: AckFn | None = None) -> None:
        self._now_ns = now_ns
        self._ack = ack
        self._leases: dict[str, tuple[str, int]] = {}  # key -> (owner, expiry ns)
        self._fences: dict[str, int] = {}  # fence key -> last token given
        self._members: dict[str, dict[str, int]] = {}  # key -> member -> expiry ns

    async def acquire(self, key: str, fence: str, owner: str, ttl_ms: int) -> int:
        now = self._now_ns()
        holder = self._leases.get(key)
        if holder is not None and holder[1] > now and holder[0] != owner:
            return 0
        if holder is None or holder[1] <= now:  # a fresh take: a new token
            self._fences[fence] = self._fences.get(fence, 0) + 1
        self._leases[key] = (owner, now + ttl_ms * NS_PER_MS)
        return self._fences[fence]

    async def fenced_ack(self, lease: Fence, ack: Ack) -> bool:
        if self._ack is None:
            raise RuntimeError("this lease store was made without the transport's ack")
        holder = self._leases.get(lease.key)
        held = holder is not None and holder[0] == lease.owner and holder[1] > self._now_ns()
        if not held or self._fences.get(lease.fence) != lease.token:
            return False
        await self._ack(ack.stream, ack.group, ack.ids, ack.marks, ack.ttl_s)
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


# KEYS: the lease, its fencing counter; ARGV: owner, ttl ms. Take a free lease (a new token)
# or renew our own (its token); 0 when another holds it. The counter never expires: a counter
# that started again at 1 would give a stalled holder's old token to someone else.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return redis.call('INCR', KEYS[2])
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0
"""

# KEYS: the lease, its fencing counter, the marks, the stream; ARGV: owner, token, mark TTL,
# group, entry ids. The bus's ack-and-mark (bus/redis.py ACK_AND_MARK) behind the fence check.
_FENCED_ACK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return 0
end
local stream = KEYS[#KEYS]
for i = 3, #KEYS - 1 do
  redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[3])
end
if #ARGV > 4 then
  redis.call('XACK', stream, ARGV[4], unpack(ARGV, 5))
end
return 1
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
