"""The memory transport: a run appended in one go is what appending its events one by one is."""

from __future__ import annotations

from kit.bus import PING_STREAM, Ping, make_bus
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.transport import Entry
from quantrail.config import Retention
from quantrail.events.base import Event

KEEP_ALL = Retention()


NOW_NS = 1_700_000_000_123_000_000


async def test_a_run_gets_the_ids_and_entries_that_one_by_one_appends_get() -> None:
    # One clock for both (the wall clock could move a millisecond between their appends).
    runs, singles = MemoryTransport(lambda: NOW_NS), MemoryTransport(lambda: NOW_NS)
    codec = make_bus("memory", None).codec
    first = [Ping(ts_event=1, seq=seq) for seq in range(3)]
    second = [Ping(ts_event=2, seq=seq) for seq in range(3, 5)]
    for batch in (first, second):
        assert runs.add_kept_run("s", batch, KEEP_ALL, codec.to_fields)
        await singles.add_events([("s", e, True) for e in batch], {"s": KEEP_ALL}, codec.to_fields)
    ran = await runs.range("s", "-", "+", 100)
    one_by_one = await singles.range("s", "-", "+", 100)
    assert [e.entry_id for e in ran] == [e.entry_id for e in one_by_one]
    assert [e.event for e in ran] == first + second  # the objects themselves, kept
    assert [e.fields for e in ran] == [e.fields for e in one_by_one]  # encoded when read raw


async def test_a_run_is_trimmed_as_the_stream_says() -> None:
    transport = MemoryTransport()
    codec = make_bus("memory", None).codec
    pings: list[Event] = [Ping(ts_event=1, seq=seq) for seq in range(30)]
    transport.add_kept_run("s", pings, Retention(maxlen=10), codec.to_fields)
    kept = await transport.range("s", "-", "+", 100)
    assert [e.event.seq for e in kept if isinstance(e.event, Ping)] == list(range(20, 30))


async def test_held_after_hands_the_kept_events_and_the_entries_already_read() -> None:
    bus = make_bus("memory", None)
    transport = bus.transport
    assert isinstance(transport, MemoryTransport)
    await bus.publish_batch([Ping(ts_event=1, seq=0), Ping(ts_event=2, seq=1)])
    key = bus.names.key(PING_STREAM)
    read = (await transport.range(key, "-", "+", 1))[0]  # read once: its Entry is made now
    ids, held = transport.held_after(key, "0-0")
    assert len(ids) == 2 and isinstance(held[0], Entry) and held[0].entry_id == read.entry_id
    assert isinstance(held[1], Ping) and held[1].seq == 1
    assert transport.held_after(key, read.entry_id)[1] == [held[1]]
    assert transport.held_after("nothing", "0-0") == ([], [])
    await bus.close()
