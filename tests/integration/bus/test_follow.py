"""StreamFollower on both transports: everything kept first, then only what is new."""

from __future__ import annotations

from collections import defaultdict

from kit.bus import PING_STREAM, Ping, pings
from kit.cluster import SYMBOL_STREAM, SymbolPing, shard_bus
from quantrail.bus.bus import EventBus
from quantrail.bus.follow import StreamFollower
from quantrail.events.base import Event


async def test_catch_up_feeds_each_entry_once_in_order_across_pages(bus: EventBus) -> None:
    seen: list[int] = []

    def take(event: Event) -> None:
        assert isinstance(event, Ping)
        seen.append(event.seq)

    follower = StreamFollower(bus, PING_STREAM, take, page=7)
    assert await follower.catch_up() == 0 and follower.position == "0-0"
    await bus.publish_batch(pings(20))
    assert await follower.catch_up() == 20
    assert await follower.catch_up() == 0
    await bus.publish_batch(pings(3, start=20))
    assert await follower.catch_up() == 3
    assert seen == list(range(23))
    assert follower.position == (await bus.read_range(PING_STREAM))[-1].entry_id


async def test_an_entry_that_does_not_decode_or_is_refused_is_skipped(bus: EventBus) -> None:
    seen: list[int] = []

    def take(event: Event) -> None:
        assert isinstance(event, Ping)
        if event.note == "refuse":
            raise ValueError("seq: refused")
        seen.append(event.seq)

    await bus.publish(Ping(ts_event=1, seq=0))
    await bus.publish_raw(PING_STREAM, {b"kind": b"test.ping.sent", b"data": b"{not json"})
    await bus.publish_batch([Ping(ts_event=2, seq=1, note="refuse"), Ping(ts_event=3, seq=2)])
    follower = StreamFollower(bus, PING_STREAM, take)
    assert await follower.catch_up() == 4
    assert seen == [0, 2]


async def test_a_sharded_stream_is_followed_on_every_shard_in_symbol_order(
    three_way_bus: EventBus,
) -> None:
    bus = shard_bus(three_way_bus, 4)
    seen: dict[str, list[int]] = defaultdict(list)

    def take(event: Event) -> None:
        assert isinstance(event, SymbolPing)
        seen[event.symbol].append(event.seq)

    follower = StreamFollower(bus, SYMBOL_STREAM, take, page=3)
    symbols = ["AAPL", "XOM", "QBK", "PFA"]  # one per shard of four
    for start in (0, 5):
        await bus.publish_batch(
            [
                SymbolPing(ts_event=1, symbol=s, seq=i)
                for i in range(start, start + 5)
                for s in symbols
            ]
        )
        assert await follower.catch_up() == 5 * len(symbols)
    assert await follower.catch_up() == 0
    assert seen == {s: list(range(10)) for s in symbols}
    positions = follower.positions
    assert len(positions) == 4
    for shard, position in positions.items():
        assert position == (await bus.read_range(shard))[-1].entry_id


async def test_take_all_is_handed_what_is_new_at_once_as_take_would_be(bus: EventBus) -> None:
    one_by_one: list[int] = []
    batches: list[list[int]] = []

    def take(event: Event) -> None:
        assert isinstance(event, Ping)
        one_by_one.append(event.seq)

    def take_all(events: list[Event]) -> None:
        batches.append([event.seq for event in events if isinstance(event, Ping)])

    follower = StreamFollower(bus, PING_STREAM, take, take_all=take_all)
    await bus.publish_batch(pings(5))
    # A raw entry (decoded), then one that does not decode (logged, skipped): in order.
    await bus.publish_raw(PING_STREAM, bus.codec.to_fields(Ping(ts_event=9, seq=5)))
    await bus.publish_raw(PING_STREAM, {b"kind": b"test.ping.sent", b"data": b"{not json"})
    await bus.publish_batch(pings(2, start=6))
    assert await follower.catch_up() == 9
    assert await follower.catch_up() == 0
    assert follower.position == (await bus.read_range(PING_STREAM))[-1].entry_id
    if bus.transport.keeps_events:  # in process: at once
        assert batches == [[0, 1, 2, 3, 4, 5, 6, 7]] and one_by_one == []
    else:  # on Redis the cursor's pages, each event to ``take``
        assert batches == [] and one_by_one == [0, 1, 2, 3, 4, 5, 6, 7]
