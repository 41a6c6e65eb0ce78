"""``quantrail bench transport``: what the Redis transport costs against bare redis-py.

Every figure is measured in one run on one private redis-server started here (never a user's
Redis) and shown next to a baseline from the same run: quantrail publish and consume against
raw pipelined XADD, quantrail end-to-end latency against a bare redis-py producer/consumer pair.
The paced producers run in a separate process so both cores work, as in production. CPU time
per event of this process is reported too: unlike rates, it hardly moves when other programs
share the machine. Speed is measured here, never in timed tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.utils import HIREDIS_AVAILABLE
from rich.console import Console
from rich.table import Table

from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.redis import RedisTransport
from quantrail.config import BusConfig, ConsumerConfig, Retention
from quantrail.events.base import Event
from quantrail.events.codec import Fields, default_codec
from quantrail.events.market import QuoteUpdated
from quantrail.events.streams import StreamNames
from quantrail.ops.redis_server import RedisServer

STREAM = "market.quote"
BATCH = 500
LATENCY_RATES = (1_000, 10_000)
SUSTAINED_RATE = 20_000
P99_TARGET_MS = {1_000: 2.0, 10_000: 5.0}
THROUGHPUT_TARGET = 0.5  # of the raw baseline
LAG_SAMPLE_S = 0.5
DRAIN_TIMEOUT_S = 30.0
# Never trims within a run, yet every XADD carries MAXLEN ~ as in production.
BENCH_BUS = BusConfig(transport="redis", retention={STREAM: Retention(maxlen=5_000_000)})
CONSUMER = ConsumerConfig(batch_size=BATCH, block_ms=100)
_SRC = str(Path(__file__).resolve().parents[2])  # the producer process imports quantrail here


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """``quick`` shortens every phase; explicit sizes (smoke tests) override both defaults."""

    quick: bool = False
    json_path: Path | None = None
    entries: int | None = None
    latency_s: float | None = None
    sustained_s: float | None = None
    progress: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.entries is not None and self.entries < 1:
            raise ValueError(f"entries: must be >= 1 (value: {self.entries!r})")
        for name in ("latency_s", "sustained_s"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name}: must be > 0 seconds (value: {value!r})")

    @property
    def count(self) -> int:
        return self.entries or (20_000 if self.quick else 100_000)

    @property
    def latency_seconds(self) -> float:
        return self.latency_s or (2.0 if self.quick else 5.0)

    @property
    def sustained_seconds(self) -> float:
        return self.sustained_s or (4.0 if self.quick else 10.0)

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


@dataclass(frozen=True, slots=True)
class Throughput:
    count: int
    seconds: float
    cpu_s: float  # CPU time of this process over the phase

    @property
    def per_s(self) -> float:
        return _div(self.count, self.seconds)

    @property
    def cpu_us_per_event(self) -> float:
        return _div(self.cpu_s * 1e6, self.count)


@dataclass(frozen=True, slots=True)
class Latency:
    """End to end: the consumer's clock at handling minus the producer's stamp at send."""

    offered_per_s: int
    achieved_per_s: float  # received / (last receipt - producer start)
    sent: int
    received: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    consumer_cpu_us_per_event: float


@dataclass(frozen=True, slots=True)
class LatencyPair:
    rate: int
    quantrail: Latency
    bare: Latency


@dataclass(frozen=True, slots=True)
class Sustained:
    offered_per_s: int
    seconds: float
    sent: int
    sent_per_s: float  # what the producer really offered
    received: int
    achieved_per_s: float
    consumer_cpu_us_per_event: float  # x rate / 1e6 = the share of a core it needs
    max_lag: int
    final_lag: int  # the moment the producer stopped
    lag_samples: tuple[int, ...]

    @property
    def growing(self) -> bool:
        return lag_growing(self.lag_samples)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    goal: str
    passed: bool


@dataclass(frozen=True, slots=True)
class BenchReport:
    environment: dict[str, Any]
    raw_xadd: Throughput
    raw_xadd_sync: Throughput  # reference only: quantrail runs on the asyncio client
    publish: Throughput
    consume: Throughput
    consume_no_idempotency: Throughput
    latency: tuple[LatencyPair, ...]
    sustained: Sustained

    def ratio(self, figure: Throughput) -> float:
        return _div(figure.per_s, self.raw_xadd.per_s)

    def targets(self) -> list[Target]:
        found = [
            _ratio_target("publish", self.ratio(self.publish)),
            _ratio_target("consume+ack", self.ratio(self.consume)),
        ]
        for pair in (p for p in self.latency if p.rate in P99_TARGET_MS):
            limit, p99 = P99_TARGET_MS[pair.rate], pair.quantrail.p99_ms
            found.append(
                Target(f"p99 at {pair.rate:,}/s", f"{p99:.2f} ms", f"< {limit:g} ms", p99 < limit)
            )
        s = self.sustained
        steady = not s.growing and s.sent_per_s >= 0.95 * s.offered_per_s and s.received == s.sent
        measured = f"{s.achieved_per_s:,.0f}/s, lag max {s.max_lag:,}, final {s.final_lag:,}"
        found.append(Target(f"sustained {s.offered_per_s:,}/s", measured, "no growing lag", steady))
        return found

    def to_dict(self) -> dict[str, Any]:
        def rate(figure: Throughput) -> dict[str, Any]:
            return {
                **asdict(figure),
                "per_s": figure.per_s,
                "ratio_to_raw": self.ratio(figure),
                "cpu_us_per_event": figure.cpu_us_per_event,
            }

        names = ("raw_xadd", "raw_xadd_sync", "publish", "consume", "consume_no_idempotency")
        return {
            "environment": self.environment,
            "throughput": {name: rate(getattr(self, name)) for name in names},
            "latency": [{**asdict(p), "ratio_to_bare": _latency_ratios(p)} for p in self.latency],
            "sustained": {
                **asdict(self.sustained),
                "growing": self.sustained.growing,
                "lag_samples": list(self.sustained.lag_samples),
            },
            "targets": [asdict(target) for target in self.targets()],
        }

    def _rows(self) -> list[tuple[str, ...]]:
        """Throughput against raw XADD; latency against the bare pair (CPU: quantrail | bare)."""
        raw = self.raw_xadd
        rows: list[tuple[str, ...]] = [
            ("raw XADD, pipelines of 500", "", _rate(raw.per_s), "1.00", _cpu(raw))
        ]
        for label, fig in (
            ("raw XADD, sync client (reference)", self.raw_xadd_sync),
            ("publish_batch (500)", self.publish),
            ("consume+ack", self.consume),
            ("consume+ack, idempotent=False", self.consume_no_idempotency),
        ):
            ratio = f"{self.ratio(fig):.2f}"
            rows.append((label, _rate(fig.per_s), _rate(raw.per_s), ratio, _cpu(fig)))
        for pair in self.latency:
            q, b = pair.quantrail, pair.bare
            for name in ("p50_ms", "p99_ms", "max_ms"):
                qv, bv = getattr(q, name), getattr(b, name)
                label = f"{pair.rate:,}/s latency {name[:-3]}"
                rows.append((label, f"{qv:.2f} ms", f"{bv:.2f} ms", f"{_div(qv, bv):.2f}", ""))
            cpu = f"{q.consumer_cpu_us_per_event:.1f} | {b.consumer_cpu_us_per_event:.1f}"
            achieved = _rate(q.achieved_per_s), _rate(b.achieved_per_s)
            rows.append((f"{pair.rate:,}/s achieved", *achieved, "", cpu))
        s = self.sustained
        label = f"{s.offered_per_s:,}/s for {s.seconds:g} s"
        cpu = f"{s.consumer_cpu_us_per_event:.1f}"
        rows.append((label, _rate(s.achieved_per_s), "sent " + _rate(s.sent_per_s), "", cpu))
        growth = "growing" if s.growing else "steady"
        rows.append(("  lag max | final", f"{s.max_lag:,}", f"{s.final_lag:,}", growth))
        return rows

    def render(self, console: Console) -> None:
        table = Table(title="quantrail bench transport: one run, one private redis-server")
        for column in ("figure", "quantrail", "baseline", "ratio", "CPU µs/event"):
            table.add_column(column, justify="left" if column == "figure" else "right")
        for row in self._rows():
            table.add_row(*row)
        console.print(table)
        verdicts = Table(title="targets")
        for column in ("target", "measured", "goal", "result"):
            verdicts.add_column(column)
        for t in self.targets():
            verdicts.add_row(
                t.name, t.measured, t.goal, "[green]PASS[/green]" if t.passed else "[red]MISS[/red]"
            )
        console.print(verdicts)
        console.print(", ".join(f"{k}={v}" for k, v in self.environment.items()))


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s"


def _cpu(figure: Throughput) -> str:
    return f"{figure.cpu_us_per_event:.1f}"


def _ratio_target(name: str, ratio: float) -> Target:
    return Target(
        f"{name} >= {THROUGHPUT_TARGET:.0%} of raw XADD",
        f"{ratio:.2f} x raw",
        f">= {THROUGHPUT_TARGET:.2f} x raw",
        ratio >= THROUGHPUT_TARGET,
    )


def _latency_ratios(pair: LatencyPair) -> dict[str, float]:
    names = ("p50_ms", "p99_ms", "max_ms")
    return {n: _div(getattr(pair.quantrail, n), getattr(pair.bare, n)) for n in names}


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def lag_growing(samples: Sequence[int]) -> bool:
    """The consumer is falling behind, not just absorbing a burst.

    Growing: the last third's mean lag is over twice the first third's and over 1,000 entries,
    and the lag never came back under 1,000 in the last third (a burst it recovers from dips).
    """
    if len(samples) < 3:
        return False
    third = len(samples) // 3
    first, last = samples[:third], samples[-third:]
    last_mean = sum(last) / third
    return last_mean > 2 * sum(first) / third and last_mean > 1_000 and min(last) > 1_000


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (``q`` in 0..1) of ascending values."""
    if not sorted_values:
        raise ValueError("percentile: no values (empty sample)")
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


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


def run_transport_bench(options: BenchOptions) -> BenchReport:
    """Start a private redis-server, measure every phase, stop it (also on error)."""
    server = RedisServer().start()
    try:
        report = asyncio.run(_measure(server.url, options))
    finally:
        server.stop()
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report


async def _measure(url: str, options: BenchOptions) -> BenchReport:
    client: Any = aioredis.Redis.from_url(url)
    bus = _bus(url, "bench-tp")
    try:
        env = await _environment(client)
        n, seconds = options.count, options.latency_seconds
        options.say(f"raw XADD baseline, {n:,} entries")
        entries = [_fields(sample_quote(i)) for i in range(n)]
        raw = await _raw_xadd(client, entries)
        raw_sync = await asyncio.to_thread(_raw_xadd_sync, url, entries)
        del entries
        options.say(f"quantrail publish_batch, {n:,} events")
        publish = await _publish(bus, [sample_quote(i) for i in range(n)])
        options.say(f"consume+ack of those {n:,}, idempotent and not")
        consume = await _consume(bus, "idem", n, idempotent=True)
        plain = await _consume(bus, "plain", n, idempotent=False)
        pairs = []
        for rate in LATENCY_RATES:
            await client.flushall()
            options.say(f"latency at {rate:,}/s for {seconds:g} s, quantrail then bare")
            q = await _latency(url, client, "quantrail", rate, seconds)
            pairs.append(LatencyPair(rate, q, await _latency(url, client, "bare", rate, seconds)))
        await client.flushall()
        options.say(f"sustained {SUSTAINED_RATE:,}/s for {options.sustained_seconds:g} s")
        sustained = await _sustained(url, client, SUSTAINED_RATE, options.sustained_seconds)
        env["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)  # others' load skews rates
    finally:
        await bus.close()
        await client.aclose()
    return BenchReport(env, raw, raw_sync, publish, consume, plain, tuple(pairs), sustained)


async def _environment(client: Any) -> dict[str, Any]:
    fields = _fields(sample_quote(time.time_ns()))
    server = await client.info("server")
    return {
        "redis_server": server["redis_version"],
        "redis_py": redis.__version__,
        "hiredis": HIREDIS_AVAILABLE,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "event": QuoteUpdated.__struct_config__.tag,
        "payload_bytes": len(fields[b"payload"]),
        "entry_bytes": sum(len(k) + len(v) for k, v in fields.items()),
    }


def _fields(event: Event) -> Fields:
    return default_codec().to_fields(event)


def _bus(url: str, namespace: str) -> EventBus:
    return EventBus(RedisTransport(url), config=BENCH_BUS, names=StreamNames(namespace))


class _Stopwatch:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def throughput(self, count: int) -> Throughput:
        return Throughput(count, time.perf_counter() - self.wall, time.process_time() - self.cpu)


async def _raw_xadd(client: Any, entries: Sequence[Fields]) -> Throughput:
    await client.ping()  # connected before the clock starts
    watch = _Stopwatch()
    for start in range(0, len(entries), BATCH):
        pipe = client.pipeline(transaction=False)
        for fields in entries[start : start + BATCH]:
            pipe.xadd("raw:market.quote", fields)
        await pipe.execute()
    return watch.throughput(len(entries))


def _raw_xadd_sync(url: str, entries: Sequence[Fields]) -> Throughput:
    """The same with the blocking client, for reference: it parses replies in a tight loop."""
    client: Any = redis.Redis.from_url(url)
    try:
        client.ping()
        watch = _Stopwatch()
        for start in range(0, len(entries), BATCH):
            pipe = client.pipeline(transaction=False)
            for fields in entries[start : start + BATCH]:
                pipe.xadd("raw-sync:market.quote", fields)
            pipe.execute()
        return watch.throughput(len(entries))
    finally:
        client.close()


async def _publish(bus: EventBus, events: Sequence[Event]) -> Throughput:
    await bus.transport.ping()
    watch = _Stopwatch()
    for start in range(0, len(events), BATCH):
        await bus.publish_batch(events[start : start + BATCH])
    return watch.throughput(len(events))


async def _consume(bus: EventBus, group: str, n: int, idempotent: bool) -> Throughput:
    """One consumer reads the ``n`` published events from the start until none is pending."""
    sink = _Sink()
    consumer = bus.group_consumer(
        streams=[STREAM],
        group=group,
        consumer="c1",
        handler=sink.handle,
        config=CONSUMER,
        idempotent=idempotent,
    )
    key = bus.names.key(STREAM)
    watch = _Stopwatch()
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


class _Sink:
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


async def _latency(url: str, client: Any, mode: str, rate: int, seconds: float) -> Latency:
    namespace, sink = f"bench-{mode}-{rate}", _Sink()
    stop, task = _start_consumer(url, client, mode, namespace, sink)
    watch = _Stopwatch()
    try:
        result = await _run_producer(mode, url, namespace, rate, seconds, None)
        await sink.wait_for(result["sent"], DRAIN_TIMEOUT_S, task)
        cpu = watch.throughput(sink.received).cpu_us_per_event
    finally:
        stop()
        await task
    ordered = sorted(sink.latencies)
    if not ordered:
        raise RuntimeError(f"the {mode} consumer got none of {result['sent']} events at {rate}/s")
    span_s = (sink.last_ns - result["start_ns"]) / 1e9
    return Latency(
        rate,
        _div(len(ordered), span_s),
        result["sent"],
        len(ordered),
        percentile(ordered, 0.5) / 1e6,
        percentile(ordered, 0.99) / 1e6,
        ordered[-1] / 1e6,
        cpu,
    )


def _start_consumer(
    url: str, client: Any, mode: str, namespace: str, sink: _Sink
) -> tuple[Callable[[], None], asyncio.Task[None]]:
    """A quantrail GroupConsumer, or a bare XREADGROUP + XACK loop; both feed ``sink``."""
    if mode == "quantrail":
        bus = _bus(url, namespace)
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


async def _bare_consumer(client: Any, key: str, stopping: asyncio.Event, sink: _Sink) -> None:
    await client.xgroup_create(key, "g", id="0", mkstream=True)
    while not stopping.is_set():
        reply = await client.xreadgroup("g", "c1", {key: ">"}, count=BATCH, block=100)
        for _stream, rows in reply or []:
            for _entry_id, fields in rows:
                sink.record(int(fields[b"ts_event"]))
            await client.xack(key, "g", *[entry_id for entry_id, _ in rows])


async def _run_producer(
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
    argv = (
        f"--producer {mode} --url {url} --namespace {namespace} --rate {rate} --seconds {seconds}"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "quantrail.ops.bench_transport",
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


async def _sustained(url: str, client: Any, rate: int, seconds: float) -> Sustained:
    namespace, sink, samples = "bench-sustained", _Sink(), list[int]()
    key = StreamNames(namespace).key(STREAM)
    stop, task = _start_consumer(url, client, "quantrail", namespace, sink)
    sampler: list[asyncio.Task[None]] = []
    watch = _Stopwatch()
    try:
        result = await _run_producer(
            "quantrail",
            url,
            namespace,
            rate,
            seconds,
            lambda: sampler.append(asyncio.create_task(_sample_lag(client, key, samples))),
        )
        sampler[0].cancel()
        samples.append(await _lag(client, key))  # the moment the producer stopped
        await sink.wait_for(result["sent"], DRAIN_TIMEOUT_S, task)
        cpu = watch.throughput(sink.received).cpu_us_per_event
    finally:
        for sampling in sampler:
            sampling.cancel()
        stop()
        await task
    span_s = (sink.last_ns - result["start_ns"]) / 1e9
    return Sustained(
        offered_per_s=rate,
        seconds=seconds,
        sent=result["sent"],
        sent_per_s=result["sent"] / result["seconds"],
        received=sink.received,
        achieved_per_s=_div(sink.received, span_s),
        consumer_cpu_us_per_event=cpu,
        max_lag=max(samples),
        final_lag=samples[-1],
        lag_samples=tuple(samples),
    )


async def _sample_lag(client: Any, key: str, samples: list[int]) -> None:
    while True:
        await asyncio.sleep(LAG_SAMPLE_S)
        samples.append(await _lag(client, key))


async def _lag(client: Any, key: str) -> int:
    """Entries of the group not yet delivered plus those delivered but not acked."""
    groups = await client.xinfo_groups(key)
    return sum(int(group["lag"] or 0) + int(group["pending"]) for group in groups)


# --- the producer process ---------------------------------------------------------------------
async def _produce(mode: str, url: str, namespace: str, rate: int, seconds: float) -> None:
    """Publish ``rate``/s for ``seconds``, each event stamped with the wall clock at send."""
    if mode == "quantrail":
        bus = _bus(url, namespace)

        async def send(count: int) -> None:
            await bus.publish_batch([sample_quote(time.time_ns()) for _ in range(count)])

        connect, close = bus.transport.ping, bus.close
    else:
        client: Any = aioredis.Redis.from_url(url)
        key, template = StreamNames(namespace).key(STREAM), _fields(sample_quote(0))

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
    """``python -m quantrail.ops.bench_transport [--quick] [--json PATH]``."""
    parser = argparse.ArgumentParser(prog="quantrail bench transport")
    parser.add_argument("--quick", action="store_true", help="20,000 entries, shorter phases")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    for hidden in ("--producer", "--url", "--namespace", "--rate", "--seconds"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)  # the producer process
    args = parser.parse_args(argv)
    if args.producer:
        asyncio.run(
            _produce(args.producer, args.url, args.namespace, int(args.rate), float(args.seconds))
        )
        return
    console = Console()
    options = BenchOptions(quick=args.quick, json_path=args.json, progress=console.log)
    run_transport_bench(options).render(console)


if __name__ == "__main__":
    main()
