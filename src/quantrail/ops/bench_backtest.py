"""``quantrail bench backtest``: how fast the backtest moves market data, against NautilusTrader.

Our side is the backtest's own machinery (``backtest/run.py``: ``backtest_config``, the chain's
services from ``backtest/chain.py``, the memory bus, ``SimulatedClock``, ``BacktestSimulation``)
on the synthetic data of ``ops.bench_data``:

- **quotes, no-op**: the quotes through the whole chain with a strategy that never advises;
- **bars, no-op**: the 1-minute bars (each the backtest's four-point price path) the same way;
- **quotes, orders**: the whole chain with ``OrderEvery``, which advises LONG when flat every
  ``2 x order_every`` quotes (counted in ticks, five quotes a tick), its stop two cents under the
  price; the risk kernel, sizer, execution (simulated venue), positions and the exit brain
  (which closes on the stop) do the rest, so an order (entry or exit) goes out about every
  ``order_every`` quotes;
- **bus alone**: the memory bus's ``publish_batch`` + one group consumer of the same quotes
  (batches of 500), the machine's yardstick (compare runs across machines by it).

Quote runs are folded (``backtest/quote_runs.py``): the services are the live ones, each
taking a quiet run of quotes at once through its ``MarketFold``. An untimed warm-up run of
``WARM_UP_QUOTES`` goes first, so the chain's imports are not in the figures.

When NautilusTrader is installed (``quantrail[compare]``) the same data runs through its
``BacktestEngine`` in the same process (``ops.bench_nautilus``), and each figure gets its ratio
(our rate / theirs). Rates are per CPU second of the process (others' load on a shared machine
moves wall time much more); wall rates are in the JSON. This is a benchmark, not a test.

The two quote paths (the ones with a target) are measured in rounds (``--rounds``, default 3):
in each round ours runs, then NautilusTrader's on the same data, and the ratio printed is the
median of the rounds' own ratios; each side's rate is its median round. On a shared VM one
run moves by 5 % or more (another guest takes the core), and a round's two runs see about the
same machine, so one disturbed round does not decide the verdict. The bus alone and the bars
(no target; a bar run is slow) run once.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from quantrail.backtest.bars import Bar
from quantrail.backtest.run import backtest_config, bar_market, play_market, tape_market
from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.config import Config, config_from_mapping
from quantrail.events import Event, OrderFilled, QuoteUpdated
from quantrail.events.market import PriceTicked
from quantrail.events.streams import StreamNames
from quantrail.marketdata.types import Quote
from quantrail.ops import bench_nautilus
from quantrail.ops.bench_data import (
    MINUTE_NS,
    SYMBOL,
    VENUE,
    BenchBar,
    BenchQuote,
    Timing,
    bench_bars,
    bench_quotes,
)
from quantrail.ops.bench_machine import bench_machine
from quantrail.strategy.api import Advice, BaseStrategy, MarketView

QUICK_QUOTES = 20_000
QUICK_BARS = 500
TICKS_PER_QUOTE = 5  # the candle service's tick throttle passes about one quote in five
STOP_CENTS = Decimal("0.02")
WARM_UP_QUOTES = 2_000
"""An untimed run first: the chain's modules are imported there (NautilusTrader's imports are
outside its timed run too)."""
TARGETS = {"quotes_noop": 1.0, "quotes_orders": 0.5}
"""Our rate over NautilusTrader's that the issue asks for."""


class Quiet(BaseStrategy):
    """Never advises: what the chain costs with nothing to trade."""

    model_version = "bench-quiet-1"


class OrderEvery(BaseStrategy):
    """LONG when flat and ``2 x every`` quotes have passed since its last advice, its stop
    ``STOP_CENTS`` under the price: the walk soon takes it out, so with the exit an order goes
    out about every ``every`` quotes."""

    model_version = "bench-order-every-1"

    def __init__(self, every: int = 1_000) -> None:
        self.ticks_between = max(2 * every // TICKS_PER_QUOTE, 1)
        self.ticks = 0

    def on_tick(self, tick: PriceTicked, view: MarketView) -> Advice | None:
        self.ticks += 1
        if self.ticks < self.ticks_between or view.position(tick.symbol) is not None:
            return None
        self.ticks = 0
        return Advice(
            symbol=tick.symbol, action="LONG", edge_score=80, confidence=0.9,
            stop_price=tick.price - STOP_CENTS, entry_price=tick.price,
            reasoning="bench: an entry every ~N quotes",
            signal_id=f"sig:bench:{tick.symbol}:{tick.ts_event}",  # not one per candle
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class BenchOptions:
    quotes: int = 1_000_000
    bars: int = 100_000
    order_every: int = 1_000
    quick: bool = False
    compare: bool = True  # with NautilusTrader, when it is installed
    json_path: Path | None = None
    rounds: int = 3  # of each quote path: ours, then theirs

    def __post_init__(self) -> None:
        for name in ("quotes", "bars", "order_every", "rounds"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')}: must be >= 1, got "
                                 f"{getattr(self, name)}")  # fmt: skip

    @property
    def quote_count(self) -> int:
        return min(self.quotes, QUICK_QUOTES) if self.quick else self.quotes

    @property
    def bar_count(self) -> int:
        return min(self.bars, QUICK_BARS) if self.quick else self.bars


Round = tuple[Timing, Timing | None]
"""One round of a path: our run, then NautilusTrader's on the same data (None: not run)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured path: how much it moved, and in how long in each round, ours and
    NautilusTrader's when it ran."""

    name: str
    unit: str  # quotes or bars
    count: int
    rounds: tuple[Round, ...]
    orders: int = 0  # fills, ours (the same in every round: the run is deterministic)
    their_orders: int = 0

    @property
    def ours(self) -> Timing:
        """Our median round (by CPU time)."""
        return _median_run([ours for ours, _ in self.rounds])

    @property
    def theirs(self) -> Timing | None:
        timings = [theirs for _, theirs in self.rounds if theirs is not None]
        return _median_run(timings) if timings else None

    @property
    def ratio(self) -> float | None:
        """The median of the rounds' own ratios (our rate / theirs)."""
        ratios = self.round_ratios()
        return float(statistics.median(ratios)) if ratios else None

    def round_ratios(self) -> list[float]:
        return [
            ours.cpu_rate(self.count) / theirs.cpu_rate(self.count)
            for ours, theirs in self.rounds
            if theirs is not None and theirs.cpu_rate(self.count) > 0
        ]

    def ratio_note(self) -> str:
        """How the figure was taken, for the report: the rounds and their own ratios."""
        ratios = self.round_ratios()
        if not ratios:
            return f"median of {len(self.rounds)} rounds"
        listed = ", ".join(f"{ratio:.3f}" for ratio in ratios)
        return f"ratio is the median of {len(ratios)} rounds' own: {listed}"

    def to_dict(self) -> dict[str, Any]:
        theirs = self.theirs
        return {
            "unit": self.unit,
            "count": self.count,
            "ours": {"per_cpu_s": self.ours.cpu_rate(self.count),
                     "per_s": self.ours.rate(self.count), "cpu_s": self.ours.cpu_s,
                     "wall_s": self.ours.wall_s, "fills": self.orders},
            "nautilus": None if theirs is None else {
                "per_cpu_s": theirs.cpu_rate(self.count), "per_s": theirs.rate(self.count),
                "cpu_s": theirs.cpu_s, "wall_s": theirs.wall_s, "fills": self.their_orders},
            "ratio": self.ratio,
            "target": TARGETS.get(self.name),
            "rounds": [
                {"ours_cpu_s": ours.cpu_s, "nautilus_cpu_s": None if theirs is None
                 else theirs.cpu_s} for ours, theirs in self.rounds
            ],
        }  # fmt: skip


def _median_run(timings: Sequence[Timing]) -> Timing:
    """The run with the median CPU time (the lower middle one of an even count)."""
    return sorted(timings, key=lambda timing: timing.cpu_s)[(len(timings) - 1) // 2]


@dataclass(frozen=True, slots=True)
class BacktestBenchReport:
    environment: dict[str, Any]
    bus: Figure
    figures: list[Figure]
    nautilus: str | None  # its version, None when it did not run
    skipped: str = ""  # why it did not run

    def over_bus(self, figure: Figure) -> float | None:
        """A quote figure over the bus alone's rate: comparable across machines."""
        bus = self.bus.ours.cpu_rate(self.bus.count)
        return figure.ours.cpu_rate(figure.count) / bus if figure.unit == "quotes" and bus else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "nautilus_trader": self.nautilus,
            "nautilus_skipped": self.skipped or None,
            "bus_alone": self.bus.to_dict(),
            "figures": {
                figure.name: {**figure.to_dict(), "over_bus_alone": self.over_bus(figure)}
                for figure in self.figures
            },
        }

    def render(self, console: Console) -> None:
        table = Table(title="quantrail bench backtest: per CPU second (wall in --json)")
        columns = ("path", "count", "quantrail", "/ bus alone", "NautilusTrader", "ratio", "target")
        for column in columns:
            table.add_column(column, justify="left" if column == "path" else "right")
        for figure in [self.bus, *self.figures]:
            theirs = figure.theirs
            ratio, target = figure.ratio, TARGETS.get(figure.name)
            verdict = ""
            if target is not None and ratio is not None:
                verdict = f">= {target:.1f}: " + ("PASS" if ratio >= target else "MISS")
            table.add_row(
                figure.name,
                f"{figure.count:,} {figure.unit}",
                f"{figure.ours.cpu_rate(figure.count):,.0f}/s",
                "" if (over := self.over_bus(figure)) is None else f"{over:.3f}x",
                "" if theirs is None else f"{theirs.cpu_rate(figure.count):,.0f}/s",
                "" if ratio is None else f"{ratio:.3f}x",
                verdict or ("" if target is None else f">= {target:.1f}"),
            )
        console.print(table)
        for figure in self.figures:
            if len(figure.rounds) > 1:
                console.print(f"{figure.name}: {figure.ratio_note()}", markup=False)
        if self.nautilus is None:
            console.print(f"{self.skipped}: our figures alone", markup=False)
        orders = next((f for f in self.figures if f.name == "quotes_orders"), None)
        if orders is not None:
            console.print(f"fills with orders: quantrail {orders.orders:,}, NautilusTrader "
                          f"{orders.their_orders:,}")  # fmt: skip
        console.print(", ".join(f"{k}={v}" for k, v in self.environment.items()))


# --- our side --------------------------------------------------------------------------------


def _quotes_as_items(quotes: Sequence[BenchQuote]) -> list[Quote]:
    return [Quote(SYMBOL, q.bid, q.ask, q.size, q.size, q.ts_ns, VENUE) for q in quotes]


def _bars_as_bars(bars: Sequence[BenchBar]) -> list[Bar]:
    return [
        Bar(symbol=SYMBOL, start_ns=b.start_ns, open=b.open, high=b.high, low=b.low,
            close=b.close, volume=b.volume, timeframe_ns=MINUTE_NS)
        for b in bars
    ]  # fmt: skip


async def _our_run(config: Config, market: Any) -> tuple[Timing, int]:
    started, started_cpu = time.perf_counter(), time.process_time()
    played = await play_market(config, market)
    timing = Timing(time.perf_counter() - started, time.process_time() - started_cpu)
    fills = sum(1 for event in played.events if isinstance(event, OrderFilled))
    return timing, fills


def _config(strategy: str, params: dict[str, Any], workdir: Path) -> Config:
    """Defaults, the bench's strategy, and room for a day of bench trades (the kernel's
    default of 20 a day would veto the rest)."""
    raw = {
        "strategy": {"name": strategy, "params": params},
        "risk_kernel": {"max_trades_per_day": 100_000},
    }
    base = config_from_mapping(raw, "bench")
    return backtest_config(base, None, None, workdir)


async def ours_quotes(quotes: Sequence[BenchQuote], order_every: int | None) -> tuple[Timing, int]:
    market = tape_market(_quotes_as_items(quotes), MINUTE_NS)
    name = "Quiet" if order_every is None else "OrderEvery"
    params = {} if order_every is None else {"every": order_every}
    with tempfile.TemporaryDirectory(prefix="quantrail-bench-") as workdir:
        return await _our_run(_config(f"{__name__}:{name}", params, Path(workdir)), market)


async def ours_bars(bars: Sequence[BenchBar]) -> Timing:
    market = bar_market(_bars_as_bars(bars), Decimal("0.01"))
    with tempfile.TemporaryDirectory(prefix="quantrail-bench-") as workdir:
        config = _config(f"{__name__}:Quiet", {}, Path(workdir))
        timing, _fills = await _our_run(config, market)
    return timing


async def bus_alone(quotes: Sequence[BenchQuote], batch: int = 500) -> Timing:
    """The memory bus moving the same quotes: publish_batch, then one group consumer."""
    keep_all = {"bus": {"retention": {"market.quote": {"maxlen": 0}}}}  # not trimmed unread
    config = config_from_mapping(keep_all, "bench").bus
    bus = EventBus(MemoryTransport(), config=config, names=StreamNames("bench"))
    events: list[Event] = [
        QuoteUpdated(ts_event=q.ts_ns, source="bench", symbol=SYMBOL, bid=q.bid, ask=q.ask,
                     bid_size=q.size, ask_size=q.size, venue=VENUE)
        for q in quotes
    ]  # fmt: skip
    handled = 0
    done = asyncio.Event()

    async def count(_event: Event, _delivery: Delivery) -> None:
        nonlocal handled
        handled += 1
        if handled == len(events):
            done.set()

    consumer = bus.group_consumer(streams=["market.quote"], group="bench", consumer="bench-1",
                                  handler=count)  # fmt: skip
    started, started_cpu = time.perf_counter(), time.process_time()
    for at in range(0, len(events), batch):
        await bus.publish_batch(events[at : at + batch])
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(done.wait(), timeout=60 + len(events) / 1_000)  # a stuck consumer
    timing = Timing(time.perf_counter() - started, time.process_time() - started_cpu)
    consumer.stop()
    await task
    await bus.close()
    return timing


# --- the whole bench -------------------------------------------------------------------------


def why_not_compared(*, asked: bool, installed: bool) -> str:
    """Why NautilusTrader did not run ("" when it did)."""
    if not asked:
        return "NautilusTrader not run (--no-compare)"
    if not installed:
        return "NautilusTrader not installed (pip install 'quantrail[compare]')"
    return ""


def _quote_rounds(
    quotes: Sequence[BenchQuote], order_every: int | None, rounds: int, compare: bool
) -> tuple[tuple[Round, ...], int, int]:
    """``rounds`` rounds of one quote path, ours then theirs in each; the fills of each side."""
    measured: list[Round] = []
    fills = their_fills = 0
    for _ in range(rounds):
        ours, fills = asyncio.run(ours_quotes(quotes, order_every))
        theirs, their_fills = (
            bench_nautilus.run_quotes(quotes, order_every) if compare else (None, 0)
        )
        measured.append((ours, theirs))
    return tuple(measured), fills, their_fills


def run_backtest_bench(options: BenchOptions) -> BacktestBenchReport:
    environment = bench_machine()
    environment["rounds"] = options.rounds
    quotes, bars = bench_quotes(options.quote_count), bench_bars(options.bar_count)
    compare = options.compare and bench_nautilus.available()
    bus = Figure("bus_alone", "quotes", len(quotes), ((asyncio.run(bus_alone(quotes)), None),))
    asyncio.run(ours_quotes(quotes[:WARM_UP_QUOTES], options.order_every))  # untimed
    noop, _, _ = _quote_rounds(quotes, None, options.rounds, compare)
    figures = [Figure("quotes_noop", "quotes", len(quotes), noop)]
    bar_round = (asyncio.run(ours_bars(bars)), bench_nautilus.run_bars(bars) if compare else None)
    figures.append(Figure("bars_noop", "bars", len(bars), (bar_round,)))
    with_orders, fills, their_fills = _quote_rounds(
        quotes, options.order_every, options.rounds, compare
    )
    figures.append(Figure("quotes_orders", "quotes", len(quotes), with_orders, fills, their_fills))
    environment["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    skipped = why_not_compared(asked=options.compare, installed=bench_nautilus.available())
    version = bench_nautilus.version() if compare else None
    report = BacktestBenchReport(environment, bus, figures, version, skipped)
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report
