"""The EventBus: typed events in, typed events out, over any transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.consumer import GroupConsumer
from quantrail.bus.consumer_base import ConsumerDeps
from quantrail.bus.deadletter import DeadLetter
from quantrail.bus.delivery import Handler
from quantrail.bus.dlq_retention import DeadLetterRetention
from quantrail.bus.leased_consumer import LeasedGroupConsumer
from quantrail.bus.leases import ShardLeases
from quantrail.bus.sharding import Sharding, ShardingError, base_stream
from quantrail.bus.transport import Entry, Transport
from quantrail.config import BusConfig, ConsumerConfig, Retention
from quantrail.events.base import Event, stream_of_kind
from quantrail.events.codec import Codec, default_codec
from quantrail.events.streams import DEADLETTER, StreamNames
from quantrail.runtime.breaker import CircuitBreaker
from quantrail.runtime.clock import Clock, WallClock


class EventBus:
    def __init__(
        self,
        transport: Transport,
        *,
        config: BusConfig | None = None,
        names: StreamNames | None = None,
        codec: Codec | None = None,
        clock: Clock | None = None,
        reconnect_backoff_ms: Sequence[int] = (100, 500, 2000, 5000),
    ) -> None:
        self.transport = transport
        self.config = config or BusConfig()
        self.names = names or StreamNames()
        self.codec = codec or default_codec()
        self.clock: Clock = clock or WallClock()
        self._reconnect_backoff_ms = tuple(reconnect_backoff_ms)
        self._retention: dict[str, Retention] = {}
        self.sharding = Sharding(self.config.shards)
        self._key_of_type: dict[type[Event], str] = {}
        self.dlq_retention = DeadLetterRetention(
            self.config.deadletter,
            transport,
            self.names.key(DEADLETTER),
            self.clock,
            self.publish,
        )

    # --- publishing ---------------------------------------------------------------------------
    async def publish(self, event: Event) -> str:
        """Append one event to its entity's stream; returns the entry id."""
        return (await self.publish_batch([event]))[0]

    async def publish_batch(self, events: Sequence[Event]) -> list[str]:
        """Append events in one round trip; each goes to its entity's stream, in order."""
        if not events:
            return []
        if self.transport.keeps_events:  # in-process: readers take the objects (bus/memory.py)
            shareable, key_for = self.codec.shareable, self._key_for
            kept = [(key_for(e), e, shareable(e)) for e in events]
            retention = {key: self._retention_for_key(key) for key in {k for k, _, _ in kept}}
            return await self.transport.add_events(kept, retention, self.codec.to_fields)
        items = [(self._key_for(e), self.codec.to_fields(e)) for e in events]
        retention = {key: self._retention_for_key(key) for key, _ in items}
        return await self.transport.add(items, retention)

    async def publish_run(self, events: Sequence[Event], *, checked: bool = False) -> None:
        """Append events of one class, ids not wanted: on the in-process bus, when every one
        may be handed over as it is (``codec.shareable``; ``checked``: the caller asked it
        already, as a replay does of the events it builds, once, as it builds them), one
        append for the lot (``Transport.add_kept_run``); else as ``publish_batch``."""
        if not events:
            return
        if self.sharding.shards == 1 and (checked or all(map(self.codec.shareable, events))):
            key = self._key_for(events[0])
            retention, encode = self._retention_for_key(key), self.codec.to_fields
            if self.transport.add_kept_run(key, events, retention, encode):
                return
        await EventBus.publish_batch(self, events)  # not an override's: a run is one publish

    async def publish_raw(self, stream: str, fields: Mapping[bytes, bytes]) -> str:
        """Append an entry as it is (dead-letter retry); ``stream`` is a logical name."""
        key = self.names.key(stream)
        ids = await self.transport.add([(key, dict(fields))], {key: self._retention_for_key(key)})
        return ids[0]

    def _key_for(self, event: Event) -> str:
        """The stream key of ``event``: its entity's stream, or its symbol's shard of it."""
        if self.sharding.shards == 1:
            key = self._key_of_type.get(type(event))
            if key is None:  # once per event class: the stream name is parsed from its kind
                key = self._key_of_type[type(event)] = self.names.for_event(event)
            return key
        return self.names.key(self.sharding.stream_for(stream_of_kind(event.kind), event))

    def shard_streams(self, stream: str) -> list[str]:
        """The logical streams that hold ``stream``: its shards, or itself when unsharded."""
        return self.sharding.expand([stream])

    @property
    def written_keys(self) -> frozenset[str]:
        """Every stream key this bus has appended to (its retention is looked up once per key)."""
        return frozenset(self._retention)

    def _retention_for_key(self, key: str) -> Retention:
        if key not in self._retention:
            self._retention[key] = self.config.retention_for(base_stream(self.names.logical(key)))
        return self._retention[key]

    # --- consuming ----------------------------------------------------------------------------
    def _deps(self, config: ConsumerConfig | None) -> ConsumerDeps:
        return ConsumerDeps(
            transport=self.transport,
            codec=self.codec,
            names=self.names,
            config=config or self.config.consumer,
            clock=self.clock,
            dlq_retention=self.dlq_retention,
            reconnect_backoff_ms=self._reconnect_backoff_ms,
        )

    def group_consumer(
        self,
        *,
        streams: Sequence[str],
        group: str,
        consumer: str,
        handler: Handler,
        breaker: CircuitBreaker | None = None,
        config: ConsumerConfig | None = None,
        start_id: str = "0",
        idempotent: bool = True,
    ) -> GroupConsumer:
        """A competing consumer: each entry of ``streams`` goes to one consumer of ``group``.

        With sharded streams among ``streams`` (``bus.shards`` > 1), the instances of ``group``
        share the shards through leases: this one reads the shards it holds."""
        if any(self.sharding.is_sharded(stream) for stream in streams):
            return LeasedGroupConsumer(
                self._deps(config),
                streams=streams,
                sharding=self.sharding,
                leases=ShardLeases(
                    store=self.transport.lease_store(),
                    names=self.names,
                    group=group,
                    member=consumer,
                    shards=self.sharding.shards,
                    ttl_ms=self.config.lease_ttl_ms,
                ),
                handler=handler,
                name=consumer,
                group=group,
                breaker=breaker,
                start_id=start_id,
                idempotent=idempotent,
            )
        return GroupConsumer(
            self._deps(config),
            streams=self.sharding.expand(streams),
            handler=handler,
            name=consumer,
            group=group,
            breaker=breaker,
            start_id=start_id,
            idempotent=idempotent,
        )

    def broadcast_consumer(
        self,
        *,
        streams: Sequence[str],
        consumer: str,
        handler: Handler,
        start: str | Mapping[str, str] = "$",
        breaker: CircuitBreaker | None = None,
        config: ConsumerConfig | None = None,
    ) -> BroadcastConsumer:
        """A broadcast reader: every instance sees every entry from ``start`` on.

        ``start`` is ``$``, an entry id, or a ``ShardedCursor``'s positions (logical stream ->
        last id read, one per shard): the reader goes on where the cursor stopped."""
        if isinstance(start, Mapping):
            start = {self.names.key(stream): last for stream, last in start.items()}
        return BroadcastConsumer(
            self._deps(config),
            streams=self.sharding.expand(streams),
            handler=handler,
            name=consumer,
            breaker=breaker,
            start=start,
        )

    # --- latest state ---------------------------------------------------------------------------
    async def set_state(self, name: str, mapping: Mapping[str, str]) -> None:
        await self.transport.set_state(self.names.state_key(name), mapping)

    async def get_state(self, name: str) -> dict[str, str]:
        return await self.transport.get_state(self.names.state_key(name))

    # --- reading back ---------------------------------------------------------------------------
    async def read_range(
        self, stream: str, start: str = "-", end: str = "+", count: int = 1000
    ) -> list[Entry]:
        """Up to ``count`` entries of one stream key (a shard of a sharded stream, not all)."""
        if self.sharding.is_sharded(stream):
            # One id cursor cannot page several shards without skipping entries.
            raise ShardingError(
                f"{stream} is sharded (bus.shards={self.sharding.shards}): read it with a"
                " ShardedCursor (bus/cursor.py), each of bus.shard_streams(stream), or iter_range"
            )
        return await self.transport.range(self.names.key(stream), start, end, count)

    async def iter_range(
        self, stream: str, start: str = "-", end: str = "+", page: int = 500
    ) -> list[Entry]:
        """Every entry between two ids (inclusive), paged; a sharded stream's shards merged
        by entry id (per-symbol order is kept: a symbol lives on one shard)."""
        if self.sharding.is_sharded(stream):
            merged: list[Entry] = []
            for shard in self.shard_streams(stream):
                merged.extend(await self._iter_one(shard, start, end, page))
            return sorted(merged, key=lambda e: tuple(int(p) for p in e.entry_id.split("-")))
        return await self._iter_one(stream, start, end, page)

    async def _iter_one(self, stream: str, start: str, end: str, page: int) -> list[Entry]:
        out: list[Entry] = []
        cursor = start
        while True:
            entries = await self.transport.range(self.names.key(stream), cursor, end, page)
            out.extend(entries)
            if len(entries) < page:
                return out
            cursor = "(" + entries[-1].entry_id

    async def read_events(self, stream: str) -> list[Event]:
        """Every event on a (logical) stream, oldest first, decoded."""
        return [self.codec.from_entry(entry) for entry in await self.iter_range(stream)]

    async def dead_letters(self, count: int = 100) -> list[DeadLetter]:
        entries = await self.read_range(DEADLETTER, "-", "+", count)
        return [DeadLetter.from_entry(entry) for entry in entries]

    async def dead_letter_bytes(self) -> tuple[int, int]:
        """How many dead letters the stream holds and their field bytes in all."""
        entries = await self.iter_range(DEADLETTER)
        return len(entries), sum(len(k) + len(v) for e in entries for k, v in e.fields.items())

    async def close(self) -> None:
        await self.transport.close()
