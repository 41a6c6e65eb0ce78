"""The in-process transport: Redis Streams semantics in one process, for demo and simulation.

It is a product transport, not a mock: consumer groups, pending lists with delivery counts,
claims, blocking reads, trimming, idempotency marks with TTL (bounded LRU) and latest-state
hashes, all behaving as the Redis transport does (one conformance suite runs on both).

Each stored entry is kept as the ``Entry`` its readers receive (read-only, shared by all of
them, as Redis hands every reader the same bytes). An event published through the ``EventBus``
that ``Codec.shareable`` allows keeps its object in the entry (``add_events``): readers take it
without decoding, and its fields are encoded only if somebody reads them raw (tail, dead
letters, replay). ``caught_up`` and ``last_entry_id`` answer a simulation's settle without
building ``info`` for every group of every stream.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from quantrail.bus.ids import parse_id
from quantrail.bus.lease_stores import MemoryLeaseStore
from quantrail.bus.transport import (
    ConsumerInfo,
    Entry,
    Fields,
    GroupInfo,
    NoGroupError,
    StreamInfo,
    Transport,
)
from quantrail.config import Retention
from quantrail.events.base import Event

NS_PER_MS = 1_000_000


SEQ_BITS = 64
"""An entry id as one int, ``ms << 64 | seq``: ordered as the ids are (Redis's sequence
numbers are 64-bit), made for a whole run at once (``range``), and compared and bisected
without building tuples."""
SEQ_MASK = (1 << SEQ_BITS) - 1


def _key(entry_id: str, *, for_end: bool = False) -> int:
    ms, seq = parse_id(entry_id, for_end=for_end)
    return ms << SEQ_BITS | min(seq, SEQ_MASK)


def key_id(key: int) -> str:
    """The ``<ms>-<seq>`` id of an entry key."""
    return f"{key >> SEQ_BITS}-{key & SEQ_MASK}"


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_ns: int
    deliveries: int


@dataclass(slots=True)
class _Group:
    last_delivered: int  # an entry key (``_key``)
    pending: dict[int, _Pending] = field(default_factory=dict)
    consumers: dict[str, int] = field(default_factory=dict)  # name -> last seen ns
    entries_read: int = 0


@dataclass(slots=True)
class _Stream:
    """A stream's entries, oldest first: their keys (``_key``) and, in the same places, each
    entry or (kept for the readers, not read yet) its event. Two lists, not a dict by id: a
    run is appended and trimming drops the front with one slice each, where a dict took a
    hash insert and a delete per entry. An id is found by bisecting the keys."""

    keys: list[int] = field(default_factory=list)
    values: list[Entry | Event] = field(default_factory=list)
    """The ``Entry`` of an event kept in its place is made when somebody first reads it
    (``entry``), as most replayed quotes never are."""
    last_key: int = 0
    groups: dict[str, _Group] = field(default_factory=dict)
    key: str = ""
    encode: Callable[[Event], Fields] | None = None

    def next_key(self, now_ms: int) -> int:
        """The key the next entry appended at ``now_ms`` gets (Redis's rule: the time, or the
        last id's time with the next sequence number when the clock has not moved past it)."""
        first = now_ms << SEQ_BITS
        return first if first > self.last_key else self.last_key + 1

    def append(self, key: int, value: Entry | Event) -> None:
        self.keys.append(key)
        self.values.append(value)
        self.last_key = key

    def after(self, start: int, count: int) -> range:
        """The places of the first ``count`` entries after the key ``start``."""
        first = bisect.bisect_right(self.keys, start)
        return range(first, min(first + count, len(self.keys)))

    def place(self, key: int) -> int | None:
        """Where the entry with ``key`` is (None: not held, never or no longer)."""
        at = bisect.bisect_left(self.keys, key)
        return at if at < len(self.keys) and self.keys[at] == key else None

    def entry(self, at: int) -> Entry:
        """The entry at place ``at`` (an event kept there is wrapped once, when first read)."""
        kept = self.values[at]
        if isinstance(kept, Entry):
            return kept
        made = self.values[at] = Entry(self.key, key_id(self.keys[at]), None, kept, self.encode)
        return made

    def entry_or_none(self, key: int) -> Entry | None:
        at = self.place(key)
        return None if at is None else self.entry(at)

    def drop_front(self, count: int) -> None:
        del self.keys[:count]
        del self.values[:count]


class MemoryTransport(Transport):
    external = False  # lives and dies with this process: no memory loss to watch for
    keeps_events = True

    def __init__(
        self,
        now_ns: Callable[[], int] = time.time_ns,
        mark_capacity: int = 100_000,
    ) -> None:
        self._now_ns = now_ns
        self._streams: dict[str, _Stream] = {}
        self._marks: OrderedDict[str, int] = OrderedDict()  # key -> expiry ns
        self._mark_capacity = mark_capacity
        self._state: dict[str, dict[str, str]] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._wakes = 0  # wake_readers calls: a blocked read that sees it move returns
        self._leases = MemoryLeaseStore(now_ns, ack=self.ack)

    def lease_store(self) -> MemoryLeaseStore:
        return self._leases

    # --- writing -------------------------------------------------------------------------
    async def add(
        self, items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
    ) -> list[str]:
        now_ms = self._now_ns() // NS_PER_MS
        ids = [self._append(stream, now_ms, dict(fields)) for stream, fields in items]
        return self._added(ids, {stream for stream, _ in items}, retention)

    async def add_events(
        self,
        items: Sequence[tuple[str, Event, bool]],
        retention: Mapping[str, Retention],
        encode: Callable[[Event], Fields],
    ) -> list[str]:
        # Every entry readers decode is encoded before any is appended: an event that cannot
        # be encoded fails the whole batch, as on Redis. (A kept one can be: Codec.shareable.)
        ready = [
            (stream, None, event) if kept else (stream, encode(event), None)
            for stream, event, kept in items
        ]
        now_ms = self._now_ns() // NS_PER_MS  # nothing moves it within the batch
        ids = [
            self._append(stream, now_ms, fields, event, encode) for stream, fields, event in ready
        ]
        return self._added(ids, {stream for stream, _, _ in items}, retention)

    def add_kept_run(
        self,
        stream_key: str,
        events: Sequence[Event],
        retention: Retention,
        encode: Callable[[Event], Fields],
    ) -> bool:
        """The ids of one append, as ``add_events`` gives them, without a call per event."""
        if not events:
            return True
        stream = self._stream(stream_key)
        first = stream.next_key(self._now_ns() // NS_PER_MS)
        stream.keys.extend(range(first, first + len(events)))
        stream.values.extend(events)
        stream.key, stream.encode, stream.last_key = stream_key, encode, first + len(events) - 1
        self._added([], {stream_key}, {stream_key: retention})
        return True

    def _added(
        self, ids: list[str], touched: set[str], retention: Mapping[str, Retention]
    ) -> list[str]:
        for stream in touched:
            if stream in retention:
                self._trim(self._streams[stream], retention[stream])
        self._notify(touched)
        return ids

    def _stream(self, stream_key: str) -> _Stream:
        stream = self._streams.get(stream_key)
        if stream is None:
            stream = self._streams[stream_key] = _Stream()
        return stream

    def _append(
        self,
        stream_key: str,
        now_ms: int,
        fields: Fields | None,
        event: Event | None = None,
        encode: Callable[[Event], Fields] | None = None,
    ) -> str:
        """Append an entry: its fields, or (kept for the readers) its event, whose ``Entry``
        is made when first read (``_Stream.entry``: most replayed quotes never are)."""
        stream = self._stream(stream_key)
        key = stream.next_key(now_ms)
        if fields is None:
            assert event is not None and encode is not None
            stream.key, stream.encode = stream_key, encode
            stream.append(key, event)
        else:
            stream.append(key, Entry(stream_key, key_id(key), fields))
        return key_id(key)

    def _trim(self, stream: _Stream, retention: Retention) -> None:
        # Approximate trimming, as Redis's ``~``: trim only once 10% over the limit.
        if retention.max_age_s is not None:
            min_ms = (self._now_ns() // NS_PER_MS) - retention.max_age_s * 1000
            stream.drop_front(bisect.bisect_left(stream.keys, max(min_ms, 0) << SEQ_BITS))
        if retention.maxlen and len(stream.keys) > retention.maxlen * 1.1:
            stream.drop_front(len(stream.keys) - retention.maxlen)

    def _notify(self, streams: set[str]) -> None:
        """Wake the readers blocked on these streams (and only them)."""
        for stream in streams:
            for waiter in self._waiters.pop(stream, []):
                if not waiter.done():
                    waiter.set_result(None)

    # --- groups ----------------------------------------------------------------------------
    async def create_group(self, stream: str, group: str, start_id: str = "0") -> bool:
        state = self._streams.setdefault(stream, _Stream())
        if group in state.groups:
            return False
        start = state.last_key if start_id == "$" else _key(start_id)
        state.groups[group] = _Group(last_delivered=start)
        return True

    def _group(self, stream: str, group: str) -> tuple[_Stream, _Group]:
        state = self._streams.get(stream)
        if state is None or group not in state.groups:
            raise NoGroupError(f"NOGROUP no group {group!r} on stream {stream!r}")
        return state, state.groups[group]

    async def read_group(
        self, group: str, consumer: str, streams: Mapping[str, str], count: int, block_ms: int
    ) -> list[Entry]:
        entries = self._read_group_now(group, consumer, streams, count)
        if entries or block_ms <= 0:
            return entries
        return await self._blocking(
            lambda: self._read_group_now(group, consumer, streams, count), streams, block_ms
        )

    def _read_group_now(
        self, group: str, consumer: str, streams: Mapping[str, str], count: int
    ) -> list[Entry]:
        out: list[Entry] = []
        now = self._now_ns()
        for stream_key, position in streams.items():
            state, grp = self._group(stream_key, group)
            grp.consumers[consumer] = now
            if position == ">":
                keys = state.keys
                for at in state.after(grp.last_delivered, count):
                    key = grp.last_delivered = keys[at]
                    grp.entries_read += 1
                    grp.pending[key] = _Pending(consumer, now, 1)
                    out.append(state.entry(at))
            else:
                start = _key(position)
                mine = sorted(
                    i for i, p in grp.pending.items() if p.consumer == consumer and i > start
                )[:count]
                for key in mine:
                    pending = grp.pending[key]
                    pending.deliveries += 1
                    pending.delivered_ns = now
                    kept = state.entry_or_none(key)
                    if kept is None:  # deleted while pending: no fields
                        kept = Entry(stream_key, key_id(key), {})
                    out.append(kept)
        return out

    async def read(self, streams: Mapping[str, str], count: int, block_ms: int) -> list[Entry]:
        entries = self._read_now(streams, count)
        if entries or block_ms <= 0:
            return entries
        return await self._blocking(lambda: self._read_now(streams, count), streams, block_ms)

    async def _blocking(
        self, attempt: Callable[[], list[Entry]], streams: Mapping[str, str], block_ms: int
    ) -> list[Entry]:
        """Retry ``attempt`` each time one of ``streams`` grows, until it finds entries or the
        block time is up. Only appends to these streams wake this reader."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + block_ms / 1000
        entries: list[Entry] = []
        wakes = self._wakes
        while not entries:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._wakes != wakes:
                break
            waiter: asyncio.Future[None] = loop.create_future()
            for stream in streams:
                self._waiters.setdefault(stream, []).append(waiter)
            # A plain timer handle, not asyncio.timeout: this is the hot path of every idle
            # reader, and the timeout context costs several times more per wait.
            expiry = loop.call_at(deadline, _wake, waiter)
            try:
                await waiter
            finally:
                expiry.cancel()
                if not waiter.done():
                    waiter.cancel()
                self._forget(waiter, streams)
            entries = attempt()
        return entries

    def wake_readers(self, streams: Sequence[str]) -> None:
        """Blocked reads on ``streams`` return now (a stopping consumer must not sit out its
        block time: a simulation's stop would wait ``block_ms`` of wall time for it)."""
        self._wakes += 1
        self._notify(set(streams))

    def _forget(self, waiter: asyncio.Future[None], streams: Mapping[str, str]) -> None:
        for stream in streams:
            waiting = self._waiters.get(stream)
            if waiting and waiter in waiting:
                waiting.remove(waiter)

    def _read_now(self, streams: Mapping[str, str], count: int) -> list[Entry]:
        out: list[Entry] = []
        for stream_key, position in streams.items():
            state = self._streams.get(stream_key)
            if state is None:
                continue
            start = state.last_key if position == "$" else _key(position)
            out.extend(state.entry(at) for at in state.after(start, count))
        return out

    async def last_id(self, stream: str) -> str:
        state = self._streams.get(stream)
        return key_id(state.keys[-1]) if state and state.keys else "0-0"

    async def range(self, stream: str, start: str, end: str, count: int) -> list[Entry]:
        state = self._streams.get(stream)
        if state is None:
            return []
        if start.startswith("("):  # exclusive start, as Redis's XRANGE
            low = bisect.bisect_right(state.keys, _key(start[1:]))
        else:
            low = bisect.bisect_left(state.keys, _key(start))
        high = bisect.bisect_right(state.keys, _key(end, for_end=True))
        return [state.entry(at) for at in range(low, min(high, low + count))]

    async def ack(
        self, stream: str, group: str, ids: Sequence[str], marks: Sequence[str] = (), ttl_s: int = 0
    ) -> None:
        _state, grp = self._group(stream, group)
        for entry_id in ids:
            grp.pending.pop(_key(entry_id), None)
        for mark in marks:
            self._set_mark(mark, ttl_s)

    def _set_mark(self, mark: str, ttl_s: int) -> None:
        if mark in self._marks and self._marks[mark] > self._now_ns():
            return  # SET NX: an existing mark keeps its expiry
        self._marks[mark] = self._now_ns() + ttl_s * 1_000_000_000
        self._marks.move_to_end(mark)
        while len(self._marks) > self._mark_capacity:
            self._marks.popitem(last=False)

    async def marks_exist(self, marks: Sequence[str]) -> list[bool]:
        now = self._now_ns()
        return [self._marks.get(mark, 0) > now for mark in marks]

    async def pending_deliveries(
        self, stream: str, group: str, ids: Sequence[str]
    ) -> dict[str, int]:
        _state, grp = self._group(stream, group)
        found = {i: grp.pending.get(_key(i)) for i in ids}
        return {i: p.deliveries for i, p in found.items() if p is not None}

    async def pending_ids(self, stream: str, group: str, consumer: str, count: int) -> list[str]:
        _state, grp = self._group(stream, group)
        mine = sorted(i for i, p in grp.pending.items() if p.consumer == consumer)
        return [key_id(i) for i in mine[:count]]

    async def claim(
        self, stream: str, group: str, consumer: str, ids: Sequence[str], min_idle_ms: int = 0
    ) -> list[Entry]:
        state, grp = self._group(stream, group)
        now = self._now_ns()
        grp.consumers.setdefault(consumer, now)
        out: list[Entry] = []
        for raw_id in ids:
            key = _key(raw_id)
            pending = grp.pending.get(key)
            if pending is None or now - pending.delivered_ns < min_idle_ms * NS_PER_MS:
                continue
            kept = state.entry_or_none(key)
            if kept is None:
                del grp.pending[key]  # deleted entries leave the pending list (Redis 7)
                continue
            pending.consumer, pending.delivered_ns = consumer, now
            pending.deliveries += 1
            # With the id as the caller spelled it (as this transport always answered).
            out.append(
                kept if kept.entry_id == raw_id else Entry(stream, raw_id, kept.fields, kept.event)
            )
        return out

    async def autoclaim(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str, count: int
    ) -> tuple[str, list[Entry], list[str]]:
        state, grp = self._group(stream, group)
        now = self._now_ns()
        begin = _key(start)
        candidates = sorted(
            i
            for i, p in grp.pending.items()
            if i >= begin and now - p.delivered_ns >= min_idle_ms * NS_PER_MS
        )
        chosen, rest = candidates[:count], candidates[count:]
        deleted = [key_id(i) for i in chosen if state.place(i) is None]
        claimed = await self.claim(stream, group, consumer, [key_id(i) for i in chosen])
        next_start = key_id(rest[0]) if rest else "0-0"
        return next_start, claimed, deleted

    async def dead_letter(
        self,
        stream: str,
        group: str,
        entry_id: str,
        dlq_stream: str,
        fields: Fields,
        retention: Retention,
    ) -> str:
        new_id = self._append(dlq_stream, self._now_ns() // NS_PER_MS, dict(fields))
        self._trim(self._streams[dlq_stream], retention)
        if group:
            await self.ack(stream, group, [entry_id])
        self._notify({dlq_stream})
        return new_id

    # --- state and inspection ------------------------------------------------------------------
    async def set_state(self, key: str, mapping: Mapping[str, str]) -> None:
        self._state[key] = dict(mapping)

    async def get_state(self, key: str) -> dict[str, str]:
        return dict(self._state.get(key, {}))

    async def delete(self, stream: str, ids: Sequence[str]) -> int:
        state = self._streams.get(stream)
        if state is None:
            return 0
        removed = 0
        for raw_id in ids:
            at = state.place(_key(raw_id))
            if at is not None:
                del state.keys[at]
                del state.values[at]
                removed += 1
        return removed

    async def streams(self, prefix: str) -> list[str]:
        return sorted(key for key in self._streams if key.startswith(prefix))

    async def info(self, stream: str) -> StreamInfo:
        state = self._streams.get(stream, _Stream())
        now = self._now_ns()
        groups = [
            GroupInfo(
                name=name,
                pending=len(grp.pending),
                last_delivered_id=key_id(grp.last_delivered),
                lag=len(state.keys) - bisect.bisect_right(state.keys, grp.last_delivered),
                consumers=[
                    ConsumerInfo(
                        name=consumer,
                        pending=sum(1 for p in grp.pending.values() if p.consumer == consumer),
                        idle_ms=(now - seen) // NS_PER_MS,
                    )
                    for consumer, seen in sorted(grp.consumers.items())
                ],
            )
            for name, grp in sorted(state.groups.items())
        ]
        return StreamInfo(
            stream=stream,
            length=len(state.keys),
            first_id=key_id(state.keys[0]) if state.keys else None,
            last_id=key_id(state.keys[-1]) if state.keys else None,
            groups=groups,
        )

    # --- what a simulation's settle asks, without building ``info`` ------------------------------
    def held_after(self, stream: str, after: str) -> tuple[list[int], list[Entry | Event]]:
        """Everything ``stream`` holds after the id ``after`` (exclusive), oldest first: the
        keys (``key_id`` spells one as an id), and each entry or the event kept in its place
        (an unread one: no ``Entry`` is made for it). For a reader in this process that takes
        every event (``StreamFollower``)."""
        state = self._streams.get(stream)
        if state is None:
            return [], []
        first = bisect.bisect_right(state.keys, _key(after))
        return state.keys[first:], state.values[first:]

    def last_entry_id(self, stream: str) -> str | None:
        """``info(stream).last_id``: the newest entry's id, None for an empty or missing stream."""
        state = self._streams.get(stream)
        return key_id(state.keys[-1]) if state and state.keys else None

    def caught_up(self, stream: str, group: str) -> bool:
        """What ``info`` says when ``group`` has read everything: the group exists, nothing is
        pending, and it last delivered the newest entry (lag 0 follows)."""
        state = self._streams.get(stream)
        grp = state.groups.get(group) if state is not None else None
        if state is None or grp is None or grp.pending:
            return False
        return not state.keys or grp.last_delivered == state.keys[-1]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _wake(waiter: asyncio.Future[None]) -> None:
    """End a blocking read's wait (its block time is up)."""
    if not waiter.done():
        waiter.set_result(None)
