"""Running a backtest: the live chain on the memory bus and a simulated clock, over history.

The steps: validate the inputs (every market file read and checked before anything runs),
make the config a backtest's (memory bus, its own namespace, a throw-away SQLite database so
the kill switch and the audit never touch a real one, an account with ``initial_equity`` when
the config has none, nothing trimmed from the streams the result reads), build the chain's
services through their builders, then move the clock over the market data, collect the result
from the streams and write it (``quantrail.backtest.output``).

Bars: each bar time is five steps: the bar opens (the bar venue hears of it first, so orders
waiting for the next open fill there, then the open's quote and print are published), the
three other points of its price path, and its end (the marks for the equity curve: every
symbol's latest close). Quote/print files: every distinct time is a step publishing what
happened then, with a mark at the end of each ``timeframe`` bucket (latest print, else quote
mid). Market data is published in batches straight onto the bus (the faster path the design
allows); every service is the live one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from quantrail.audit.db_thread import sql_inline
from quantrail.backtest.bar_venue import BarVenue
from quantrail.backtest.bars import Bar, bar_point, bars_by_start, point_ts
from quantrail.backtest.chain import EXECUTION_TICK_S, ChainServices, build_chain
from quantrail.backtest.feed import BacktestRunner, CountingBus
from quantrail.backtest.quote_runs import QuoteRuns, QuoteTape, quote_tape
from quantrail.backtest.result import BacktestResult, MarkPoint, collect
from quantrail.bus.factory import make_transport
from quantrail.config import Config, config_from_mapping
from quantrail.events.base import Event
from quantrail.events.codec import default_codec
from quantrail.events.market import QuoteUpdated
from quantrail.events.streams import StreamNames
from quantrail.execution.venues import Venue, make_venue
from quantrail.execution.venues.simulated import usable_quote
from quantrail.marketdata.service import to_event
from quantrail.marketdata.types import MarketEvent, Print
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock, loop_idle, run_until_idle
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation

NAMESPACE = "backtest"
BACKTEST_ACCOUNT = "BACKTEST"
GAP_STEP_S = 300.0
"""Clock step (simulated seconds) across a gap in the data longer than a bar."""
RESULT_STREAMS = (
    "trades.order", "position.state", "risk.evaluation", "signals.advisory",
    "risk.kill_switch",
)  # fmt: skip
"""What the result is collected from; kept whole (no retention) during a run."""


class BacktestInputError(ValueError):
    """Bad options (a time window, a strategy) named with the value; the CLI exits 2."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One moment of the run: publish ``events``, open ``bars`` at the venue, record ``mark``.
    The market data's bus events are built with the steps (reading the data), not while the
    clock runs."""

    ts_ns: int
    events: list[Event] = dataclasses.field(default_factory=list)
    bars: list[Bar] = dataclasses.field(default_factory=list)
    mark: MarkPoint | None = None
    quotes_only: bool = False
    """Nothing but quotes, each one the in-process bus may hand over as it is (the default
    codec's ``shareable``) and the simulated venue takes as a book (``usable_quote``), both
    asked once here, and no bars and no mark (a bucket's mark is a step of its own): a step a
    run of quotes can fold. A step with a quote the venue refuses goes the per-event way (its
    alert is raised there)."""

    def __post_init__(self) -> None:
        if self.quotes_only and (self.bars or self.mark is not None):
            raise ValueError("quotes_only: a step with bars or a mark is not quotes only")


@dataclasses.dataclass(frozen=True, slots=True)
class Market:
    """The run's market data: bars (``bars`` set) or quotes and prints, as steps."""

    steps: list[Step]
    bars: list[Bar]
    timeframe_ns: int
    tape: QuoteTape | None = None
    """The quote-only steps' quotes, for folded runs (``backtest/quote_runs.py``)."""

    @property
    def on_bars(self) -> bool:
        return bool(self.bars)


@dataclasses.dataclass(frozen=True, slots=True)
class RunOutcome:
    result: BacktestResult
    market: Market
    built: list[str]
    missing: list[str]


def backtest_config(
    config: Config, strategy: str | None, signals: Path | None, workdir: Path
) -> Config:
    """``config`` made a backtest's (see the module doc); ``ConfigError`` names a bad key."""
    raw: dict[str, Any] = msgspec.to_builtins(config)
    raw["namespace"] = NAMESPACE
    raw["bus"]["transport"] = "memory"
    # A scratch database, thrown away with the run: its commits need not wait for the disk.
    raw["db"] = {"url": f"sqlite:///{workdir / 'backtest.sqlite'}?synchronous=off"}
    keep = {"maxlen": 0}
    retention = raw["bus"].get("retention", {})
    raw["bus"]["retention"] = {**retention, **dict.fromkeys(RESULT_STREAMS, keep)}
    if not raw["risk"].get("accounts"):
        equity = str(config.backtest.initial_equity)
        raw["risk"]["accounts"] = [{"name": BACKTEST_ACCOUNT, "equity": equity}]
    if strategy is not None:
        raw["strategy"]["name"] = strategy
    if signals is not None:
        raw["strategy"]["params"] = {**raw["strategy"].get("params", {}), "path": str(signals)}
    return config_from_mapping(raw, "backtest")


# --- market data as steps --------------------------------------------------------------------


def bar_market(bars: Sequence[Bar], tick: Decimal) -> Market:
    steps: list[Step] = []
    closes: dict[str, Decimal] = {}
    frame = bars[0].timeframe_ns if bars else 60 * NS_PER_SECOND
    for start, group in bars_by_start(bars):
        for point in range(4):
            events = [as_event(item) for bar in group for item in bar_point(bar, point, tick)]
            ts = point_ts(group[0], point)
            steps.append(Step(ts_ns=ts, events=events, bars=group if point == 0 else []))
        closes.update({bar.symbol: bar.close for bar in group})
        steps.append(Step(ts_ns=start + frame, mark=MarkPoint(start + frame, dict(closes))))
    return Market(steps, list(bars), frame)


def tape_market(items: Iterable[MarketEvent], frame: int) -> Market:
    """Quotes and prints (time-ordered) as steps, a mark at each bucket's end: the latest
    print, else (a symbol that has not printed yet) the latest quote mid."""
    by_ts: dict[int, list[MarketEvent]] = {}
    for item in items:
        by_ts.setdefault(item.ts_ns, []).append(item)
    steps: list[Step] = []
    shareable = default_codec().shareable
    prints: dict[str, Decimal] = {}
    mids: dict[str, Decimal] = {}
    bucket_end: int | None = None
    for ts in sorted(by_ts):
        if bucket_end is not None and ts >= bucket_end:
            steps.append(Step(ts_ns=bucket_end, mark=MarkPoint(bucket_end, {**mids, **prints})))
        bucket_end = ts - ts % frame + frame
        events = [as_event(item) for item in by_ts[ts]]
        quotes_only = all(
            isinstance(event, QuoteUpdated) and shareable(event) and usable_quote(event)
            for event in events
        )
        steps.append(Step(ts_ns=ts, events=events, quotes_only=quotes_only))
        for item in by_ts[ts]:
            if isinstance(item, Print):
                prints[item.symbol] = item.price
            elif item.two_sided:
                mids[item.symbol] = item.mid
    if bucket_end is not None:
        steps.append(Step(ts_ns=bucket_end, mark=MarkPoint(bucket_end, {**mids, **prints})))
    return Market(steps, [], frame, quote_tape(steps))


def as_event(item: MarketEvent) -> Event:
    return to_event(item, "backtest")


def in_window(
    items: Sequence[Any], start_ns: int | None, end_ns: int | None, ts: Callable[[Any], int]
) -> list[Any]:
    """Items whose time is within [start, end] (either side open when None)."""
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise BacktestInputError(f"--from: {start_ns} is after --to {end_ns}")
    return [
        item
        for item in items
        if (start_ns is None or ts(item) >= start_ns) and (end_ns is None or ts(item) <= end_ns)
    ]


# --- the run ---------------------------------------------------------------------------------


def venue_for(config: Config, market: Market) -> Venue:
    return BarVenue(config.backtest) if market.on_bars else make_venue(config.execution)


@dataclasses.dataclass(frozen=True, slots=True)
class Played:
    """What a run left: the result streams' events, the marks, and which services ran."""

    events: list[Event]
    points: list[MarkPoint]
    built: list[str]
    missing: list[str]


async def run_market(
    config: Config,
    market: Market,
    on_step: Callable[[int], None] | None = None,
    extra: Sequence[Service] = (),
) -> RunOutcome:
    """Run the chain over ``market`` and collect its checked result; ``on_step(i)`` after
    each step (the progress bar)."""
    played = await play_market(config, market, on_step, extra)
    result = collect(config.backtest.initial_equity, played.events, played.points)
    return RunOutcome(result, market, played.built, played.missing)


async def play_market(
    config: Config,
    market: Market,
    on_step: Callable[[int], None] | None = None,
    extra: Sequence[Service] = (),
    *,
    fold_runs: bool = True,
) -> Played:
    """Move the chain (and any ``extra`` services) over ``market``; ``fold_runs=False``
    hands every quote over one by one (the reference the folded runs are tested against)."""
    if not market.steps:
        raise BacktestInputError("market: no market data in the chosen window")
    clock = SimulatedClock(market.steps[0].ts_ns)
    bus = CountingBus(
        make_transport(config, clock), config=config.bus, names=StreamNames(config.namespace),
        clock=clock,
    )  # fmt: skip
    venue = venue_for(config, market)
    try:
        chain = build_chain(config, bus, venue)
    except ValueError as exc:  # a strategy's params, a signals file: named by the builder
        await bus.close()
        raise BacktestInputError(f"strategy: {exc}") from None
    services = [*chain.services, *extra]
    simulation = BacktestSimulation(bus, clock, services, config, instance="backtest")
    simulation.direct.folding = fold_runs
    step_s = market.timeframe_ns / 4 / NS_PER_SECOND
    with sql_inline():  # the services' tasks copy it: their SQL on the loop (db_thread)
        return await _run_chain(simulation, venue, market, step_s, on_step, chain)


async def _run_chain(
    simulation: BacktestSimulation,
    venue: Venue,
    market: Market,
    step_s: float,
    on_step: Callable[[int], None] | None,
    chain: ChainServices,
) -> Played:
    clock, bus = simulation.clock, simulation.counting
    await simulation.start()
    try:
        with out_of_the_collectors_sight():
            points = await _play(simulation, venue, market, step_s, on_step)
        # Let execution apply the last reports; their fills are marked at the last closes.
        end = clock.now_ns() + int(2 * EXECUTION_TICK_S * NS_PER_SECOND)
        await simulation.advance_to(end, step=EXECUTION_TICK_S)
        if points:
            points.append(MarkPoint(end, points[-1].marks))
        events: list[Event] = []
        for stream in RESULT_STREAMS:
            events.extend(await bus.read_events(stream))
    finally:
        await simulation.stop()
        await bus.close()
    return Played(events, points, chain.built, chain.missing)


@contextlib.contextmanager
def out_of_the_collectors_sight() -> Iterator[None]:
    """What exists when the clock starts (the market data: a few objects a step; the services;
    the modules) is moved out of the cyclic garbage collector's sight while the clock runs
    (``gc.freeze``) and back after (``gc.unfreeze``). It all lives as long as the run, and a
    full collection walked every object of it again every few simulated minutes: half a
    million for a 100,000-quote tape, a tenth of the run's CPU. The objects the run makes are
    collected as usual. Process-wide: objects a caller froze itself are unfrozen after it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _play(
    simulation: BacktestSimulation,
    venue: Venue,
    market: Market,
    step_s: float,
    on_step: Callable[[int], None] | None,
) -> list[MarkPoint]:
    points: list[MarkPoint] = []
    clock, steps = simulation.clock, market.steps
    tape = market.tape
    folding = tape is not None and not market.on_bars and simulation.direct.can_fold()
    index = 0
    while index < len(steps):
        if folding and tape is not None:
            wake = clock.next_wake_ns
            if wake is not None and wake <= steps[index].ts_ns:  # the timers first, as below
                await _advance(simulation, steps[index].ts_ns, step_s)
            folded = await simulation.fold_run(tape, index)
            if folded:  # quote-only steps: none has a mark (``Step``), told once per run
                if on_step is not None:
                    on_step(index + folded - 1)
                index += folded
                continue
        step = steps[index]
        # A step no timer wakes before (most quotes) moves the clock without a loop turn.
        if step.bars or not loop_idle() or not clock.skip_to(step.ts_ns):
            await _advance(simulation, step.ts_ns, step_s)
        if isinstance(venue, BarVenue):
            for bar in step.bars:
                venue.on_bar(bar, step.ts_ns)
        await simulation.play(step.events)
        if step.mark is not None:
            points.append(step.mark)
        if on_step is not None:
            on_step(index)
        index += 1
    return points


class BacktestSimulation(Simulation):
    """A simulation on the memory bus that settles without sleeping when it can.

    All the chain's work is in this process: once the event loop has nothing ready to run,
    the services are done. So settling first lets the loop run idle, checks the streams once
    and lets the loop run idle again: when every consumer had caught up and nothing was
    appended meanwhile (the bus counts what it appends), it is settled. Only when a consumer
    is still behind (a flush on a real-time timer) does it fall back to the simulation's own
    settle, which sleeps between looks.

    Its runner feeds the market-data readers directly (``backtest/feed.py``); a step after
    which nothing but the step's own market data was appended needs no settle at all."""

    def __init__(self, bus: CountingBus, clock: SimulatedClock, services: Sequence[Service],
                 config: Config, *, instance: str) -> None:  # fmt: skip
        super().__init__(bus, clock, services, config, instance=instance)
        self.counting = bus
        self.runner = self.direct = BacktestRunner(
            bus, self.services, config, clock=clock, instance=instance
        )
        self._quiet_at = -1  # the bus's count when it last was settled
        self.runs = QuoteRuns(clock, bus, self.runner)
        self._group_keys: list[tuple[str, str]] | None = None

    def _groups(self) -> list[tuple[str, str]]:
        # The services' subscriptions are fixed once started: asked once, not per settle.
        if self._group_keys is None:
            self._group_keys = super()._groups()
        return self._group_keys

    async def play(self, events: Sequence[Event]) -> None:
        """Publish a step's market events, hand them to the direct readers, then settle
        unless the bus is as the last settle left it plus these events (and the relayed
        ticks, which their readers already have)."""
        bus, expected = self.counting, self._quiet_at + len(events)
        if events:
            ids = await bus.publish_batch(events)
            await self.direct.feed(events, ids)
        if not loop_idle():  # a handler set something off: let it run
            await run_until_idle()
            await self.direct.relay()
        if bus.unrelayed != expected:
            await self.settle()
        else:
            self._quiet_at = expected

    async def fold_run(self, tape: QuoteTape, index: int) -> int:
        """Fold the quiet quote-only steps from ``index`` on (``backtest/quote_runs.py``) and
        say how many there were (0: the step goes the per-event way)."""
        counting = self.counting
        if counting.held or counting.unrelayed != self._quiet_at or not loop_idle():
            return 0  # the bus is not as the last settle left it: the per-event way settles
        taken, published = await self.runs.fold(tape, index)
        if counting.unrelayed != self._quiet_at + published:
            await self.settle()  # a tick in the run set something off: at rest before going on
        else:
            self._quiet_at += published
        return taken

    async def settle(self) -> None:
        await self._idle()
        appended = self.counting.unrelayed
        drained = await self._drained()
        await self._idle()  # the bus's count, not a second look at every stream
        if drained is None or self.counting.unrelayed != appended:
            await super().settle()
            await self.direct.relay()
        self._quiet_at = self.counting.unrelayed

    async def _idle(self) -> None:
        """The loop idle with every relayed event handed on."""
        await run_until_idle()
        while self.counting.held:
            await self.direct.relay()
            await run_until_idle()


async def _advance(simulation: Simulation, target_ns: int, step_s: float) -> None:
    """Time to ``target_ns``. Within a bar the clock moves in one go (it wakes every timer on
    the way in order and lets the memory bus run idle after each wake-up: the work a timer set
    off is done before the next); the step settles after. Across a night or a weekend the
    simulation settles every ``GAP_STEP_S`` too."""
    if (target_ns - simulation.clock.now_ns()) / NS_PER_SECOND <= 4 * step_s:
        await simulation.clock.advance_to(target_ns)
    else:
        await simulation.advance_to(target_ns, step=max(step_s, GAP_STEP_S))


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """Where a run keeps its throw-away database."""
    return tempfile.TemporaryDirectory(prefix="quantrail-backtest-")
