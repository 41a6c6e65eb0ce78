"""The load of the transport benchmark and the parts under measurement.

Raw XADD and ``publish_batch`` loops, the quantrail and the bare redis-py consumers (both feed a
``Sink`` that records latencies), the lag probe, and the paced producer. The paced producer
runs in its own process (``python -m quantrail.ops.bench_producer``, started by
``run_producer``) so that producer and consumer work on two cores, as in production: it says
``ready`` once connected, then prints one JSON line with what it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.redis import RedisTransport
from quantrail.bus.redis_connect import redis_client
from quantrail.config import BusConfig, ConsumerConfig, RedisConfig, Retention
from quantrail.events.base import Event
from quantrail.events.codec import Fields, default_codec
from quantrail.events.market import QuoteUpdated
from quantrail.events.streams import StreamNames
from quantrail.ops.bench_report import Throughput

STREAM = "market.quote"
BATCH = 500
LAG_SAMPLE_S = 0.5
DRAIN_TIMEOUT_S = 30.0
# Never trims within a run, yet every XADD carries MAXLEN ~ as in production.
BENCH_BUS = BusConfig(transport="redis", retention={STREAM: Retention(maxlen=5_000_000)})
CONSUMER = ConsumerConfig(batch_size=BATCH, block_ms=100)
_SRC = str(Path(__file__).resolve().parents[2])  # the producer process imports quantrail here


def sample_quote(ts_event: int) -> QuoteUpdated:
    """A realistic quote; its JSON payload is about 320 bytes."""
    bid = Decimal("189.51")
    return QuoteUpdated(
        ts_event=ts_event,
        symbol="AAPL",
        bid=bid,
        ask=bid + Decimal("0.02"),
        bid_size=300,
        ask_size=500,
        venue="XNAS",
    )


def entry_fields(event: Event) -> Fields:
    return default_codec().to_fields(event)


def bench_bus(url: str, namespace: str) -> EventBus:
    return EventBus(RedisTransport(url), config=BENCH_BUS, names=StreamNames(namespace))


class Stopwatch:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def throughput(self, count: int) -> Throughput:
        return Throughput(count, time.perf_counter() - self.wall, time.process_time() - self.cpu)


async def raw_xadd(client: Any, entries: Sequence[Fields]) -> Throughput:
    await client.ping()  # connected before the clock starts
    watch = Stopwatch()
    for start in range(0, len(entries), BATCH):
        pipe = client.pipeline(transaction=False)
        for fields in entries[start : start + BATCH]:
            pipe.xadd("raw:market.quote", fields)
        await pipe.execute()
    return watch.throughput(len(entries))


def raw_xadd_sync(url: str, entries: Sequence[Fields]) -> Throughput:
    """The same with the blocking client, for reference: it parses replies in a tight loop."""
    client: Any = redis_client(RedisConfig(url=url), asynchronous=False)
    try:
        client.ping()
        watch = Stopwatch()
        for start in range(0, len(entries), BATCH):
            pipe = client.pipeline(transaction=False)
            for fields in entries[start : start + BATCH]:
                pipe.xadd("raw-sync:market.quote", fields)
            pipe.execute()
        return watch.throughput(len(entries))
    finally:
        client.close()


async def publish(bus: EventBus, events: Sequence[Event]) -> Throughput:
    await bus.transport.ping()
    watch = Stopwatch()
    for start in range(0, len(events), BATCH):
        await bus.publish_batch(events[start : start + BATCH])
    return watch.throughput(len(events))


async def consume(bus: EventBus, group: str, n: int, idempotent: bool) -> Throughput:
    """One consumer reads the ``n`` published events from the start until none is pending."""
    sink = Sink()
    consumer = bus.group_consumer(
        streams=[STREAM],
        group=group,
        consumer="c1",
        handler=sink.handle,
        config=CONSUMER,
        idempotent=idempotent,
    )
    key = bus.names.key(STREAM)
    watch = Stopwatch()
    task = asyncio.create_task(consumer.run())
    try:
        await sink.wait_for(n, DRAIN_TIMEOUT_S + n / 1_000, task)
        while await _pending(bus, key, group):  # noqa: ASYNC110 - the state is in Redis
            await asyncio.sleep(0.0005)
        return watch.throughput(sink.received)
    finally:
        consumer.stop()
        await task


async def _pending(bus: EventBus, key: str, group: str) -> int:
    info = await bus.transport.info(key)
    return sum(found.pending for found in info.groups if found.name == group)


class Sink:
    """What a consumer handled: latencies (ns) and when the last one arrived."""

    def __init__(self) -> None:
        self.latencies: list[int] = []
        self.last_ns = 0
        self._expected: float = math.inf
        self._complete = asyncio.Event()

    @property
    def received(self) -> int:
        return len(self.latencies)

    def record(self, sent_ns: int) -> None:
        self.last_ns = time.time_ns()
        self.latencies.append(self.last_ns - sent_ns)
        if len(self.latencies) >= self._expected:
            self._complete.set()

    async def handle(self, event: Event, _delivery: Delivery) -> None:
        self.record(event.ts_event)

    async def wait_for(self, count: int, timeout_s: float, task: asyncio.Task[None]) -> None:
        """Until ``count`` are in or the time is up (the report then shows fewer received).

        Raises the consumer's own error if it died meanwhile.
        """
        self._expected = count
        if self.received >= count:
            return
        waiter = asyncio.create_task(self._complete.wait())
        done, _ = await asyncio.wait(
            {waiter, task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        if task in done and self.received < count:
            task.result()
            raise RuntimeError(f"the consumer stopped after {self.received} of {count} events")


def start_consumer(
    url: str, client: Any, mode: str, namespace: str, sink: Sink
) -> tuple[Callable[[], None], asyncio.Task[None]]:
    """A quantrail GroupConsumer, or a bare XREADGROUP + XACK loop; both feed ``sink``."""
    if mode == "quantrail":
        bus = bench_bus(url, namespace)
        consumer = bus.group_consumer(
            streams=[STREAM], group="g", consumer="c1", handler=sink.handle, config=CONSUMER
        )

        async def run_quantrail() -> None:
            try:
                await consumer.run()
            finally:
                await bus.close()

        return consumer.stop, asyncio.create_task(run_quantrail())
    stopping = asyncio.Event()
    key = StreamNames(namespace).key(STREAM)
    return stopping.set, asyncio.create_task(_bare_consumer(client, key, stopping, sink))


async def _bare_consumer(client: Any, key: str, stopping: asyncio.Event, sink: Sink) -> None:
    await client.xgroup_create(key, "g", id="0", mkstream=True)
    while not stopping.is_set():
        reply = await client.xreadgroup("g", "c1", {key: ">"}, count=BATCH, block=100)
        for _stream, rows in reply or []:
            for _entry_id, fields in rows:
                sink.record(int(fields[b"ts_event"]))
            await client.xack(key, "g", *[entry_id for entry_id, _ in rows])


async def sample_lag(client: Any, key: str, samples: list[int]) -> None:
    while True:
        await asyncio.sleep(LAG_SAMPLE_S)
        samples.append(await lag(client, key))


async def lag(client: Any, key: str) -> int:
    """Entries of the group not yet delivered plus those delivered but not acked."""
    groups = await client.xinfo_groups(key)
    return sum(int(group["lag"] or 0) + int(group["pending"]) for group in groups)


# --- the producer process ---------------------------------------------------------------------
async def run_producer(
    mode: str,
    url: str,
    namespace: str,
    rate: int,
    seconds: float,
    on_ready: Callable[[], None] | None,
) -> dict[str, Any]:
    """Run the paced producer process to its end; ``on_ready`` when its clock starts."""
    paths = [_SRC, os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    argv = f"--mode {mode} --url {url} --namespace {namespace} --rate {rate} --seconds {seconds}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "quantrail.ops.bench_producer",
        *argv.split(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    try:
        ready = await asyncio.wait_for(proc.stdout.readline(), 60)
        if ready.strip() == b"ready" and on_ready is not None:
            on_ready()
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 60)
    finally:
        if proc.returncode is None:  # timed out or cancelled: never leave it running
            proc.kill()
            await proc.wait()
    if proc.returncode != 0 or ready.strip() != b"ready":
        raise RuntimeError(f"{mode} producer failed (exit {proc.returncode}): {err.decode()}")
    result: dict[str, Any] = json.loads(out)
    return result


async def _produce(mode: str, url: str, namespace: str, rate: int, seconds: float) -> None:
    """Publish ``rate``/s for ``seconds``, each event stamped with the wall clock at send."""
    if mode == "quantrail":
        bus = bench_bus(url, namespace)

        async def send(count: int) -> None:
            await bus.publish_batch([sample_quote(time.time_ns()) for _ in range(count)])

        connect, close = bus.transport.ping, bus.close
    else:
        client: Any = redis_client(RedisConfig(url=url))
        key, template = StreamNames(namespace).key(STREAM), entry_fields(sample_quote(0))

        async def send(count: int) -> None:
            pipe = client.pipeline(transaction=False)
            for _ in range(count):
                pipe.xadd(key, {**template, b"ts_event": str(time.time_ns()).encode()})
            await pipe.execute()

        connect, close = client.ping, client.aclose
    await connect()  # connected before the clock starts
    print("ready", flush=True)
    start_ns, sent, elapsed = await _paced(send, rate, seconds)
    await close()
    print(json.dumps({"start_ns": start_ns, "sent": sent, "seconds": elapsed}), flush=True)


async def _paced(
    send: Callable[[int], Awaitable[None]], rate: int, seconds: float
) -> tuple[int, int, float]:
    """Send what is due on a fixed schedule, looking every millisecond; catch up when late."""
    total, sent = round(rate * seconds), 0
    start_ns, start = time.time_ns(), time.perf_counter()
    while sent < total:
        elapsed = time.perf_counter() - start
        due = min(total, int(elapsed * rate) + 1) - sent
        for offset in range(0, due, BATCH):
            await send(min(BATCH, due - offset))
        sent += due
        next_tick = start + (math.floor(elapsed * 1000) + 1) / 1000
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    return start_ns, sent, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    """The producer process's entry point; ``run_producer`` starts it with every option."""
    parser = argparse.ArgumentParser(prog="quantrail.ops.bench_producer")
    parser.add_argument("--mode", choices=("quantrail", "bare"), required=True)
    for name in ("--url", "--namespace", "--rate", "--seconds"):
        parser.add_argument(name, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_produce(args.mode, args.url, args.namespace, int(args.rate), float(args.seconds)))


if __name__ == "__main__":
    main()
