"""``quantrail bench venue``: does the trading chain slow down as its order history grows?

The measurement of issue 14, run the same way: one equity, synthetic quotes one simulated
millisecond apart, a 100-share market order every ``order_every`` quotes (buy and sell in turn,
so the position stays small), through the real ``ExecutionService`` (simulated venue, pre-trade
gate, LiquidityGuard, order registry) and ``ExposureService`` on the in-process bus, moved by a
``Simulation`` on a simulated clock. Quotes go in blocks of ``order_every``; after each block the
clock moves one second (the venue's timer applies its reports) and the services settle. The
wall and CPU time of every block are kept; the report gives quotes/s over the first and the
last 10 % of the quotes and their ratio, for this run and for a run without orders (the
baseline, same process, same sizes). A chain whose cost grows with history shows a ratio well
under 1.

The two runs go block by block in turn (``run_interleaved``), so the load other programs put on
the machine falls on both alike; the verdict takes the run's last/first ratio against the
baseline's (``relative_ratio``): what the order history costs, not what the machine did. Both
raw ratios are shown too.

Each 10 %'s rate is taken at its median block (``order_every`` quotes over the block's median
time), not its mean: on a shared machine a block that another process preempted is an outlier
that says nothing about the chain, and the median ignores it while a cost that grows with
history moves every block, so the median too.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.config import Config, config_from_mapping
from quantrail.events import IntentCreated, QuoteUpdated
from quantrail.events.streams import StreamNames
from quantrail.execution.registry import registry_for
from quantrail.execution.service import ExecutionService
from quantrail.execution.venues import SimulatedVenue, make_venue
from quantrail.ops.bench_machine import bench_machine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.rules import load_risk_rules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation
from quantrail.vocab import Bucket, Mode, OrderType, Side

ACCOUNT = "BENCH"
SYMBOL = "ACME"
ORDER_QTY = 100
QUOTE_GAP_NS = 1_000_000  # 1 ms of simulated time between quotes
BLOCK_S = 1.0  # simulated time a block of quotes takes, then the venue's reports are applied
PUBLISH_BATCH = 500
START_NS = int(datetime(2026, 3, 2, 15, 0, tzinfo=UTC).timestamp()) * NS_PER_SECOND
"""A Monday, 10:00 in New York: inside the exposure service's day for the whole run."""
STEADY_RATIO = 0.9  # the last 10 %'s rate over the first 10 %'s, the bar


@dataclass(frozen=True, slots=True)
class VenueBenchOptions:
    quotes: int = 1_000_000
    order_every: int = 1_000
    json_path: Path | None = None

    def __post_init__(self) -> None:
        if self.order_every < 1:
            raise ValueError(f"--order-every: must be >= 1, got {self.order_every}")
        if self.quotes < 10 * self.order_every:
            raise ValueError(
                f"--quotes: must be >= 10 x --order-every ({10 * self.order_every}), "
                f"got {self.quotes}: each 10 % needs a whole block"
            )


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run: quotes/s over its first and last 10 %, and what the venue did."""

    orders: int
    quotes: int
    seconds: float
    cpu_seconds: float
    first_per_s: float  # at the median block's wall time
    last_per_s: float
    first_cpu_per_s: float  # at the median block's CPU time (less moved by others' load)
    last_cpu_per_s: float
    fills: int
    open_orders_at_end: int
    orders_examined: int  # by the venue's matching, over the whole run

    @property
    def per_s(self) -> float:
        return self.quotes / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.last_per_s / self.first_per_s if self.first_per_s else 0.0

    @property
    def cpu_ratio(self) -> float:
        return self.last_cpu_per_s / self.first_cpu_per_s if self.first_cpu_per_s else 0.0


@dataclass(frozen=True, slots=True)
class VenueBenchReport:
    environment: dict[str, Any]
    with_orders: RunFigures
    baseline: RunFigures

    @property
    def relative_ratio(self) -> float:
        """The run's last/first over the baseline's (wall time, median blocks)."""
        base = self.baseline.ratio
        return self.with_orders.ratio / base if base else 0.0

    @property
    def relative_cpu_ratio(self) -> float:
        base = self.baseline.cpu_ratio
        return self.with_orders.cpu_ratio / base if base else 0.0

    @property
    def steady(self) -> bool:
        return self.relative_ratio >= STEADY_RATIO

    def to_dict(self) -> dict[str, Any]:
        def run(figures: RunFigures) -> dict[str, Any]:
            return {
                **asdict(figures),
                "per_s": figures.per_s,
                "ratio": figures.ratio,
                "cpu_ratio": figures.cpu_ratio,
            }

        return {
            "environment": self.environment,
            "with_orders": run(self.with_orders),
            "without_orders": run(self.baseline),
            "relative_ratio": self.relative_ratio,
            "relative_cpu_ratio": self.relative_cpu_ratio,
            "target": {"relative_ratio_at_least": STEADY_RATIO, "passed": self.steady},
        }

    def render(self, console: Console) -> None:
        table = Table(title="quantrail bench venue: quotes/s as the order history grows")
        columns = ("run", "orders", "first 10 %", "last 10 %", "last / first", "overall")
        for column in columns:
            table.add_column(column, justify="left" if column == "run" else "right")
        for label, figures in (("with orders", self.with_orders), ("without", self.baseline)):
            cpu = (figures.first_cpu_per_s, figures.last_cpu_per_s, figures.cpu_ratio)
            table.add_row(
                label,
                f"{figures.orders:,}",
                f"{figures.first_per_s:,.0f}/s",
                f"{figures.last_per_s:,.0f}/s",
                f"{figures.ratio:.2f}",
                f"{figures.per_s:,.0f}/s",
            )
            table.add_row(
                "  per CPU second", "", f"{cpu[0]:,.0f}/s", f"{cpu[1]:,.0f}/s", f"{cpu[2]:.2f}", ""
            )
        console.print(table)
        run = self.with_orders
        console.print(
            f"fills {run.fills:,}, open at the end {run.open_orders_at_end}, orders examined by "
            f"the venue's matching {run.orders_examined:,} over {run.quotes:,} quotes"
        )
        verdict = "[green]PASS[/green]" if self.steady else "[red]MISS[/red]"
        console.print(
            f"with orders, last/first against the baseline's: {self.relative_ratio:.2f} "
            f"(CPU {self.relative_cpu_ratio:.2f}); >= {STEADY_RATIO:.2f}: {verdict}"
        )
        console.print(", ".join(f"{k}={v}" for k, v in self.environment.items()))


def bench_config() -> Config:
    """Defaults, but no rate limit (one order per simulated second would half be refused),
    and the bench's intents may add exposure without an approval, as the decision engine's."""
    return config_from_mapping(
        {
            "liquidity": {"min_interval_s": 0},
            # The bench's orders stand for a source allowed to add exposure (execution's
            # authority check would deny them otherwise).
            "execution": {"exposure_sources": ["bench"]},
            "risk": {"accounts": [{"name": ACCOUNT, "equity": "1000000"}]},
        }
    )


def quote_block(block: int, size: int, start_ns: int) -> list[QuoteUpdated]:
    """``size`` quotes from ``start_ns``, the bid stepping over a few cents."""
    quotes = []
    for n in range(size):
        bid = Decimal(100) + Decimal((block + n) % 7) / 100
        quotes.append(
            QuoteUpdated(
                ts_event=start_ns + n * QUOTE_GAP_NS,
                source="bench",
                symbol=SYMBOL,
                bid=bid,
                ask=bid + Decimal("0.01"),
                bid_size=500,
                ask_size=500,
                venue="XNAS",
            )
        )
    return quotes


def market_intent(block: int, ts_ns: int) -> IntentCreated:
    return IntentCreated(
        ts_event=ts_ns,
        source="bench",
        account=ACCOUNT,
        idempotency_key=f"bench:{block}",
        intent_id=f"bench-{block}",
        symbol=SYMBOL,
        side=Side.BUY if block % 2 == 0 else Side.SELL,
        qty=ORDER_QTY,
        order_type=OrderType.MARKET,
        bucket=Bucket.LT,
        mode=Mode.NORMAL,
        reason="bench venue",
    )


class BenchRun:
    """One chain on its own bus and clock, moved a block at a time (see module doc)."""

    def __init__(self, options: VenueBenchOptions, *, orders: bool) -> None:
        config = bench_config()
        self.options, self.orders = options, orders
        self.clock = SimulatedClock(START_NS)
        self.bus = EventBus(MemoryTransport(), config=config.bus, names=StreamNames("bench"))
        self.venue = make_venue(config.execution)
        self.execution = ExecutionService(config, registry_for(self.bus), self.venue)
        rules, risk = load_risk_rules(config.risk.rules), config.risk
        exposure = ExposureService(
            risk.accounts,
            risk.groups,
            rules.buckets,
            risk.exposure_interval_s,
            timezone=config.session.timezone,
        )
        self.sim = Simulation(self.bus, self.clock, [self.execution, exposure], config)
        self.walls: list[float] = []
        self.cpus: list[float] = []

    async def start(self) -> None:
        await self.sim.start()

    async def block(self, block: int) -> None:
        """``order_every`` quotes (and an order), one simulated second, settled; timed."""
        quotes = quote_block(block, self.options.order_every, self.clock.now_ns())
        intent = market_intent(block, self.clock.now_ns()) if self.orders else None
        started, started_cpu = time.perf_counter(), time.process_time()
        for at in range(0, len(quotes), PUBLISH_BATCH):
            await self.bus.publish_batch(quotes[at : at + PUBLISH_BATCH])
        if intent is not None:
            await self.bus.publish(intent)
        await self.sim.advance(BLOCK_S, step=BLOCK_S)
        self.walls.append(time.perf_counter() - started)
        self.cpus.append(time.process_time() - started_cpu)

    async def finish(self) -> RunFigures:
        await self.sim.stop()
        events = await self.bus.read_events("trades.order")
        venue, block = self.venue, self.options.order_every
        walls, cpus = self.walls, self.cpus
        return RunFigures(
            orders=len(walls) if self.orders else 0,
            quotes=len(walls) * block,
            seconds=sum(walls),
            cpu_seconds=sum(cpus),
            first_per_s=_rate(walls, block, first=True),
            last_per_s=_rate(walls, block, first=False),
            first_cpu_per_s=_rate(cpus, block, first=True),
            last_cpu_per_s=_rate(cpus, block, first=False),
            fills=sum(1 for event in events if event.kind.endswith(".filled")),
            open_orders_at_end=len(self.execution.orders),
            orders_examined=venue.orders_examined if isinstance(venue, SimulatedVenue) else 0,
        )


async def run_interleaved(options: VenueBenchOptions) -> tuple[RunFigures, RunFigures]:
    """The run with orders and the baseline, block by block in turn (which goes first
    alternates), so a change in the machine's load falls on both alike."""
    runs = (BenchRun(options, orders=True), BenchRun(options, orders=False))
    for run in runs:
        await run.start()
    try:
        for block in range(options.quotes // options.order_every):
            for run in runs if block % 2 == 0 else runs[::-1]:
                await run.block(block)
    finally:
        figures = (await runs[0].finish(), await runs[1].finish())
    return figures


def _rate(block_seconds: list[float], block: int, *, first: bool) -> float:
    """Quotes/s at the median block of the first (or the last) 10 % of the blocks."""
    tenth = max(len(block_seconds) // 10, 1)
    part = block_seconds[:tenth] if first else block_seconds[-tenth:]
    median = statistics.median(part)
    return block / median if median > 0 else 0.0


async def _bench(options: VenueBenchOptions) -> VenueBenchReport:
    environment = bench_machine()
    with_orders, baseline = await run_interleaved(options)
    environment["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)  # others' load skews rates
    return VenueBenchReport(environment, with_orders, baseline)


def run_venue_bench(options: VenueBenchOptions) -> VenueBenchReport:
    report = asyncio.run(_bench(options))
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report
