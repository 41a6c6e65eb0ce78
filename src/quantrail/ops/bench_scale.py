"""``quantrail bench scale``: what more consumer processes and a Redis Cluster buy.

One run starts a private single Redis and a private 3-master Redis Cluster (never a user's),
and for each, 1, 2 and 4 consumer processes of one service (one group; ``market.quote``
sharded ``SHARDS`` ways by symbol, the processes sharing the shards through leases). Two phases
each: a producer process publishing ``count`` quotes as fast as it can (end-to-end events/s,
first send to last receipt), and the same producer paced at ``rate``/s (end-to-end p99). Every
figure is shown as a ratio to 1 process on 1 Redis in the same run, with the CPU microseconds
per event of the producer, the consumers and Redis (from its INFO), so the figures extrapolate
beyond this machine. The child processes are ``python -m quantrail.ops.bench_scale``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.cluster import RedisClusterTransport
from quantrail.bus.delivery import Delivery
from quantrail.bus.redis import RedisTransport
from quantrail.bus.transport import Transport
from quantrail.config import BusConfig, ConsumerConfig, Retention
from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated
from quantrail.events.streams import StreamNames
from quantrail.ops.bench_report import percentile
from quantrail.ops.redis_cluster import RedisClusterServer
from quantrail.ops.redis_server import RedisServer

STREAM, GROUP, SHARDS, BATCH = "market.quote", "bench", 8, 500
SYMBOLS = [f"SYM{i:03d}" for i in range(64)]
PROCESSES = (1, 2, 4)
LEASE_TTL_MS = 2_000
_SRC = str(Path(__file__).resolve().parents[2])


def _bus_config() -> BusConfig:
    return BusConfig(
        transport="redis",
        shards=SHARDS,
        lease_ttl_ms=LEASE_TTL_MS,
        retention={STREAM: Retention(maxlen=5_000_000)},
        consumer=ConsumerConfig(batch_size=BATCH, block_ms=100),
    )


def _transport(nodes: Sequence[str]) -> Transport:
    if len(nodes) > 1:
        return RedisClusterTransport(nodes)
    return RedisTransport(f"redis://{nodes[0]}/0")


def _bus(nodes: Sequence[str], namespace: str) -> EventBus:
    return EventBus(_transport(nodes), config=_bus_config(), names=StreamNames(namespace))


def _quote(seq: int) -> QuoteUpdated:
    bid = Decimal("189.51")
    return QuoteUpdated(
        ts_event=time.time_ns(),
        symbol=SYMBOLS[seq % len(SYMBOLS)],
        bid=bid,
        ask=bid + Decimal("0.02"),
        bid_size=300,
        ask_size=500,
        venue="XNAS",
    )


@dataclass(frozen=True, slots=True)
class Phase:
    """One configuration and phase: end-to-end rate, latency and CPU per event."""

    redis: str  # "single" | "cluster"
    processes: int
    mode: str  # "max" | "paced"
    events: int
    per_s: float
    p50_ms: float
    p99_ms: float
    producer_cpu_us: float
    consumer_cpu_us: float
    redis_cpu_us: float


# --- the child processes ----------------------------------------------------------------------
async def _consume(nodes: list[str], namespace: str, name: str) -> None:
    bus = _bus(nodes, namespace)
    latencies: list[int] = []
    last_ns = [0]

    async def handle(event: Event, _delivery: Delivery) -> None:
        last_ns[0] = time.time_ns()
        latencies.append(last_ns[0] - event.ts_event)

    consumer = bus.group_consumer(streams=[STREAM], group=GROUP, consumer=name, handler=handle)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, consumer.stop)
    cpu = time.process_time()
    print("ready", flush=True)
    await consumer.run()
    await bus.close()
    result = {"latencies": latencies, "cpu_s": time.process_time() - cpu, "last_ns": last_ns[0]}
    print(json.dumps(result), flush=True)


async def _produce(nodes: list[str], namespace: str, count: int, rate: int) -> None:
    bus = _bus(nodes, namespace)
    await bus.transport.ping()  # connected before the clock starts
    cpu, start, start_ns = time.process_time(), time.perf_counter(), time.time_ns()
    sent = 0
    while sent < count:
        if rate:  # paced: what is due by now, looking every millisecond
            due = min(count, int((time.perf_counter() - start) * rate) + 1) - sent
            if due <= 0:
                await asyncio.sleep(0.001)
                continue
        else:
            due = min(BATCH, count - sent)
        for offset in range(0, due, BATCH):
            size = min(BATCH, due - offset)
            await bus.publish_batch([_quote(sent + offset + i) for i in range(size)])
        sent += due
    await bus.close()
    print(json.dumps({"cpu_s": time.process_time() - cpu, "start_ns": start_ns}), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="quantrail.ops.bench_scale")
    parser.add_argument("role", choices=("consume", "produce"))
    parser.add_argument("--nodes", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--name", default="c0")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--rate", type=int, default=0)
    args = parser.parse_args(argv)
    nodes = args.nodes.split(",")
    if args.role == "consume":
        asyncio.run(_consume(nodes, args.namespace, args.name))
    else:
        asyncio.run(_produce(nodes, args.namespace, args.count, args.rate))


# --- the run ------------------------------------------------------------------------------------
async def _child(*argv: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH", "")) if p),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "quantrail.ops.bench_scale", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def _redis_cpu_s(nodes: Sequence[str]) -> float:
    """CPU seconds used so far by every node (INFO cpu, user + system)."""
    total = 0.0
    for node in nodes:
        host, port = node.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"INFO cpu\r\n")
        await writer.drain()
        header = await reader.readline()
        body = (await reader.readexactly(int(header[1:]) + 2)).decode()
        writer.close()
        fields = dict(line.split(":", 1) for line in body.split("\r\n") if ":" in line)
        total += float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])
    return total


async def _balanced(bus: EventBus, names: list[str], timeout_s: float = 30.0) -> None:
    """Until every shard is leased to the member that wants it (the split has settled)."""
    from quantrail.bus.leases import ShardLeases, wanted_shards

    store = bus.transport.lease_store()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        owners = {}
        for name in names:
            leases = ShardLeases(store, bus.names, GROUP, name, SHARDS, LEASE_TTL_MS)
            for index in wanted_shards(names, name, SHARDS):
                owners[leases.lease_key(index)] = name
        client: Any = getattr(bus.transport, "_client")  # noqa: B009 - a read-only probe
        values = [await client.get(key) for key in owners]
        if all(
            v is not None and v.decode() == owners[k] for k, v in zip(owners, values, strict=True)
        ):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the shard leases of {names} did not settle in {timeout_s}s")


async def _phase(
    nodes: list[str], label: str, processes: int, count: int, rate: int, tag: str
) -> Phase:
    namespace = f"scale-{label}-{processes}-{tag}"
    names = [f"c{i}" for i in range(processes)]
    consumers = [
        await _child("consume", "--nodes", ",".join(nodes), "--namespace", namespace, "--name", n)
        for n in names
    ]
    probe = _bus(nodes, namespace)
    try:
        for proc in consumers:
            assert proc.stdout is not None
            if (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() != b"ready":
                raise RuntimeError("a consumer process failed to start")
        await _balanced(probe, names)
        redis_cpu = await _redis_cpu_s(nodes)
        producer = await _child(
            "produce",
            "--nodes",
            ",".join(nodes),
            "--namespace",
            namespace,
            "--count",
            str(count),
            "--rate",
            str(rate),
        )
        out, err = await producer.communicate()
        if producer.returncode != 0:
            raise RuntimeError(f"the producer failed: {err.decode()[-500:]}")
        await _drained(probe, count)
        redis_cpu = await _redis_cpu_s(nodes) - redis_cpu
    finally:
        results = []
        for proc in consumers:
            with suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in consumers:
            stdout, _ = await proc.communicate()
            lines = stdout.decode().strip().splitlines()
            if lines and lines[-1].startswith("{"):
                results.append(json.loads(lines[-1]))
        await probe.close()
    latencies = sorted(x for r in results for x in r["latencies"])
    start_ns = json.loads(out)["start_ns"]
    span_s = (max((r["last_ns"] for r in results), default=start_ns) - start_ns) / 1e9
    return Phase(
        label, processes, "paced" if rate else "max", len(latencies),
        len(latencies) / span_s if span_s else 0.0,
        percentile(latencies, 0.5) / 1e6, percentile(latencies, 0.99) / 1e6,
        json.loads(out)["cpu_s"] * 1e6 / count,
        sum(r["cpu_s"] for r in results) * 1e6 / count,
        redis_cpu * 1e6 / count,
    )  # fmt: skip


async def _drained(bus: EventBus, count: int, timeout_s: float = 120.0) -> None:
    """Until the group has read and acked ``count`` entries over all shards."""
    deadline = time.monotonic() + timeout_s
    keys = [bus.names.key(s) for s in bus.shard_streams(STREAM)]
    while time.monotonic() < deadline:
        infos = [await bus.transport.info(key) for key in keys]
        groups = [g for info in infos for g in info.groups if g.name == GROUP]
        done = sum(info.length for info in infos)
        if done >= count and all(g.pending == 0 and (g.lag or 0) == 0 for g in groups):
            return
        await asyncio.sleep(0.02)  # polling Redis; the figures use the consumers' own clocks
    raise RuntimeError(f"the consumers did not drain {count} events in {timeout_s}s")


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    quick: bool = False
    json_path: Path | None = None
    count: int | None = None  # events of each max-rate phase
    rate: int | None = None  # events/s of each paced phase
    seconds: float | None = None  # length of each paced phase

    @property
    def events(self) -> int:
        return self.count or (20_000 if self.quick else 60_000)

    @property
    def paced_rate(self) -> int:
        return self.rate or 5_000

    @property
    def paced_seconds(self) -> float:
        return self.seconds or (2.0 if self.quick else 4.0)


def run_scale_bench(options: ScaleOptions, say: Any = print) -> list[Phase]:
    """Start a private Redis and a private 3-master cluster, measure every phase, stop both."""
    single, cluster = RedisServer().start(), RedisClusterServer(masters=3, replicas=0)
    try:
        cluster.start()
        setups = [("single", [f"127.0.0.1:{single.port}"]), ("cluster", cluster.startup_nodes)]
        phases = asyncio.run(_measure(setups, options, say))
    finally:
        cluster.stop()
        single.stop()
    if options.json_path is not None:
        report = {"phases": [asdict(p) for p in phases], "ratios": ratios(phases)}
        options.json_path.write_text(json.dumps(report, indent=2) + "\n")
    return phases


async def _measure(
    setups: list[tuple[str, list[str]]], options: ScaleOptions, say: Any
) -> list[Phase]:
    phases = []
    paced_count = round(options.paced_rate * options.paced_seconds)
    for label, nodes in setups:
        for processes in PROCESSES:
            say(f"{label} Redis, {processes} consumer process(es): {options.events:,} at max rate")
            phases.append(await _phase(nodes, label, processes, options.events, 0, "max"))
            say(f"{label} Redis, {processes} consumer process(es): {options.paced_rate:,}/s")
            phases.append(
                await _phase(nodes, label, processes, paced_count, options.paced_rate, "paced")
            )
    return phases


def ratios(phases: Sequence[Phase]) -> dict[str, dict[str, float]]:
    """Events/s (max phases) and p99 (paced phases) over 1 process on 1 Redis."""
    base_rate = next(
        p.per_s for p in phases if (p.redis, p.processes, p.mode) == ("single", 1, "max")
    )
    base_p99 = next(
        p.p99_ms for p in phases if (p.redis, p.processes, p.mode) == ("single", 1, "paced")
    )
    out: dict[str, dict[str, float]] = {}
    for p in phases:
        row = out.setdefault(f"{p.redis} x{p.processes}", {})
        if p.mode == "max":
            row["events_per_s_ratio"] = round(p.per_s / base_rate, 2) if base_rate else 0.0
        else:
            row["p99_ratio"] = round(p.p99_ms / base_p99, 2) if base_p99 else 0.0
    return out


def render(phases: Sequence[Phase], console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"bench scale: {STREAM} in {SHARDS} shards, one group")
    # CPU µs per event: the producer, all consumer processes, all Redis nodes.
    for column in ("redis", "n", "phase", "events", "ev/s", "p50 ms", "p99 ms",
                   "prod µs", "cons µs", "redis µs"):  # fmt: skip
        table.add_column(column, justify="right")
    for p in phases:
        table.add_row(
            p.redis, str(p.processes), p.mode, f"{p.events:,}", f"{p.per_s:,.0f}",
            f"{p.p50_ms:.2f}", f"{p.p99_ms:.2f}", f"{p.producer_cpu_us:.1f}",
            f"{p.consumer_cpu_us:.1f}", f"{p.redis_cpu_us:.1f}",
        )  # fmt: skip
    console.print(table)
    ratio_table = Table(title="ratios to 1 process on 1 Redis (same run)")
    for column in ("setup", "events/s ratio (max)", "p99 ratio (paced)"):
        ratio_table.add_column(column, justify="right")
    for setup, row in ratios(phases).items():
        ratio_table.add_row(
            setup, f"{row.get('events_per_s_ratio', 0):.2f}x", f"{row.get('p99_ratio', 0):.2f}x"
        )
    console.print(ratio_table)


if __name__ == "__main__":
    main()
