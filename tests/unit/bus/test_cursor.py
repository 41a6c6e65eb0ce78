"""ShardedCursor on the memory transport: one position per shard, every entry once, in order.

The memory transport runs on a frozen clock here, so every id is in the same millisecond and
a shard's new entries get *smaller* ids than entries already read on another shard: the case
a single id cursor over all shards gets wrong.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from kit.bus import PING_STREAM, TEST_CODEC, Ping, fast_consumer_config, new_namespace
from kit.cluster import SYMBOL_STREAM, SymbolPing, shard_bus
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.cursor import NONE_READ, ShardedCursor, id_key, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.sharding import shard_of
from quantrail.config import BusConfig
from quantrail.events.base import Event
from quantrail.events.streams import StreamNames

SYMBOLS = ["AAPL", "MSFT", "ACME", "XYZ", "QQQ", "SPY", "IBM"]
FROZEN_NS = 1_800_000_000_000_000_000


def frozen_bus(shards: int) -> EventBus:
    bus = EventBus(
        MemoryTransport(now_ns=lambda: FROZEN_NS),
        config=BusConfig(consumer=fast_consumer_config()),
        names=StreamNames(new_namespace()),
        codec=TEST_CODEC,
    )
    return shard_bus(bus, shards)


def batch(start: int, count: int, symbols: list[str] = SYMBOLS) -> list[SymbolPing]:
    return [
        SymbolPing(ts_event=1_000 + i, symbol=s, seq=i)
        for i in range(start, start + count)
        for s in symbols
    ]


def by_symbol(events: list[Event]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = defaultdict(list)
    for event in events:
        assert isinstance(event, SymbolPing)
        seen[event.symbol].append(event.seq)
    return seen


def test_symbols_spread_over_every_shard() -> None:
    assert {shard_of(s, 4) for s in SYMBOLS} == {0, 1, 2, 3}


def test_entry_ids_compare_as_redis_compares_them() -> None:
    assert id_key("1700-10") > id_key("1700-9") > id_key("999-99")
    assert id_key("5") == (5, 0)


async def test_one_shard_is_one_cursor_on_the_stream_itself() -> None:
    bus = frozen_bus(1)
    cursor = ShardedCursor(bus, SYMBOL_STREAM, page=3)
    assert cursor.shards == [SYMBOL_STREAM] and cursor.positions == {SYMBOL_STREAM: NONE_READ}
    await bus.publish_batch(batch(0, 2))
    assert by_symbol(await cursor.read_new()) == {s: [0, 1] for s in SYMBOLS}
    last = (await bus.read_range(SYMBOL_STREAM))[-1].entry_id
    assert cursor.positions == {SYMBOL_STREAM: last}
    assert await cursor.read_new() == []


async def test_every_shard_is_read_once_in_symbol_order_across_pages() -> None:
    bus = frozen_bus(4)
    cursor = ShardedCursor(bus, SYMBOL_STREAM, page=3)
    assert len(cursor.shards) == 4
    await bus.publish_batch(batch(0, 10))
    assert by_symbol(await cursor.read_new()) == {s: list(range(10)) for s in SYMBOLS}
    for shard in cursor.shards:
        assert cursor.positions[shard] == (await bus.read_range(shard))[-1].entry_id
    # New entries on every shard get ids below what other shards already gave: still read.
    await bus.publish_batch(batch(10, 5))
    assert by_symbol(await cursor.read_new()) == {s: list(range(10, 15)) for s in SYMBOLS}
    assert await cursor.read_new() == []


async def test_merged_entries_come_in_entry_id_order() -> None:
    bus = shard_bus(EventBus(MemoryTransport(), names=StreamNames(new_namespace())), 4)
    for i in range(30):  # one at a time: ids rise across shards as time goes
        await bus.publish(SymbolPing(ts_event=i, symbol=SYMBOLS[i % len(SYMBOLS)], seq=i))
    entries = [e async for e in ShardedCursor(bus, SYMBOL_STREAM, page=2).entries()]
    ids = [id_key(e.entry_id) for e in entries]
    assert len(entries) == 30 and ids == sorted(ids)


async def test_a_cursor_goes_on_from_given_positions_and_from_the_end() -> None:
    bus = frozen_bus(4)
    await bus.publish_batch(batch(0, 4))
    positions = await replay_history(bus, SYMBOL_STREAM, lambda _event: None)
    at_end = await ShardedCursor.at_end(bus, SYMBOL_STREAM)
    assert at_end.positions == positions
    await bus.publish_batch(batch(4, 3))
    resumed = ShardedCursor(bus, SYMBOL_STREAM, positions)
    assert by_symbol(await resumed.read_new()) == {s: [4, 5, 6] for s in SYMBOLS}
    assert by_symbol(await at_end.read_new()) == {s: [4, 5, 6] for s in SYMBOLS}


async def test_an_unsharded_stream_stays_one_key_on_a_sharded_bus() -> None:
    bus = frozen_bus(4)
    cursor = ShardedCursor(bus, PING_STREAM)
    assert cursor.shards == [PING_STREAM]
    await bus.publish_batch([Ping(ts_event=i, seq=i) for i in range(3)])
    assert [e.seq for e in await cursor.read_new() if isinstance(e, Ping)] == [0, 1, 2]


async def test_wait_new_reads_what_comes_on_every_shard() -> None:
    bus = frozen_bus(4)
    await bus.publish_batch(batch(0, 2))
    cursor = await ShardedCursor.at_end(bus, SYMBOL_STREAM)
    await bus.publish_batch(batch(2, 3))
    seen: list[Event] = []
    while len(seen) < 3 * len(SYMBOLS):
        got = await cursor.wait_new(count=2, block_ms=50)
        assert got, "entries published before the read were not returned"
        seen += [bus.codec.from_fields(e.fields) for e in got]
    assert by_symbol(seen) == {s: [2, 3, 4] for s in SYMBOLS}
    assert await cursor.wait_new(count=10, block_ms=10) == []


async def test_a_bad_entry_is_skipped_and_the_rest_fed() -> None:
    bus = frozen_bus(4)
    shard = bus.shard_streams(SYMBOL_STREAM)[shard_of("AAPL", 4)]
    await bus.publish(SymbolPing(ts_event=1, symbol="AAPL", seq=0))
    await bus.publish_raw(shard, {b"kind": b"test.symbol.sent", b"payload": b"{not json"})
    await bus.publish(SymbolPing(ts_event=1, symbol="AAPL", seq=1))
    seen: list[Event] = []
    assert await ShardedCursor(bus, SYMBOL_STREAM).feed(seen.append) == 3
    assert by_symbol(seen) == {"AAPL": [0, 1]}


async def test_a_broadcast_reader_goes_on_from_the_positions_of_every_shard() -> None:
    bus = frozen_bus(4)
    await bus.publish_batch(batch(0, 3))
    positions = await replay_history(bus, SYMBOL_STREAM, lambda _event: None)
    seen: list[Event] = []

    async def handle(event: Event, _delivery: Delivery) -> None:
        seen.append(event)

    reader = bus.broadcast_consumer(
        streams=[SYMBOL_STREAM], consumer="r", handler=handle, start=positions
    )
    task = asyncio.create_task(reader.run())
    try:
        # Same millisecond: these ids are below the highest id the replay read elsewhere.
        await bus.publish_batch(batch(3, 2))
        await eventually(lambda: len(seen), lambda n: n == 2 * len(SYMBOLS))
    finally:
        reader.stop()
        await task
    assert by_symbol(seen) == {s: [3, 4] for s in SYMBOLS}
