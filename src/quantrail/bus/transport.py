"""The stream primitives a transport provides, shaped after Redis Streams.

Both transports (``redis`` and ``memory``) implement exactly these; delivery semantics (pending
lists, delivery counts, claims, dead letters, idempotency marks) are built once on top of them
in :mod:`quantrail.bus.consumer_base`, so the two behave the same and share one conformance suite.
Stream names here are transport keys (already namespaced).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from quantrail.config import Retention

if TYPE_CHECKING:
    from quantrail.bus.leases import LeaseStore
    from quantrail.events.base import Event

Fields = dict[bytes, bytes]
log = logging.getLogger("quantrail.bus")


def log_lost_ack(group: str, stream: str) -> None:
    """An ack found its group gone (Redis restarted empty): the entry is gone with it."""
    log.warning("group %s vanished before its ack on %s", group, stream)


class TransportError(Exception):
    """The transport is unreachable (connection lost, server restarting); retry later."""


class NoGroupError(TransportError):
    """The consumer group (or its stream) is gone, as after a Redis restart."""


class Entry:
    """One stream entry, read-only: its stream key, id and fields (as on the wire).

    ``event`` is the event object itself when the transport kept it with the entry (the
    in-process transport, for events ``Codec.shareable`` allows): readers take it instead of
    decoding the fields (``Codec.from_entry``). Such an entry is made with ``encode`` instead of
    its fields, which are encoded the first time somebody reads them (raw readers: tail, dead
    letters, sizes), so readers that take the object never pay for the encoding. None for
    entries read from Redis or published raw.
    """

    __slots__ = ("_encode", "_fields", "entry_id", "event", "stream")
    stream: str
    entry_id: str
    event: Event | None
    _fields: Fields | None
    _encode: Callable[[Event], Fields] | None

    def __init__(
        self,
        stream: str,
        entry_id: str,
        fields: Fields | None = None,
        event: Event | None = None,
        encode: Callable[[Event], Fields] | None = None,
    ) -> None:
        if fields is None and (event is None or encode is None):
            raise TypeError("an Entry needs its fields, or its event and how to encode it")
        init = object.__setattr__  # read-only afterwards: one entry is shared by its readers
        init(self, "stream", stream)
        init(self, "entry_id", entry_id)
        init(self, "event", event)
        init(self, "_fields", fields)
        init(self, "_encode", encode)

    @property
    def fields(self) -> Fields:
        fields = self._fields
        if fields is None:
            assert self.event is not None and self._encode is not None  # see __init__
            fields = self._encode(self.event)
            object.__setattr__(self, "_fields", fields)
        return fields

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Entry is read-only: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Entry is read-only: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        mine, theirs = (self.stream, self.entry_id), (other.stream, other.entry_id)
        return mine == theirs and self.fields == other.fields

    __hash__ = None  # type: ignore[assignment]  # as the dataclass it was: fields is a dict

    def __repr__(self) -> str:
        return f"Entry(stream={self.stream!r}, entry_id={self.entry_id!r}, fields={self.fields!r})"


@dataclass(frozen=True, slots=True)
class Ack:
    """What a group consumer acks on one stream: entry ids, and the idempotency marks to set."""

    stream: str
    ids: list[str]
    marks: list[str]


@dataclass(frozen=True, slots=True)
class GroupRead:
    """A group consumer's next read of new entries (``>``) on ``keys``, with the acks of its
    last batch to send first; ``mark_prefix``: the idempotency marks are ``mark_prefix + key``
    (the entry's ``key`` field, else its id), so a transport may check them with the read."""

    group: str
    consumer: str
    keys: Sequence[str]
    count: int
    block_ms: int
    acks: Sequence[Ack] = ()
    ttl_s: int = 0
    mark_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class GroupBatch:
    """What a ``GroupRead`` got; ``seen``: per entry, whether its mark is set (None when the
    transport did not check: the consumer asks ``marks_exist``)."""

    entries: list[Entry]
    seen: list[bool] | None = None


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    name: str
    pending: int
    idle_ms: int


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    pending: int
    last_delivered_id: str
    lag: int | None
    consumers: list[ConsumerInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StreamInfo:
    stream: str
    length: int
    first_id: str | None
    last_id: str | None
    groups: list[GroupInfo] = field(default_factory=list)


class Transport(ABC):
    """Stream primitives. Every method may raise :class:`TransportError`."""

    # True on a Redis Cluster: a group's idempotency marks live in the slot of their stream
    # (``idem:{<stream's hash tag>}:<group>:<key>``), so mark, effect and ack share one script.
    colocates_marks: bool = False
    # False for the in-process memory transport: nothing outside this process holds it, so it
    # cannot restart empty under a running service (``runtime/memory_watch.py`` has nothing to
    # watch).
    external: bool = True
    # True when ``add_events`` keeps the event objects for the readers (in-process only).
    keeps_events: bool = False

    # True when ``ack_and_read_new`` saves round trips (one write for acks and read): a group
    # consumer then sends a batch's ack with its next read instead of waiting for it alone.
    folds_acks_into_reads: bool = False

    def wake_readers(self, streams: Sequence[str]) -> None:
        """Let reads blocked on ``streams`` return now, empty if nothing came (a consumer is
        stopping). Redis's blocking reads end within their block time on their own."""
        return None

    def lease_store(self) -> LeaseStore:
        """Where shard leases live (``bus/leases.py``); the same store on every call."""
        raise NotImplementedError(f"{type(self).__name__} keeps no shard leases")

    @abstractmethod
    async def add(
        self, items: Sequence[tuple[str, Fields]], retention: Mapping[str, Retention]
    ) -> list[str]:
        """Append entries (one round trip for the whole batch); trim each stream as configured."""

    async def add_events(
        self,
        items: Sequence[tuple[str, Event, bool]],
        retention: Mapping[str, Retention],
        encode: Callable[[Event], Fields],
    ) -> list[str]:
        """``add`` for events: (stream key, event, whether readers may take the object). A
        transport whose readers share this process keeps those objects with their entries and
        encodes their fields only when read raw; this default encodes them all."""
        return await self.add([(stream, encode(event)) for stream, event, _ in items], retention)

    def add_kept_run(
        self,
        stream_key: str,
        events: Sequence[Event],
        retention: Retention,
        encode: Callable[[Event], Fields],
    ) -> bool:
        """Append events to one stream in one go, each kept for the readers (the caller has
        asked ``shareable`` of every one), without their ids; False when this transport
        cannot (it keeps no events: the caller publishes them as usual)."""
        return False

    @abstractmethod
    async def create_group(self, stream: str, group: str, start_id: str = "0") -> bool:
        """Create the group (and the stream); False when it already existed. Safe to repeat."""

    @abstractmethod
    async def read_group(
        self, group: str, consumer: str, streams: Mapping[str, str], count: int, block_ms: int
    ) -> list[Entry]:
        """XREADGROUP: ``>`` for new entries, ``0`` for this consumer's own pending ones.

        Raises :class:`NoGroupError` when the group does not exist.
        """

    @abstractmethod
    async def read(self, streams: Mapping[str, str], count: int, block_ms: int) -> list[Entry]:
        """XREAD without a group (broadcast): entries after each given id."""

    @abstractmethod
    async def last_id(self, stream: str) -> str:
        """The id of the newest entry, or ``0-0`` for an empty or missing stream."""

    @abstractmethod
    async def range(self, stream: str, start: str, end: str, count: int) -> list[Entry]:
        """XRANGE, inclusive ids; ``-`` and ``+`` for the ends."""

    @abstractmethod
    async def ack(
        self, stream: str, group: str, ids: Sequence[str], marks: Sequence[str] = (), ttl_s: int = 0
    ) -> None:
        """Ack entries and set idempotency marks (with TTL) atomically, in one round trip."""

    async def ack_and_read_new(self, read: GroupRead) -> GroupBatch:
        """``ack`` each of ``read.acks`` (a vanished group is logged, as a lone ack's is),
        then ``read_group`` new entries. Here two steps and no marks checked; a transport that
        can sends all in one write and checks the marks in the same step."""
        for ack in read.acks:
            try:
                await self.ack(ack.stream, read.group, ack.ids, ack.marks, read.ttl_s)
            except NoGroupError:
                log_lost_ack(read.group, ack.stream)
        streams = dict.fromkeys(read.keys, ">")
        entries = await self.read_group(
            read.group, read.consumer, streams, read.count, read.block_ms
        )
        return GroupBatch(entries)

    @abstractmethod
    async def pending_deliveries(
        self, stream: str, group: str, ids: Sequence[str]
    ) -> dict[str, int]:
        """Delivery counts of pending entries (ids not pending are left out)."""

    @abstractmethod
    async def pending_ids(self, stream: str, group: str, consumer: str, count: int) -> list[str]:
        """Ids pending on ``consumer``, oldest first."""

    @abstractmethod
    async def claim(
        self, stream: str, group: str, consumer: str, ids: Sequence[str], min_idle_ms: int = 0
    ) -> list[Entry]:
        """XCLAIM to ``consumer`` (counts as a delivery); entries gone from the stream drop out."""

    @abstractmethod
    async def autoclaim(
        self, stream: str, group: str, consumer: str, min_idle_ms: int, start: str, count: int
    ) -> tuple[str, list[Entry], list[str]]:
        """XAUTOCLAIM entries idle longer than ``min_idle_ms``.

        Returns the next start id (``0-0`` when done), the claimed entries, and the ids that
        were pending but deleted from the stream (they leave the pending list).
        """

    @abstractmethod
    async def dead_letter(
        self,
        stream: str,
        group: str,
        entry_id: str,
        dlq_stream: str,
        fields: Fields,
        retention: Retention,
    ) -> str:
        """Append to the dead-letter stream and ack on the source, atomically."""

    @abstractmethod
    async def marks_exist(self, marks: Sequence[str]) -> list[bool]:
        """Whether each idempotency mark is set (one round trip)."""

    @abstractmethod
    async def set_state(self, key: str, mapping: Mapping[str, str]) -> None:
        """Replace the latest-state hash at ``key``."""

    @abstractmethod
    async def get_state(self, key: str) -> dict[str, str]:
        """The latest-state hash at ``key`` (empty when unknown)."""

    @abstractmethod
    async def delete(self, stream: str, ids: Sequence[str]) -> int:
        """Remove entries (XDEL); returns how many existed."""

    @abstractmethod
    async def streams(self, prefix: str) -> list[str]:
        """Names of the streams whose key starts with ``prefix``."""

    @abstractmethod
    async def info(self, stream: str) -> StreamInfo:
        """Length, ids, groups, consumers and pending counts of a stream."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise :class:`TransportError` unless the transport answers."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the transport is not used afterwards."""
