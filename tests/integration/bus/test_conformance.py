"""The bus conformance suite: every test runs on memory, a single Redis and a Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from kit.bus import PING_STREAM, EffectLog, Ping, fast_consumer_config, pings
from kit.poll import eventually
from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.bus import EventBus
from quantrail.bus.consumer import GroupConsumer
from quantrail.bus.delivery import Delivery
from quantrail.bus.replay import replay
from quantrail.config import Retention
from quantrail.events.base import Event
from quantrail.events.streams import DEADLETTER


@pytest.fixture
def bus(three_way_bus: EventBus) -> EventBus:
    """The suite's three configurations: memory, a single Redis, a Redis Cluster."""
    return three_way_bus


@asynccontextmanager
async def running(*consumers: GroupConsumer | BroadcastConsumer) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c.run()) for c in consumers]
    try:
        yield
    finally:
        for consumer in consumers:
            consumer.stop()
        await asyncio.gather(*tasks)


def consumer(bus: EventBus, log: EffectLog, name: str = "c1", group: str = "g") -> GroupConsumer:
    return bus.group_consumer(streams=[PING_STREAM], group=group, consumer=name, handler=log.handle)


async def pending_count(bus: EventBus, group: str = "g") -> int:
    info = await bus.transport.info(bus.names.key(PING_STREAM))
    return sum(g.pending for g in info.groups if g.name == group)


async def test_published_events_arrive_in_order_and_equal(bus: EventBus) -> None:
    sent = pings(20)
    await bus.publish_batch(sent)
    received: list[Event] = []

    async def handle(event: Event, _delivery: Delivery) -> None:
        received.append(event)

    c = bus.group_consumer(streams=[PING_STREAM], group="g", consumer="c", handler=handle)
    async with running(c):
        await eventually(lambda: len(received), lambda n: n == 20, what="20 events")
    assert received == sent
    assert await pending_count(bus) == 0


async def test_batch_publish_returns_increasing_ids_on_the_entity_stream(bus: EventBus) -> None:
    ids = await bus.publish_batch(pings(5))
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    entries = await bus.read_range(PING_STREAM)
    assert [e.entry_id for e in entries] == ids
    fields = entries[0].fields
    assert set(fields) == {b"kind", b"event_id", b"ts_event", b"key", b"payload"}
    assert fields[b"kind"] == b"test.ping.sent"
    assert bus.names.key(PING_STREAM).startswith(bus.names.namespace + ":")


async def test_group_creation_is_safe_to_repeat(bus: EventBus) -> None:
    key = bus.names.key(PING_STREAM)
    assert await bus.transport.create_group(key, "g") is True
    assert await bus.transport.create_group(key, "g") is False
    info = await bus.transport.info(key)
    assert [g.name for g in info.groups] == ["g"]


async def test_a_failing_handler_is_retried_then_acked(bus: EventBus) -> None:
    failures = {"left": 2}
    log = EffectLog()

    async def flaky(event: Event, delivery: Delivery) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("transient")
        await log.handle(event, delivery)

    await bus.publish(Ping(ts_event=1, seq=7))
    c = bus.group_consumer(streams=[PING_STREAM], group="g", consumer="c", handler=flaky)
    async with running(c):
        await eventually(lambda: log.effects[7], lambda n: n == 1, what="effect after retries")
        await eventually(lambda: pending_count(bus), lambda n: n == 0, what="pending drained")
    assert log.deliveries[-1].deliveries == 3
    assert c.stats.retried == 2 and c.stats.failed == 2
    assert await bus.dead_letters() == []


async def test_poison_entry_goes_to_dead_letter_after_max_deliveries(bus: EventBus) -> None:
    async def poison(event: Event, _delivery: Delivery) -> None:
        raise ValueError(f"cannot handle seq {getattr(event, 'seq', '?')}")

    await bus.publish(Ping(ts_event=1, seq=13))
    c = bus.group_consumer(streams=[PING_STREAM], group="g", consumer="c", handler=poison)
    async with running(c):
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 1, what="dead letter")
        await eventually(lambda: pending_count(bus), lambda n: n == 0, what="pending drained")
    letter = letters[0]
    assert letter.stream == PING_STREAM and letter.group == "g"
    assert letter.deliveries == 3
    assert letter.error_type == "ValueError" and "cannot handle seq 13" in letter.error
    assert letter.kind == "test.ping.sent"
    assert bus.codec.from_fields(letter.original) == Ping(
        ts_event=1, seq=13, event_id=letter.original[b"event_id"].decode()
    )
    assert c.stats.dead_lettered == 1


async def test_a_handler_over_its_timeout_fails_and_the_next_event_is_handled(
    bus: EventBus,
) -> None:
    log = EffectLog()
    never = asyncio.Event()

    async def hangs_on_seq_0(event: Event, delivery: Delivery) -> None:
        if getattr(event, "seq", None) == 0:
            await never.wait()
        await log.handle(event, delivery)

    await bus.publish_batch(pings(3))
    c = bus.group_consumer(
        streams=[PING_STREAM], group="g", consumer="c", handler=hangs_on_seq_0,
        config=fast_consumer_config(handler_timeout_s=0.05),
    )  # fmt: skip
    async with running(c):
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 1, what="dead letter")
        await eventually(log.seqs, lambda seqs: seqs == {1, 2}, what="the others handled")
    assert letters[0].error_type == "HandlerTimeoutError"
    assert "ran over its 0.05 s timeout" in letters[0].error
    assert letters[0].deliveries == 3 and c.stats.failed == 3


async def test_undecodable_payload_is_dead_lettered_at_once(bus: EventBus) -> None:
    log = EffectLog()
    bad = {b"kind": b"test.ping.sent", b"key": b"k", b"payload": b'{"kind":"test.ping.sent"}'}
    await bus.publish_raw(PING_STREAM, bad)
    await bus.publish(Ping(ts_event=2, seq=2))
    async with running(consumer(bus, log)):
        await eventually(lambda: log.seqs(), lambda s: s == {2}, what="good event handled")
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 1)
    assert letters[0].deliveries == 1
    assert "missing required field" in letters[0].error and "$.ts_event" in letters[0].error
    assert await pending_count(bus) == 0


async def test_same_idempotency_key_has_one_effect(bus: EventBus) -> None:
    log = EffectLog()
    first = Ping(ts_event=1, seq=1, idempotency_key="order-42")
    second = Ping(ts_event=2, seq=2, idempotency_key="order-42")
    third = Ping(ts_event=3, seq=3)
    await bus.publish_batch([first, second])
    await bus.publish(third)
    async with running(consumer(bus, log)):
        await eventually(lambda: log.seqs(), lambda s: 3 in s, what="third handled")
        await eventually(lambda: pending_count(bus), lambda n: n == 0)
    assert log.seqs() == {1, 3}


async def test_duplicate_delivery_across_batches_has_one_effect(bus: EventBus) -> None:
    log = EffectLog()
    await bus.publish(Ping(ts_event=1, seq=1, idempotency_key="fill-1"))
    async with running(consumer(bus, log)):
        await eventually(lambda: log.seqs(), lambda s: s == {1})
    await bus.publish(Ping(ts_event=2, seq=9, idempotency_key="fill-1"))
    await bus.publish(Ping(ts_event=3, seq=3))
    c2 = consumer(bus, log)
    async with running(c2):
        await eventually(lambda: log.seqs(), lambda s: 3 in s)
        await eventually(lambda: pending_count(bus), lambda n: n == 0)
    assert log.seqs() == {1, 3}
    assert c2.stats.duplicates == 1


async def test_consumer_first_takes_back_its_own_pending_entries(bus: EventBus) -> None:
    await bus.publish_batch(pings(4))
    key = bus.names.key(PING_STREAM)
    await bus.transport.create_group(key, "g")
    # A previous run of consumer "c1" read two entries and died before acking them.
    taken = await bus.transport.read_group("g", "c1", {key: ">"}, 2, 0)
    assert len(taken) == 2
    log = EffectLog()
    async with running(consumer(bus, log, name="c1")):
        await eventually(lambda: log.seqs(), lambda s: s == {0, 1, 2, 3})
        await eventually(lambda: pending_count(bus), lambda n: n == 0)
    # Own pending entries come back first, with their delivery counted.
    assert [d.entry_id for d in log.deliveries[:2]] == [e.entry_id for e in taken]
    assert [d.deliveries for d in log.deliveries] == [2, 2, 1, 1]


async def test_entries_left_by_a_dead_consumer_are_claimed(bus: EventBus) -> None:
    await bus.publish_batch(pings(6))
    key = bus.names.key(PING_STREAM)
    await bus.transport.create_group(key, "g")
    dead = await bus.transport.read_group("g", "dead", {key: ">"}, 6, 0)
    assert len(dead) == 6
    log = EffectLog()
    live = consumer(bus, log, name="live")
    async with running(live):
        await eventually(lambda: log.seqs(), lambda s: s == set(range(6)), what="claimed")
        await eventually(lambda: pending_count(bus), lambda n: n == 0)
    assert live.stats.claimed == 6
    assert all(d.consumer == "live" and d.deliveries == 2 for d in log.deliveries)


async def test_entry_delivered_too_often_is_dead_lettered_unhandled(bus: EventBus) -> None:
    await bus.publish(Ping(ts_event=1, seq=1))
    key = bus.names.key(PING_STREAM)
    await bus.transport.create_group(key, "g")
    await bus.transport.read_group("g", "c1", {key: ">"}, 1, 0)
    for _ in range(3):  # three more crashed runs of c1 read it from its pending list
        await bus.transport.read_group("g", "c1", {key: "0"}, 1, 0)
    log = EffectLog()
    async with running(consumer(bus, log, name="c1")):
        letters = await eventually(bus.dead_letters, lambda d: len(d) == 1)
    assert log.seqs() == set()
    assert letters[0].deliveries == 5 and "without an ack" in letters[0].error


async def test_competing_consumers_share_the_work_without_doubles(bus: EventBus) -> None:
    log = EffectLog()
    consumers = [consumer(bus, log, name=f"c{i}") for i in range(3)]
    async with running(*consumers):
        for start in range(0, 3000, 500):
            await bus.publish_batch(pings(500, start=start))
        await eventually(lambda: len(log.effects), lambda n: n == 3000, what="3000 handled")
    assert log.seqs() == set(range(3000))
    assert log.doubled() == []
    assert sum(c.stats.handled for c in consumers) == 3000


async def test_every_broadcast_reader_sees_every_entry(bus: EventBus) -> None:
    logs = [EffectLog(), EffectLog()]
    readers = [
        bus.broadcast_consumer(streams=[PING_STREAM], consumer=f"b{i}", handler=log.handle)
        for i, log in enumerate(logs)
    ]
    async with running(*readers):
        await eventually(lambda: all(r.positions for r in readers), what="readers positioned")
        await bus.publish_batch(pings(10))
        for log in logs:
            await eventually(lambda log=log: log.seqs(), lambda s: s == set(range(10)))


async def test_broadcast_reader_from_start_replays_history(bus: EventBus) -> None:
    await bus.publish_batch(pings(3))
    log = EffectLog()
    reader = bus.broadcast_consumer(
        streams=[PING_STREAM], consumer="b", handler=log.handle, start="0"
    )
    async with running(reader):
        await eventually(lambda: log.seqs(), lambda s: s == {0, 1, 2})


async def test_stop_finishes_the_batch_in_hand_and_acks_it(bus: EventBus) -> None:
    log = EffectLog()
    gate = asyncio.Event()

    async def slow(event: Event, delivery: Delivery) -> None:
        await gate.wait()
        await log.handle(event, delivery)

    await bus.publish_batch(pings(10))
    c = bus.group_consumer(streams=[PING_STREAM], group="g", consumer="c", handler=slow)
    task = asyncio.create_task(c.run())
    await eventually(lambda: c.stats.read, lambda n: n == 10, what="batch read")
    c.stop()
    gate.set()
    await asyncio.wait_for(task, 5)
    assert log.seqs() == set(range(10))
    assert await pending_count(bus) == 0


def waiting_consumer(bus: EventBus, log: EffectLog) -> GroupConsumer:
    """A consumer whose reads block for a minute: what it handles, a read woke for."""
    return bus.group_consumer(
        streams=[PING_STREAM],
        group="g",
        consumer="c",
        handler=log.handle,
        config=fast_consumer_config(block_ms=60_000, claim_interval_ms=60_000),
    )


async def test_a_waiting_read_wakes_for_a_new_entry_and_acks_before_it_waits(
    bus: EventBus,
) -> None:
    # Reads block for a minute: an entry is handled, and its ack applied, only if the read
    # wakes when it arrives and the ack goes out before the next read waits (on Redis both
    # travel in one write with the wait and the read).
    log = EffectLog()
    c = waiting_consumer(bus, log)
    async with running(c):
        await eventually(lambda: c.running, lambda r: r, what="consumer running")
        for seq in range(3):
            await bus.publish(Ping(ts_event=seq, seq=seq))
            await eventually(lambda: log.seqs(), lambda s, n=seq: n in s, within=5, what="woke")
            await eventually(lambda: pending_count(bus), lambda n: n == 0, within=5)
        c.stop()
        await bus.publish(Ping(ts_event=9, seq=9))  # wakes the stopping consumer's read
    assert log.seqs() == {0, 1, 2, 9}
    assert await pending_count(bus) == 0


async def test_a_duplicate_key_is_caught_by_a_waiting_read(bus: EventBus) -> None:
    # The second entry carries a key already handled: the read that wakes for it finds the
    # mark (on Redis in the same script as the read) and acks it unhandled.
    log = EffectLog()
    c = waiting_consumer(bus, log)
    async with running(c):
        await bus.publish(Ping(ts_event=1, seq=1, idempotency_key="fill-7"))
        await eventually(lambda: log.seqs(), lambda s: s == {1}, within=5)
        await bus.publish_batch(
            [Ping(ts_event=2, seq=2, idempotency_key="fill-7"), Ping(ts_event=3, seq=3)]
        )
        await eventually(lambda: log.seqs(), lambda s: 3 in s, within=5)
        await eventually(lambda: pending_count(bus), lambda n: n == 0, within=5)
        c.stop()
        await bus.publish(Ping(ts_event=4, seq=4))  # wakes the stopping consumer's read
    assert log.seqs() == {1, 3, 4}
    assert c.stats.duplicates == 1


async def test_retention_trims_approximately_to_maxlen(bus: EventBus) -> None:
    bus._retention[bus.names.key(PING_STREAM)] = Retention(maxlen=100)
    for start in range(0, 1000, 100):
        await bus.publish_batch(pings(100, start=start))
    info = await bus.transport.info(bus.names.key(PING_STREAM))
    assert 100 <= info.length < 1000


async def test_latest_state_hash_is_replaced_whole(bus: EventBus) -> None:
    assert await bus.get_state("exposure") == {}
    await bus.set_state("exposure", {"gross_exposure_pct": "118.5", "mode": "NORMAL"})
    await bus.set_state("exposure", {"gross_exposure_pct": "99.0"})
    assert await bus.get_state("exposure") == {"gross_exposure_pct": "99.0"}


async def test_replay_reads_a_range_in_order(bus: EventBus) -> None:
    ids = await bus.publish_batch(pings(30))
    seen: list[int] = []

    async def collect(event: Event) -> None:
        assert isinstance(event, Ping)
        seen.append(event.seq)

    result = await replay(bus, PING_STREAM, collect, start=ids[5], end=ids[24], page=7)
    assert seen == list(range(5, 25))
    assert result.replayed == 20 and result.undecodable == 0
    seen.clear()
    await replay(bus, PING_STREAM, collect, speed=1000.0)
    assert seen == list(range(30))


async def test_breaker_pauses_handling_until_half_open(bus: EventBus) -> None:
    from quantrail.runtime.breaker import BreakerState, CircuitBreaker

    now = {"s": 0.0}
    breaker = CircuitBreaker("h", failures=2, reset_s=60, now_s=lambda: now["s"])
    calls: list[int] = []

    async def failing(event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, Ping)
        calls.append(event.seq)
        raise RuntimeError("down")

    config = fast_consumer_config(max_deliveries=10)
    c = bus.group_consumer(
        streams=[PING_STREAM],
        group="g",
        consumer="c",
        handler=failing,
        breaker=breaker,
        config=config,
    )
    await bus.publish(Ping(ts_event=1, seq=1))
    async with running(c):
        await eventually(lambda: breaker.state, lambda s: s is BreakerState.OPEN)
        calls_when_open = len(calls)
        assert calls_when_open == 2
        assert await bus.dead_letters() == []
    assert len(calls) == calls_when_open  # nothing handled while open
    assert await pending_count(bus) == 1  # left pending, not lost


@pytest.mark.parametrize("count", [1, 7])
async def test_dead_letter_stream_is_namespaced(bus: EventBus, count: int) -> None:
    async def poison(_event: Event, _delivery: Delivery) -> None:
        raise RuntimeError("x")

    await bus.publish_batch(pings(count))
    c = bus.group_consumer(
        streams=[PING_STREAM],
        group="g",
        consumer="c",
        handler=poison,
        config=fast_consumer_config(max_deliveries=1),
    )
    async with running(c):
        await eventually(bus.dead_letters, lambda d: len(d) == count)
    names = await bus.transport.streams(bus.names.namespace + ":")
    assert bus.names.key(DEADLETTER) in names


# Streams whose keys hash to different cluster slots (each a key of its own, no shared tag).
MANY_STREAMS = ["test.a", "test.b", "test.c", "test.d"]


async def test_a_consumer_of_streams_on_many_slots_gets_each_entry_once(bus: EventBus) -> None:
    log = EffectLog()
    group_readers = [
        bus.group_consumer(streams=MANY_STREAMS, group="g", consumer=f"c{i}", handler=log.handle)
        for i in range(2)
    ]
    broadcast_log = EffectLog()
    reader = bus.broadcast_consumer(
        streams=MANY_STREAMS, consumer="b", handler=broadcast_log.handle, start="0"
    )
    async with running(*group_readers, reader):
        for seq in range(200):
            fields = bus.codec.to_fields(Ping(ts_event=1_000 + seq, seq=seq))
            await bus.publish_raw(MANY_STREAMS[seq % len(MANY_STREAMS)], fields)
        await eventually(lambda: len(log.effects), lambda n: n == 200, what="200 handled")
        await eventually(lambda: len(broadcast_log.effects), lambda n: n == 200)
    assert log.doubled() == [] and broadcast_log.doubled() == []
    assert log.seqs() == broadcast_log.seqs() == set(range(200))
