"""Consumers: competing consumers in a group, and broadcast readers.

Delivery is at-least-once; effects are made exactly-once with idempotency marks:

* on start a consumer first takes back its own pending entries (a previous run of it died),
  then reads new ones; entries idle too long on a dead consumer are claimed (XAUTOCLAIM);
* an entry is acked only after its handler returned, together with its idempotency mark
  (one atomic round trip per batch); a redelivered entry whose mark is set is acked unhandled;
* a failing handler is retried with backoff (default 100, 500, 2000 ms), each retry a counted
  delivery; after ``max_deliveries`` the entry goes to the dead-letter stream with its error and
  is acked at the source; a payload that does not decode goes there at once;
* a lost connection is waited out with backoff; a group that vanished (Redis restarted without
  persistence) is re-created from id ``0`` so nothing published after the restart is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from quantrail.bus.deadletter import dead_letter_fields
from quantrail.bus.delivery import Delivery, Handler
from quantrail.bus.stats import ConsumerStats
from quantrail.bus.transport import Entry, NoGroupError, Transport, TransportError
from quantrail.bus.watchdog import HandlerWatchdog
from quantrail.config import ConsumerConfig, Retention
from quantrail.events.codec import Codec
from quantrail.events.errors import EventDecodeError
from quantrail.events.streams import DEADLETTER, StreamNames
from quantrail.runtime.breaker import CircuitBreaker
from quantrail.runtime.clock import Clock

log = logging.getLogger("quantrail.bus")
T = TypeVar("T")


class Outcome(enum.Enum):
    HANDLED = "handled"
    DEAD_LETTERED = "dead_lettered"
    RELEASED = "released"  # left pending, not handled (stopping, or another consumer took it)


@dataclass(frozen=True, slots=True)
class ConsumerDeps:
    """What every consumer of one bus shares."""

    transport: Transport
    codec: Codec
    names: StreamNames
    config: ConsumerConfig
    clock: Clock
    dlq_retention: Retention
    reconnect_backoff_ms: Sequence[int] = (100, 500, 2000, 5000)


class _ConsumerBase:
    """What group and broadcast consumers share: handling with retries, dead letters, stop."""

    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        handler: Handler,
        name: str,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if not streams:
            raise ValueError("a consumer needs at least one stream")
        self._transport = deps.transport
        self._codec = deps.codec
        self._names = deps.names
        self._config = deps.config
        self._clock = deps.clock
        self._dlq_retention = deps.dlq_retention
        self._reconnect_backoff_ms = list(deps.reconnect_backoff_ms) or [1000]
        self._keys = [deps.names.key(stream) for stream in streams]
        self._dlq_key = deps.names.key(DEADLETTER)
        self._handler = handler
        self.name = name
        self.breaker = breaker
        self.stats = ConsumerStats()
        self._watchdog = HandlerWatchdog(deps.config.handler_timeout_s)
        self._stopping = False
        self.running = False

    def stop(self) -> None:
        """Ask the consumer to stop: it finishes and acks the batch in hand, then returns."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    # --- transport calls that survive a lost connection ---------------------------------------
    async def _retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await operation()
            except NoGroupError:
                raise
            except TransportError as exc:
                if self._stopping and attempt >= len(self._reconnect_backoff_ms):
                    raise
                await self._reconnect_wait(exc, attempt)
                attempt += 1

    async def _reconnect_wait(self, exc: BaseException, attempt: int) -> None:
        delay_ms = self._reconnect_backoff_ms[min(attempt, len(self._reconnect_backoff_ms) - 1)]
        self.stats.reconnects += 1
        log.warning(
            "transport unavailable, retrying in %d ms: %s",
            delay_ms,
            exc,
            extra={"consumer": self.name},
        )
        await asyncio.sleep(delay_ms / 1000)

    # --- handling ----------------------------------------------------------------------------
    async def _handle(
        self,
        entry: Entry,
        deliveries: int,
        delivery: Delivery,
        reclaim: Callable[[Entry], Awaitable[bool]],
    ) -> Outcome:
        max_deliveries = self._config.max_deliveries
        if deliveries > max_deliveries:
            reason = f"delivered {deliveries} times without an ack (a consumer died handling it)"
            await self._dead_letter(entry, reason, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        if not entry.fields:
            reason = "entry was deleted from the stream (trimmed) before it was handled"
            await self._dead_letter(entry, reason, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        try:
            event = self._codec.from_fields(entry.fields)
        except EventDecodeError as exc:
            await self._dead_letter(entry, exc, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        while True:
            if not await self._breaker_allows():
                return Outcome.RELEASED
            try:
                await self._watchdog.run(self._handler(event, delivery))
            except asyncio.CancelledError:
                raise
            except TransportError as exc:
                # The handler's own I/O lost the connection: not the event's fault, no count.
                await self._reconnect_wait(exc, 0)
                if self._stopping:
                    return Outcome.RELEASED
                continue
            except Exception as exc:
                self._record_failure(exc, event.kind, event.event_id, deliveries)
                if deliveries >= max_deliveries:
                    await self._dead_letter(entry, exc, deliveries, delivery)
                    return Outcome.DEAD_LETTERED
                backoff = self._config.backoff_ms
                await self._clock.sleep(backoff[min(deliveries - 1, len(backoff) - 1)] / 1000)
                if not await reclaim(entry):
                    return Outcome.RELEASED
                deliveries += 1
                delivery = replace(delivery, deliveries=deliveries)
                self.stats.retried += 1
                continue
            if self.breaker is not None:
                self.breaker.record_success()
            self.stats.handled += 1
            self.stats.last_activity_ns = self._clock.now_ns()
            return Outcome.HANDLED

    def _record_failure(self, exc: Exception, kind: str, event_id: str, deliveries: int) -> None:
        self.stats.failed += 1
        if self.breaker is not None:
            self.breaker.record_failure()
        log.warning(
            "handler failed (delivery %d): %s: %s",
            deliveries,
            type(exc).__name__,
            exc,
            extra={"consumer": self.name, "event_id": event_id, "kind": kind},
        )

    async def _breaker_allows(self) -> bool:
        """Wait while the breaker is open; False when asked to stop meanwhile."""
        while self.breaker is not None and (wait_s := self.breaker.seconds_until_trial()) > 0:
            if self._stopping:
                return False
            await self._clock.sleep(min(wait_s, 0.5))
        return True

    async def _dead_letter(
        self, entry: Entry, error: BaseException | str, deliveries: int, delivery: Delivery
    ) -> None:
        fields = dead_letter_fields(
            entry,
            stream=self._names.logical(entry.stream),
            group=delivery.group,
            consumer=delivery.consumer,
            error=error,
            deliveries=deliveries,
            ts_ns=self._clock.now_ns(),
        )
        group = delivery.group or ""
        # NoGroupError: the dead letter is written; the group (and its pending list) is gone.
        with contextlib.suppress(NoGroupError):
            await self._retrying(
                lambda: self._transport.dead_letter(
                    entry.stream, group, entry.entry_id, self._dlq_key, fields, self._dlq_retention
                )
            )
        self.stats.dead_lettered += 1
        log.error(
            "dead-lettered %s after %d deliveries: %s",
            entry.entry_id,
            deliveries,
            error,
            extra={"consumer": self.name, "stream": entry.stream},
        )


class GroupConsumer(_ConsumerBase):
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

    async def run(self) -> None:
        """Consume until :meth:`stop`; returns after acking the batch in hand."""
        self.running = True
        loop = asyncio.get_running_loop()
        try:
            await self._ensure_groups()
            await self._drain_own_pending()
            next_claim = loop.time() + self._config.claim_interval_ms / 1000
            while not self._stopping:
                if loop.time() >= next_claim:
                    await self._guarded(self._claim_idle)
                    next_claim = loop.time() + self._config.claim_interval_ms / 1000
                await self._guarded(self._read_batch)
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

    async def _read_batch(self) -> None:
        entries = await self._transport.read_group(
            self.group,
            self.name,
            {key: ">" for key in self._keys},
            self._config.batch_size,
            self._config.block_ms,
        )
        if entries:
            await self._process(entries, None)

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
            stream=self._names.logical(entry.stream),
            entry_id=entry.entry_id,
            group=self.group,
            consumer=self.name,
            deliveries=deliveries,
            mark=mark if self._idempotent else None,
            mark_ttl_s=self._config.idempotency_window_s,
        )

    def _mark(self, entry: Entry) -> str:
        key = entry.fields.get(b"key") or entry.entry_id.encode()
        return self._names.idempotency_key(self.group, key.decode(errors="replace"))

    async def _process(self, entries: Sequence[Entry], counts: dict[str, int] | None) -> None:
        self.stats.read += len(entries)
        marks = [self._mark(entry) for entry in entries]
        if self._idempotent:
            seen = await self._retrying(lambda: self._transport.marks_exist(marks))
        else:
            seen = [False] * len(entries)
        acks: dict[str, list[str]] = defaultdict(list)
        new_marks: dict[str, list[str]] = defaultdict(list)
        marked_in_batch: set[str] = set()
        for entry, mark, was_seen in zip(entries, marks, seen, strict=True):
            if was_seen or (self._idempotent and mark in marked_in_batch):
                self.stats.duplicates += 1
                acks[entry.stream].append(entry.entry_id)
                continue
            deliveries = counts.get(entry.entry_id, 1) if counts is not None else 1
            outcome = await self._handle(
                entry, deliveries, self._delivery(entry, deliveries, mark), self._reclaim
            )
            if outcome is Outcome.HANDLED:
                acks[entry.stream].append(entry.entry_id)
                if self._idempotent:
                    new_marks[entry.stream].append(mark)
                    marked_in_batch.add(mark)
        for key in acks.keys() | new_marks.keys():
            await self._ack(key, acks[key], new_marks[key])

    async def _ack(self, key: str, ids: list[str], marks: list[str]) -> None:
        ttl_s = self._config.idempotency_window_s
        try:
            await self._retrying(lambda: self._transport.ack(key, self.group, ids, marks, ttl_s))
        except NoGroupError:
            log.warning("group %s vanished before its ack on %s", self.group, key)

    async def _reclaim(self, entry: Entry) -> bool:
        claimed = await self._retrying(
            lambda: self._transport.claim(entry.stream, self.group, self.name, [entry.entry_id])
        )
        return bool(claimed)


class BroadcastConsumer(_ConsumerBase):
    """Every instance receives every entry (kill switch): XREAD from a position, no group."""

    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        handler: Handler,
        name: str,
        breaker: CircuitBreaker | None = None,
        start: str = "$",
    ) -> None:
        super().__init__(deps, streams=streams, handler=handler, name=name, breaker=breaker)
        self._start = start
        self.positions: dict[str, str] = {}

    async def run(self) -> None:
        self.running = True
        try:
            for key in self._keys:
                if key not in self.positions:
                    self.positions[key] = (
                        await self._retrying(lambda key=key: self._transport.last_id(key))  # type: ignore[misc]
                        if self._start == "$"
                        else self._start
                    )
            while not self._stopping:
                try:
                    entries = await self._transport.read(
                        dict(self.positions), self._config.batch_size, self._config.block_ms
                    )
                except TransportError as exc:
                    await self._reconnect_wait(exc, 0)
                    continue
                for entry in entries:
                    self.stats.read += 1
                    delivery = Delivery(
                        stream=self._names.logical(entry.stream),
                        entry_id=entry.entry_id,
                        group=None,
                        consumer=self.name,
                        deliveries=1,
                        mark=None,
                        mark_ttl_s=0,
                    )
                    await self._handle(entry, 1, delivery, _always)
                    self.positions[entry.stream] = entry.entry_id
        finally:
            self._watchdog.close()
            self.running = False


async def _always(_entry: Entry) -> bool:
    return True
