"""The in-process bus hands the published event objects to its readers, without decoding.

Only where that is the same as decoding (``events/sharing.py``): raw entries, and events that
decoding would change, are decoded by every reader as on Redis. Raw readers still see the
encoded fields. ``caught_up``/``last_entry_id`` (a simulation's settle) agree with ``info``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from kit.bus import PING_STREAM, Ping, make_bus
from kit.event_base import ACCOUNT, T0
from kit.market_events import quote, trade_print
from kit.poll import eventually
from kit.strategy_chain import script
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.follow import StreamFollower
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.transport import Entry
from quantrail.config import config_from_mapping
from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated
from quantrail.events.streams import DEADLETTER
from quantrail.ops.services import build_services
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

CHAIN = ["candles", "signals", "risk_kernel", "sizer", "execution", "positions", "exit_brain"]


def _memory_bus() -> EventBus:
    return make_bus("memory", None)


async def _received(bus: EventBus, stream: str, count: int, broadcast: bool) -> list[Event]:
    """What a group consumer (or a broadcast reader from the start) is handed."""
    got: list[Event] = []

    async def take(event: Event, _delivery: Delivery) -> None:
        got.append(event)

    reader = (
        bus.broadcast_consumer(streams=[stream], consumer="b", handler=take, start="0-0")
        if broadcast
        else bus.group_consumer(streams=[stream], group="g", consumer="c", handler=take)
    )
    task = asyncio.create_task(reader.run())
    try:
        await eventually(lambda: len(got), until=lambda n: n >= count, what="deliveries")
    finally:
        reader.stop()
        await task
    return got


async def test_every_reader_is_handed_the_published_object() -> None:
    bus = _memory_bus()
    sent = [Ping(ts_event=1, seq=0), Ping(ts_event=2, seq=1)]
    await bus.publish_batch(sent)
    for broadcast in (False, True):
        got = await _received(bus, PING_STREAM, 2, broadcast)
        assert [id(e) for e in got] == [id(e) for e in sent]
    assert [id(e) for e in await bus.read_events(PING_STREAM)] == [id(e) for e in sent]
    followed: list[Event] = []
    assert await StreamFollower(bus, PING_STREAM, followed.append).catch_up() == 2
    assert [id(e) for e in followed] == [id(e) for e in sent]


async def test_raw_readers_see_the_encoded_fields() -> None:
    bus = _memory_bus()
    event = Ping(ts_event=1, seq=7, note="x")
    await bus.publish(event)
    (entry,) = await bus.read_range(PING_STREAM)
    assert entry.event is event
    assert entry.fields == bus.codec.to_fields(event)  # encoded on this first raw read
    assert entry.fields is entry.fields  # once
    assert bus.codec.from_fields(entry.fields) == event
    assert entry == Entry(entry.stream, entry.entry_id, bus.codec.to_fields(event))
    with pytest.raises(AttributeError):
        entry.entry_id = "1-1"  # type: ignore[misc]  # shared by every reader: read-only


async def test_an_event_that_does_not_encode_fails_its_whole_batch() -> None:
    bus = _memory_bus()
    with pytest.raises(UnicodeEncodeError):
        await bus.publish_batch([Ping(ts_event=1, seq=0), Ping(ts_event=2, seq=1, note="\udcff")])
    assert await bus.read_range(PING_STREAM) == []


async def test_an_entry_published_raw_is_decoded_and_a_bad_one_dead_lettered() -> None:
    bus = _memory_bus()
    event = Ping(ts_event=1, seq=3)
    await bus.publish_raw(PING_STREAM, bus.codec.to_fields(event))
    await bus.publish_raw(PING_STREAM, {b"kind": b"test.ping.sent", b"payload": b"{not json"})
    (got,) = await _received(bus, PING_STREAM, 1, broadcast=False)
    assert got == event and got is not event
    await eventually(lambda: bus.dead_letters(), until=lambda letters: len(letters) == 1)
    assert (await bus.read_range(DEADLETTER))[0].event is None


async def test_an_event_decoding_would_change_reaches_readers_decoded() -> None:
    """A float price decodes to a Decimal: every reader gets the Decimal, as from Redis."""
    bus = _memory_bus()
    loose = msgspec.structs.replace(quote(), bid=24.5)
    await bus.publish(loose)
    (got,) = await _received(bus, "market.quote", 1, broadcast=False)
    assert isinstance(got, QuoteUpdated) and got.bid == Decimal("24.5")
    assert type(got.bid) is Decimal


async def test_caught_up_and_last_entry_id_agree_with_info() -> None:
    bus = _memory_bus()
    transport = bus.transport
    assert isinstance(transport, MemoryTransport)
    key = bus.names.key(PING_STREAM)

    async def agree() -> None:
        info = await transport.info(key)
        assert transport.last_entry_id(key) == info.last_id
        found = [g for g in info.groups if g.name == "g"]
        by_info = bool(found) and not found[0].pending and not found[0].lag
        if by_info and info.last_id is not None:
            by_info = found[0].last_delivered_id == info.last_id
        assert transport.caught_up(key, "g") == by_info

    await agree()  # no stream
    await transport.create_group(key, "g")
    await agree()  # empty, caught up
    ids = await bus.publish_batch([Ping(ts_event=1, seq=0), Ping(ts_event=2, seq=1)])
    await agree()  # behind
    assert not transport.caught_up(key, "g")
    await transport.read_group("g", "c", {key: ">"}, 10, 0)
    await agree()  # read, pending
    await transport.ack(key, "g", ids)
    await agree()  # caught up
    assert transport.caught_up(key, "g")
    await transport.delete(key, [ids[-1]])
    await agree()  # its last delivered entry deleted: info says not caught up
    assert not transport.caught_up(key, "g") and transport.last_entry_id(key) == ids[0]
    assert not transport.caught_up(key, "other")


async def test_every_event_the_chain_publishes_is_kept_only_where_it_equals_its_decoding(
    tmp_path: Path,
) -> None:
    """A scripted trade through the whole chain: each kept object equals its entry's decoding,
    field types included (what a Redis reader would get); the rest are decoded."""
    start_ns = T0 + 5 * 60 * NS_PER_SECOND
    row_ts = dt.datetime.fromtimestamp(start_ns / NS_PER_SECOND + 90, dt.UTC).isoformat()
    path = script(tmp_path / "signals.csv", [f"{row_ts},ACME,LONG,80,0.8,24.50,breakout seen"])
    config = config_from_mapping({
        "strategy": {"name": "scripted", "params": {"path": str(path)}, "account": ACCOUNT},
        "risk": {"accounts": [{"name": ACCOUNT, "equity": "100000"}]},
        "liquidity": {"min_interval_s": 0},
        "db": {"url": f"sqlite:///{tmp_path / 'ledger.sqlite'}"},
    })  # fmt: skip
    bus = _memory_bus()
    clock = SimulatedClock(start_ns)
    services = build_services(config, bus, clock, CHAIN)
    sim = await Simulation(bus, clock, services, config).start()
    try:
        for bid, ask, last in [("24.99", "25.01", "25.00"), ("24.40", "24.42", "24.41")]:
            await sim.publish(
                quote(bid=bid, ask=ask, bid_size=5000, ask_size=5000, ts_event=clock.now_ns()),
                trade_print(price=last, size=500, ts_event=clock.now_ns()),
            )
            await sim.advance(120, step=1)
    finally:
        await sim.stop()
    kept, decoded = set(), set()
    for key in await bus.transport.streams(bus.names.key("")):
        for entry in await bus.transport.range(key, "-", "+", 100_000):
            if entry.event is None:
                decoded.add(entry.fields[b"kind"].decode())
                continue
            kept.add(entry.event.kind)
            again = bus.codec.from_fields(entry.fields)
            assert again == entry.event
            assert list(map(type, msgspec.structs.astuple(again))) == list(
                map(type, msgspec.structs.astuple(entry.event))
            )
    assert {"market.quote.updated", "trades.order.filled", "position.state.opened"} <= kept
    assert {"market.trade.printed", "risk.evaluation.completed"} <= decoded
