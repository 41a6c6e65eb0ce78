"""Shard leases on memory, a single Redis and a Redis Cluster: share, join, die."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from kit.cluster import SYMBOL_STREAM, SymbolPing, crash, shard_bus
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.leased_consumer import LeasedGroupConsumer
from quantrail.events.base import Event

SYMBOLS = [f"S{i:03d}" for i in range(24)]
TTL_MS = 1_500  # well above a loaded machine's event-loop stalls (a stalled holder loses its lease)


class Handled:
    """Which instance handled each (symbol, seq), in order."""

    def __init__(self) -> None:
        self.by: dict[tuple[str, int], list[str]] = defaultdict(list)

    def handler(self, name: str):  # type: ignore[no-untyped-def]
        async def handle(event: Event, _delivery: Delivery) -> None:
            assert isinstance(event, SymbolPing)
            self.by[(event.symbol, event.seq)].append(name)

        return handle


def instance(bus: EventBus, handled: Handled, name: str) -> LeasedGroupConsumer:
    consumer = bus.group_consumer(
        streams=[SYMBOL_STREAM], group="svc", consumer=name, handler=handled.handler(name)
    )
    assert isinstance(consumer, LeasedGroupConsumer)
    return consumer


async def publish_round(bus: EventBus, seq: int) -> None:
    await bus.publish_batch([SymbolPing(ts_event=seq, symbol=s, seq=seq) for s in SYMBOLS])


async def test_instances_split_the_shards_and_a_dead_ones_move(three_way_bus: EventBus) -> None:
    bus = shard_bus(three_way_bus, 4, lease_ttl_ms=TTL_MS)
    handled = Handled()
    first, second = instance(bus, handled, "a"), instance(bus, handled, "b")
    first_task = asyncio.create_task(first.run())
    await eventually(lambda: first.leases.held, lambda h: h == {0, 1, 2, 3}, what="a holds all")
    second_task = asyncio.create_task(second.run())
    try:
        # A joiner gets its share within the lease time; the shares never overlap.
        await eventually(
            lambda: (first.leases.held, second.leases.held),
            lambda hs: hs == ({0, 2}, {1, 3}),
            within=10,
            what="an even split",
        )
        for seq in range(5):
            await publish_round(bus, seq)
        await eventually(lambda: len(handled.by), lambda n: n == 5 * len(SYMBOLS))
        for symbol in SYMBOLS:  # one symbol, one instance
            assert len({name for seq in range(5) for name in handled.by[(symbol, seq)]}) == 1

        await crash(second, second_task)
        await eventually(
            lambda: first.leases.held, lambda h: h == {0, 1, 2, 3}, within=10, what="takeover"
        )
        for seq in range(5, 10):
            await publish_round(bus, seq)
        await eventually(lambda: len(handled.by), lambda n: n == 10 * len(SYMBOLS))
    finally:
        first.stop()
        await first_task
    assert all(names == ["a"] for (_, seq), names in handled.by.items() if seq >= 5)
    assert [key for key, names in handled.by.items() if len(names) > 1] == []
