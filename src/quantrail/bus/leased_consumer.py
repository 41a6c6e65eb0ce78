"""A group consumer of sharded streams that reads only the shards it holds a lease on.

Its unsharded streams it reads as any group consumer. Its shards it shares with the other
instances of its group through :class:`~quantrail.bus.leases.ShardLeases`: before each read it
renews its leases when due (every ``ttl/3``) and reads the shards it holds now. Groups are
created on every shard at start, so a shard taken over later has its group from id ``0``.

It acks a shard's entries only through the lease's fence (``ShardLeases.fence``): leases are
renewed between batches, never during one, so the token checked at the ack is the one the
batch was read under. A lease lost meanwhile (a pause longer than the TTL) refuses the ack;
the entries stay pending and the shard's holder claims them (``stats.fenced`` counts them,
with the entries of a shard no longer held that a read in flight still delivered: those are
not handled here at all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from quantrail.bus.consumer import GroupConsumer
from quantrail.bus.consumer_base import ConsumerDeps
from quantrail.bus.delivery import Handler
from quantrail.bus.leases import Ack, ShardLeases
from quantrail.bus.sharding import Sharding, shard_index
from quantrail.bus.transport import Entry, NoGroupError
from quantrail.runtime.breaker import CircuitBreaker

log = logging.getLogger("quantrail.bus")


class LeasedGroupConsumer(GroupConsumer):
    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        sharding: Sharding,
        leases: ShardLeases,
        handler: Handler,
        name: str,
        group: str,
        breaker: CircuitBreaker | None = None,
        start_id: str = "0",
        idempotent: bool = True,
    ) -> None:
        super().__init__(
            deps,
            streams=sharding.expand(streams),
            handler=handler,
            name=name,
            group=group,
            breaker=breaker,
            start_id=start_id,
            idempotent=idempotent,
        )
        self._logical = list(streams)
        self._sharding = sharding
        self.leases = leases

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            try:
                await self.leases.leave()
            except Exception as exc:  # the leases expire by themselves after their TTL
                log.warning("could not release shard leases of %s: %s", self.name, exc)

    async def _drain_own_pending(self) -> None:
        # Leases first: what a previous run left pending is taken back on the shards held now;
        # the others' holders claim theirs.
        await self._guarded(self._before_read)
        await super()._drain_own_pending()

    async def _process(
        self,
        entries: Sequence[Entry],
        counts: dict[str, int] | None,
        fold_acks: bool = False,
        seen: list[bool] | None = None,
    ) -> None:
        # A read that was in flight when its shard moved (bus/slot_reads.py keeps those) may
        # deliver entries of a shard no longer held: they are left pending for its holder to
        # claim, not handled here (their ack would be refused: handled twice).
        held = [at for at, entry in enumerate(entries) if self._holds(entry.stream)]
        if len(held) < len(entries):
            self._left_for_holder(len(entries) - len(held), "not held")
        if held:
            mine = [entries[at] for at in held]
            marks_seen = None if seen is None else [seen[at] for at in held]
            # Never folded into the next read: every ack goes through ``_ack``, the fence.
            await super()._process(mine, counts, fold_acks=False, seen=marks_seen)

    def _holds(self, key: str) -> bool:
        index = shard_index(key)
        return index is None or index in self.leases.held

    def _left_for_holder(self, count: int, why: str) -> None:
        self.stats.fenced += count
        log.warning(
            "%d entries of %s left pending for their shard's holder (%s)",
            count,
            self.group,
            why,
            extra={"consumer": self.name},
        )

    async def _ack(self, key: str, ids: list[str], marks: list[str]) -> None:
        index = shard_index(key)
        if index is None:  # an unsharded stream of this consumer: no lease to check
            await super()._ack(key, ids, marks)
            return
        lease = self.leases.fence(index)
        ack = Ack(key, self.group, ids, marks, self._config.idempotency_window_s)
        try:
            done = lease is not None and await self._retrying(
                lambda: self.leases.store.fenced_ack(lease, ack)
            )
        except NoGroupError:  # as GroupConsumer._ack: the group re-created on the next read
            log.warning("group %s vanished before its ack on %s", self.group, key)
            return
        if not done:
            self._left_for_holder(len(ids), f"lease of shard {index} lost: ack refused")

    async def _before_read(self) -> None:
        if not self.leases.due():
            return
        before = set(self.leases.held)
        held = await self.leases.refresh()
        self._keys = [self._names.key(s) for s in self._sharding.expand(self._logical, held)]
        if held != before:
            log.info(
                "shards of %s held now: %s",
                self.group,
                sorted(held),
                extra={"consumer": self.name},
            )
            if held - before:
                # A shard taken over: its previous holder's pending entries are claimed at once.
                await self._claim_idle()
