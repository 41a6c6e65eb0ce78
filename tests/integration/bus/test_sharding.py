"""Sharding by symbol on memory, a single Redis and a Redis Cluster."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from kit.bus import pings
from kit.cluster import SYMBOL_STREAM, SymbolPing, shard_bus
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.sharding import ShardingError, shard_of
from quantrail.events.base import Event

SYMBOLS = ["AAPL", "MSFT", "ACME", "XYZ", "QQQ", "SPY", "IBM"]


def symbol_pings(per_symbol: int) -> list[SymbolPing]:
    return [
        SymbolPing(ts_event=1_000 + i, symbol=symbol, seq=i)
        for i in range(per_symbol)
        for symbol in SYMBOLS
    ]


async def test_one_shard_keeps_the_single_key_of_today(three_way_bus: EventBus) -> None:
    bus = shard_bus(three_way_bus, 1)
    await bus.publish_batch(symbol_pings(2))
    names = await bus.transport.streams(bus.names.namespace + ":")
    assert names == [bus.names.key(SYMBOL_STREAM)]


async def test_a_symbol_lands_on_its_shard_and_keeps_its_order(three_way_bus: EventBus) -> None:
    bus = shard_bus(three_way_bus, 4)
    await bus.publish_batch(symbol_pings(25))
    for index, shard in enumerate(bus.shard_streams(SYMBOL_STREAM)):
        assert shard == f"{SYMBOL_STREAM}:{{s{index:02d}}}"
        events = [bus.codec.from_fields(e.fields) for e in await bus.read_range(shard)]
        assert all(isinstance(e, SymbolPing) for e in events)
        assert {e.symbol for e in events} == {  # type: ignore[attr-defined]
            s for s in SYMBOLS if shard_of(s, 4) == index
        }
    merged = [bus.codec.from_fields(e.fields) for e in await bus.iter_range(SYMBOL_STREAM)]
    assert len(merged) == 25 * len(SYMBOLS)
    for symbol in SYMBOLS:
        seqs = [e.seq for e in merged if isinstance(e, SymbolPing) and e.symbol == symbol]
        assert seqs == list(range(25))


async def test_a_group_consumer_reads_every_shard_once_in_symbol_order(
    three_way_bus: EventBus,
) -> None:
    bus = shard_bus(three_way_bus, 4)
    seen: dict[str, list[int]] = defaultdict(list)

    async def handle(event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, SymbolPing)
        seen[event.symbol].append(event.seq)

    consumer = bus.group_consumer(streams=[SYMBOL_STREAM], group="g", consumer="c", handler=handle)
    task = asyncio.create_task(consumer.run())
    try:
        for start in range(0, 40, 10):
            batch = [
                SymbolPing(ts_event=1_000 + i, symbol=s, seq=i)
                for i in range(start, start + 10)
                for s in SYMBOLS
            ]
            await bus.publish_batch(batch)
        await eventually(lambda: sum(map(len, seen.values())), lambda n: n == 40 * len(SYMBOLS))
    finally:
        consumer.stop()
        await task
    assert all(seqs == list(range(40)) for seqs in seen.values())


async def test_a_sharded_event_without_a_symbol_is_refused_by_name(
    three_way_bus: EventBus,
) -> None:
    bus = shard_bus(three_way_bus, 4)
    with pytest.raises(ShardingError, match=r"test\.symbol\.sent: symbol is empty"):
        await bus.publish(SymbolPing(ts_event=1, symbol="", seq=0))
    with pytest.raises(ShardingError, match=r"test\.symbol is sharded"):
        await bus.read_range(SYMBOL_STREAM)
    await bus.publish_batch(pings(2))  # an unsharded stream is untouched
    assert len(await bus.read_range("test.ping")) == 2
