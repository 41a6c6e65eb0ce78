"""Shard leases: the instances of a service share its shards, one holder per shard at a time.

The protocol (``docs/bus.md``, "Shards and leases"):

* every instance of a group heartbeats its membership (a sorted set ``members:<group>``
  scored by expiry, server time) every ``ttl/3``; a member that stops is gone after ``ttl``;
* the live members, sorted by name, split the shards: shard ``i`` is *wanted* by member
  ``i mod n``. Every instance computes the same split from the same member list;
* an instance holds a shard by its lease key (``lease:<group>:{sNN}``, in the shard's own
  slot) set with NX and a TTL, renewed while it is alive; it releases (compare-and-delete) a
  held shard it no longer wants, so a newcomer gets its share at the next renewal;
* a dead holder's leases expire after ``ttl``; the wanting member takes them then and claims
  the dead holder's pending entries of the shard (XAUTOCLAIM after ``claim_idle_ms``);
* **fencing**: every fresh take of a lease increments the shard's fencing counter
  (``fence:<group>:{sNN}``, never expiring, in the shard's slot) and the new value is the
  holder's token. A holder acks (and sets its marks) only through ``fenced_ack``, which checks
  in the same atomic step that it still holds the lease *with that token*: an instance that
  lost its lease during a pause, even one that took it back since, cannot ack what it read
  before; those entries stay pending for the holder to claim.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from quantrail.bus.sharding import shard_tag
from quantrail.events.streams import StreamNames


class LeaseStore(ABC):
    """Where leases and memberships live (Redis, or the memory transport's process)."""

    @abstractmethod
    async def acquire(self, key: str, fence: str, owner: str, ttl_ms: int) -> int:
        """Take the lease when free (a new token: the ``fence`` counter incremented), renew it
        when ``owner`` holds it (its token unchanged); the token, or 0 when another holds it."""

    @abstractmethod
    async def fenced_ack(self, lease: Fence, ack: Ack) -> bool:
        """Ack ``ack`` (its entries and marks, as ``Transport.ack``) only if ``lease`` is still
        held with its token, in one atomic step; False (nothing done) when it is not."""

    @abstractmethod
    async def release(self, key: str, owner: str) -> None:
        """Drop the lease only when ``owner`` still holds it."""

    @abstractmethod
    async def heartbeat(self, key: str, member: str, ttl_ms: int) -> list[str]:
        """Keep ``member`` alive for ``ttl_ms``; the live members, sorted."""

    @abstractmethod
    async def leave(self, key: str, member: str) -> None:
        """Remove ``member`` at once (a clean stop)."""


@dataclass(frozen=True, slots=True)
class Fence:
    """A held lease as its holder saw it when it took it: the check before an ack."""

    key: str
    fence: str
    owner: str
    token: int


@dataclass(frozen=True, slots=True)
class Ack:
    """What ``Transport.ack`` takes: a stream's entry ids and marks, with the marks' TTL."""

    stream: str
    group: str
    ids: Sequence[str]
    marks: Sequence[str]
    ttl_s: int


def wanted_shards(members: list[str], me: str, shards: int) -> set[int]:
    """The shards ``me`` should hold: shard i goes to the (i mod n)-th live member by name."""
    ordered = sorted(set(members) | {me})
    index = ordered.index(me)
    return {i for i in range(shards) if i % len(ordered) == index}


@dataclass
class ShardLeases:
    """One instance's leases on the shards of one group."""

    store: LeaseStore
    names: StreamNames
    group: str
    member: str
    shards: int
    ttl_ms: int
    held: set[int] = field(default_factory=set)
    tokens: dict[int, int] = field(default_factory=dict)
    """The fencing token of each held shard (see the module doc)."""
    monotonic: Callable[[], float] = time.monotonic
    _next_refresh: float = 0.0

    def lease_key(self, index: int) -> str:
        return self.names.key(f"lease:{self.group}:{{{shard_tag(index)}}}")

    def fence_key(self, index: int) -> str:
        return self.names.key(f"fence:{self.group}:{{{shard_tag(index)}}}")

    def fence(self, index: int) -> Fence | None:
        """The lease of shard ``index`` as held now (None: not held)."""
        token = self.tokens.get(index)
        if token is None:
            return None
        return Fence(self.lease_key(index), self.fence_key(index), self.member, token)

    @property
    def members_key(self) -> str:
        return self.names.key(f"members:{self.group}")

    def due(self) -> bool:
        return self.monotonic() >= self._next_refresh

    async def refresh(self) -> set[int]:
        """Heartbeat, let go of what others should hold, take or renew what we should."""
        self._next_refresh = self.monotonic() + self.ttl_ms / 3000
        members = await self.store.heartbeat(self.members_key, self.member, self.ttl_ms)
        wanted = wanted_shards(members, self.member, self.shards)
        # All at once: a refresh sits between two reads of the consumer, so its round trips
        # are latency for every event behind it.
        await asyncio.gather(
            *(self.store.release(self.lease_key(i), self.member) for i in self.held - wanted)
        )
        ordered = sorted(wanted)
        tokens = await asyncio.gather(
            *(
                self.store.acquire(self.lease_key(i), self.fence_key(i), self.member, self.ttl_ms)
                for i in ordered
            )
        )
        self.tokens = {index: token for index, token in zip(ordered, tokens, strict=True) if token}
        self.held = set(self.tokens)
        return set(self.held)

    async def leave(self) -> None:
        """A clean stop: release every lease and the membership, so others take over now."""
        for index in sorted(self.held):
            await self.store.release(self.lease_key(index), self.member)
        self.held, self.tokens = set(), {}
        await self.store.leave(self.members_key, self.member)
