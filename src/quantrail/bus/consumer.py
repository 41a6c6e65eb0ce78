"""Competing consumers in a group: each entry goes to one consumer of the group.

The delivery rules they share with broadcast readers are in ``consumer_base``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from quantrail.bus.consumer_base import ConsumerBase, ConsumerDeps, Outcome
from quantrail.bus.delivery import Delivery, Handler
from quantrail.bus.keyslot import hash_tag
from quantrail.bus.transport import (
    Ack,
    Entry,
    GroupRead,
    NoGroupError,
    TransportError,
    log_lost_ack,
)
from quantrail.runtime.breaker import CircuitBreaker

log = logging.getLogger("quantrail.bus")


class GroupConsumer(ConsumerBase):
    """One of many competing consumers of a group: each entry goes to one of them."""

    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        handler: Handler,
        name: str,
        group: str,
        breaker: CircuitBreaker | None = None,
        start_id: str = "0",
        idempotent: bool = True,
    ) -> None:
        super().__init__(deps, streams=streams, handler=handler, name=name, breaker=breaker)
        self.group = group
        self._start_id = start_id
        self._idempotent = idempotent
        # A read batch's acks, sent with the next read when the transport folds them into one
        # write (Redis): the same moment as a lone ack, one reply to wait for instead of two.
        self._unsent_acks: list[Ack] = []
        # Marks the transport may check with the read: ``<prefix><key>``, as ``_mark`` makes
        # them where they are not kept in their stream's slot.
        self._mark_prefix: str | None = None
        if idempotent and not deps.transport.colocates_marks:
            self._mark_prefix = deps.names.idempotency_key(group, "")

    async def run(self) -> None:
        """Consume until :meth:`stop`; returns after acking the batch in hand."""
        self.running = True
        loop = asyncio.get_running_loop()
        try:
            await self._ensure_groups()
            await self._drain_own_pending()
            next_claim = loop.time() + self._config.claim_interval_ms / 1000
            while not self._stopping:
                await self._guarded(self._before_read)
                if loop.time() >= next_claim:
                    await self._guarded(self._send_acks)  # before a claim can take them
                    await self._guarded(self._claim_idle)
                    next_claim = loop.time() + self._config.claim_interval_ms / 1000
                await self._guarded(self._read_batch)
            await self._guarded(self._send_acks)  # stopped: the batch in hand is acked
        except BaseException:
            await self._send_acks_once()
            raise
        finally:
            self._watchdog.close()
            self.running = False

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except NoGroupError:
            await self._ensure_groups(recreated=True)
        except TransportError as exc:
            await self._reconnect_wait(exc, 0)

    async def _before_read(self) -> None:
        """A hook run before each read (shard leases renew here)."""

    async def _read_batch(self) -> None:
        if not self._keys:
            # Nothing to read (an instance holding no shard): wait as a blocking read would.
            await self._send_acks()
            await asyncio.sleep(self._config.block_ms / 1000)
            return
        acks, self._unsent_acks = self._unsent_acks, []
        read = GroupRead(
            group=self.group,
            consumer=self.name,
            keys=self._keys,
            count=self._config.batch_size,
            block_ms=self._config.block_ms,
            acks=acks,
            ttl_s=self._config.idempotency_window_s,
            mark_prefix=self._mark_prefix,
        )
        try:
            batch = await self._transport.ack_and_read_new(read)
        except BaseException:
            # Maybe not acked: sent again with the next read (acks and marks are idempotent).
            self._unsent_acks[:0] = acks
            raise
        if batch.entries:
            fold = self._transport.folds_acks_into_reads
            await self._process(batch.entries, None, fold_acks=fold, seen=batch.seen)

    async def _send_acks(self) -> None:
        while self._unsent_acks:
            ack = self._unsent_acks[0]
            await self._ack(ack.stream, ack.ids, ack.marks)
            del self._unsent_acks[0]

    async def _send_acks_once(self) -> None:
        """Cancelled or failed: one try each, no retry. An ack lost here is a redelivery later
        (at least once), as when a consumer dies between handler and ack."""
        acks, self._unsent_acks = self._unsent_acks, []
        for ack in acks:
            with contextlib.suppress(Exception):
                await self._transport.ack(
                    ack.stream, self.group, ack.ids, ack.marks, self._config.idempotency_window_s
                )

    async def _ensure_groups(self, recreated: bool = False) -> None:
        for key in self._keys:
            created = await self._retrying(
                lambda key=key: self._transport.create_group(  # type: ignore[misc]
                    key, self.group, self._start_id if not recreated else "0"
                )
            )
            if created and recreated:
                log.warning(
                    "group %s re-created on %s from id 0 (the stream was lost)",
                    self.group,
                    key,
                    extra={"consumer": self.name},
                )

    async def _drain_own_pending(self) -> None:
        """Take back what a previous run of this consumer read but never acked."""
        for key in self._keys:
            while not self._stopping:
                ids = await self._retrying(
                    lambda key=key: self._transport.pending_ids(  # type: ignore[misc]
                        key, self.group, self.name, self._config.batch_size
                    )
                )
                if not ids:
                    break
                await self._take_over(key, ids)

    async def _take_over(self, key: str, ids: Sequence[str]) -> None:
        entries = await self._retrying(
            lambda: self._transport.claim(key, self.group, self.name, ids)
        )
        present = {entry.entry_id for entry in entries}
        await self._report_trimmed(key, [i for i in ids if i not in present])
        counts = await self._retrying(
            lambda: self._transport.pending_deliveries(key, self.group, list(present))
        )
        await self._process(entries, counts)

    async def _claim_idle(self) -> None:
        for key in self._keys:
            start = "0-0"
            while not self._stopping:
                next_start, entries, deleted = await self._transport.autoclaim(
                    key,
                    self.group,
                    self.name,
                    self._config.claim_idle_ms,
                    start,
                    self._config.batch_size,
                )
                await self._report_trimmed(key, deleted)
                if entries:
                    self.stats.claimed += len(entries)
                    log.info(
                        "claimed %d idle entries on %s",
                        len(entries),
                        key,
                        extra={"consumer": self.name},
                    )
                    counts = await self._transport.pending_deliveries(
                        key, self.group, [e.entry_id for e in entries]
                    )
                    await self._process(entries, counts)
                if next_start == "0-0":
                    break
                start = next_start

    async def _report_trimmed(self, key: str, ids: Sequence[str]) -> None:
        for entry_id in ids:
            await self._dead_letter(
                Entry(key, entry_id, {}),
                "pending entry was trimmed from the stream before it was handled",
                0,
                self._delivery(Entry(key, entry_id, {}), 0),
            )

    def _delivery(self, entry: Entry, deliveries: int, mark: str | None = None) -> Delivery:
        if self._idempotent and mark is None:
            mark = self._mark(entry)
        return Delivery(
            stream=self._logical_name(entry.stream),
            entry_id=entry.entry_id,
            group=self.group,
            consumer=self.name,
            deliveries=deliveries,
            mark=mark if self._idempotent else None,
            mark_ttl_s=self._config.idempotency_window_s,
        )

    def _mark(self, entry: Entry) -> str:
        if entry.event is not None:  # its ``key`` field is this, encoded
            key = entry.event.key or entry.entry_id
        else:
            key = (entry.fields.get(b"key") or entry.entry_id.encode()).decode(errors="replace")
        if self._transport.colocates_marks:
            # In the stream's slot: lost or kept with the entry's ack in a failover, together.
            group = f"{{{hash_tag(entry.stream)}}}:{self.group}"
            return self._names.idempotency_key(group, key)
        return self._names.idempotency_key(self.group, key)

    async def _process(
        self,
        entries: Sequence[Entry],
        counts: dict[str, int] | None,
        fold_acks: bool = False,
        seen: list[bool] | None = None,
    ) -> None:
        """Handle ``entries`` and ack them; ``seen``: their marks, when the read checked them."""
        self.stats.read += len(entries)
        marks: Sequence[str | None] = [None] * len(entries)
        if self._idempotent:
            keys = [self._mark(entry) for entry in entries]
            if seen is None:
                seen = await self._retrying(lambda: self._transport.marks_exist(keys))
            marks = keys
        if seen is None or not self._idempotent:
            seen = [False] * len(entries)
        acks: dict[str, list[str]] = defaultdict(list)
        new_marks: dict[str, list[str]] = defaultdict(list)
        marked_in_batch: set[str] = set()
        for entry, mark, was_seen in zip(entries, marks, seen, strict=True):
            if was_seen or mark in marked_in_batch:
                self.stats.duplicates += 1
                acks[entry.stream].append(entry.entry_id)
                continue
            deliveries = counts.get(entry.entry_id, 1) if counts is not None else 1
            outcome = await self._handle(
                entry, deliveries, self._delivery(entry, deliveries, mark), self._reclaim
            )
            if outcome is Outcome.HANDLED:
                acks[entry.stream].append(entry.entry_id)
                if mark is not None:
                    new_marks[entry.stream].append(mark)
                    marked_in_batch.add(mark)
        for key in acks.keys() | new_marks.keys():
            if fold_acks:
                self._unsent_acks.append(Ack(key, acks[key], new_marks[key]))
            else:
                await self._ack(key, acks[key], new_marks[key])

    async def _ack(self, key: str, ids: list[str], marks: list[str]) -> None:
        ttl_s = self._config.idempotency_window_s
        try:
            await self._retrying(lambda: self._transport.ack(key, self.group, ids, marks, ttl_s))
        except NoGroupError:
            log_lost_ack(self.group, key)

    async def _reclaim(self, entry: Entry) -> bool:
        claimed = await self._retrying(
            lambda: self._transport.claim(entry.stream, self.group, self.name, [entry.entry_id])
        )
        return bool(claimed)
