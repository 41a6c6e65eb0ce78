"""The demo: a whole simulated trading day on the in-process bus, in seconds.

Synthetic market data for a few dozen preferred-like symbols in several groups; an account that
opens over its limits (about 135% gross); the real session clock, exposure service, decision
engine (policy table, de-risk planner) and execution service with the simulated venue, all on a
simulated clock moved minute by minute. At the end: the mode changes, the orders, the exposure at
the close, and two checks — gross at or under 100% at the close, and every de-risk intent
accounted for (each became an order that ended filled, canceled, expired or denied).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.config import Config, config_from_mapping
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.ids import seeded_ids
from quantrail.events.orders import (
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderPartiallyFilled,
    OrderReplaced,
)
from quantrail.events.risk import RiskModeChanged
from quantrail.events.streams import StreamNames
from quantrail.events.trades import IntentCreated
from quantrail.execution.services import build_execution_service
from quantrail.marketdata.service import MarketDataService
from quantrail.marketdata.synthetic import SymbolSpec, SyntheticMarket, default_universe
from quantrail.ops.demo_pnl import DemoPnl, book_demo_fills
from quantrail.ops.demo_strategy import (
    CHAIN_SERVICES,
    STRATEGY_ACCOUNT,
    StrategySummary,
    summarize_strategy,
)
from quantrail.ops.services import build_services
from quantrail.risk.services import build_risk_services
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation
from quantrail.session.calendar import ExchangeCalendar
from quantrail.vocab import Mode

DEMO_DAY = date(2026, 11, 20)
ACCOUNT = "HAMMER"
TERMINAL = {"FILLED", "CANCELED", "EXPIRED", "DENIED", "REJECTED"}


@dataclass(frozen=True, slots=True)
class DemoOptions:
    seed: int = 7
    day: date = DEMO_DAY
    symbols: int = 24
    groups: int = 6
    equity: Decimal = Decimal("2000000")
    lt_pct: Decimal = Decimal("100")  # the LT book opens above its 90% max
    mm_pct: Decimal = Decimal("35")  # the MM book above its 30% max: ~135% gross at the open
    strategy_equity: Decimal = Decimal("250000")  # the breakout desk's own account
    step_s: float = 60.0  # how far the clock moves between progress updates
    # The day's resolution: coarser than production (1 s ticks) so a day plays in seconds; the
    # session tick stays under the engine's 5 s staleness limit for session data.
    market_step_s: int = 10
    session_tick_s: float = 4.0
    execution_tick_s: float = 2.0


@dataclass(slots=True)
class DemoSummary:
    day: date
    mode_changes: list[RiskModeChanged] = field(default_factory=list)
    intents: int = 0
    order_status: Counter[str] = field(default_factory=Counter)
    fills: int = 0
    fees: Decimal = Decimal(0)
    open_gross_pct: float | None = None
    close_gross_pct: float | None = None
    open_ts_ns: int | None = None  # when the open and close figures were measured
    close_ts_ns: int | None = None
    unaccounted: list[str] = field(default_factory=list)
    orders_with_fills: Counter[str] = field(default_factory=Counter)  # by final status
    pnl: DemoPnl | None = None
    currency: str = "USD"  # the simulated XNYS account's
    strategy: StrategySummary = field(default_factory=StrategySummary)

    @property
    def flat_enough(self) -> bool:
        return self.close_gross_pct is not None and self.close_gross_pct <= 100.0

    @property
    def accounted(self) -> bool:
        return not self.unaccounted


def demo_book(universe: list[SymbolSpec], options: DemoOptions) -> list[str]:
    """Baseline CSV rows: every 4th symbol in MM_PURE (alternately short), the rest LT."""
    mm = [s for i, s in enumerate(universe) if i % 4 == 0]
    lt = [s for s in universe if s not in mm]
    rows = ["symbol,qty,bucket,prior_close"]
    for specs, bucket, pct in ((lt, "LT", options.lt_pct), (mm, "MM_PURE", options.mm_pct)):
        each = options.equity * pct / 100 / len(specs)
        for index, spec in enumerate(specs):
            qty = int((each / spec.start_price / 100).to_integral_value(ROUND_DOWN)) * 100
            sign = -1 if bucket == "MM_PURE" and index % 2 else 1
            rows.append(f"{spec.symbol},{sign * qty},{bucket},{spec.start_price}")
    return rows


def demo_config(baseline: Path, universe: list[SymbolSpec], options: DemoOptions) -> Config:
    desk = {"name": ACCOUNT, "equity": str(options.equity), "baseline": str(baseline)}
    trader = {"name": STRATEGY_ACCOUNT, "equity": str(options.strategy_equity)}
    return config_from_mapping(
        {
            "namespace": "demo",
            "bus": {"consumer": {"block_ms": 20}},
            "session": {"tick_s": options.session_tick_s},
            "execution": {"seed": options.seed},
            "risk": {
                "accounts": [desk, trader],
                "groups": {spec.symbol: spec.group for spec in universe},
            },
            "strategy": {"name": "breakout", "account": STRATEGY_ACCOUNT},
            "db": {"url": f"sqlite:///{baseline.parent / 'demo.sqlite'}"},
        },
        "demo",
    )


async def run_demo_day(
    options: DemoOptions, on_step: Callable[[int, int], None] | None = None
) -> DemoSummary:
    calendar = ExchangeCalendar()
    session = calendar.trading_session(options.day)
    if session is None:
        raise ValueError(f"day: {options.day} is not an XNYS trading day")
    start_ns = session.open_ns - 5 * 60 * NS_PER_SECOND
    end_ns = session.close_ns + 5 * 60 * NS_PER_SECOND
    universe = default_universe(options.symbols, options.groups)
    clock = SimulatedClock(start_ns)
    with tempfile.TemporaryDirectory(prefix="quantrail-demo-") as folder, seeded_ids(options.seed):
        baseline = Path(folder) / f"{ACCOUNT}.csv"
        baseline.write_text("\n".join(demo_book(universe, options)) + "\n")
        config = demo_config(baseline, universe, options)
        bus = EventBus(
            MemoryTransport(now_ns=clock.now_ns), config=config.bus,
            names=StreamNames(config.namespace), clock=clock,
        )  # fmt: skip
        market = SyntheticMarket(
            universe, options.seed, start_ns, options.market_step_s * NS_PER_SECOND
        )
        services = [
            MarketDataService(market.events_until(end_ns), tick_s=5.0),
            *build_risk_services(config, clock),
            build_execution_service(config, bus, clock, tick_s=options.execution_tick_s),
            *build_services(config, bus, clock, CHAIN_SERVICES),
        ]
        simulation = await Simulation(bus, clock, services, config).start()
        steps = int((end_ns - start_ns) / (options.step_s * NS_PER_SECOND))
        for step in range(1, steps + 1):
            await simulation.advance_to(start_ns + int(step * options.step_s * NS_PER_SECOND),
                                        step=options.step_s)  # fmt: skip
            if on_step is not None:
                on_step(step, steps)
        await simulation.advance_to(end_ns, step=options.step_s)
        await simulation.stop()
        summary = await _summarize(simulation, options.day, session.open_ns, session.close_ns)
        summary.strategy = await summarize_strategy(simulation)
        fills = [
            e for e in await simulation.stream_events("trades.order")
            if isinstance(e, OrderFilled | OrderPartiallyFilled) and e.account == ACCOUNT
        ]  # fmt: skip
        summary.pnl = book_demo_fills(ACCOUNT, options.day, baseline, fills,
                                      config.session.timezone)  # fmt: skip
        return summary


async def _summarize(sim: Simulation, day: date, open_ns: int, close_ns: int) -> DemoSummary:
    summary = DemoSummary(day=day, mode_changes=await sim.events(RiskModeChanged))
    intents = [
        i for i in await sim.events(IntentCreated)
        if i.mode is not Mode.NORMAL and i.account == ACCOUNT
    ]  # fmt: skip
    summary.intents = len(intents)
    last_status: dict[str, str] = {}
    by_intent: dict[str, str] = {}
    filled_orders: set[str] = set()
    order_events = [
        e for e in await sim.stream_events("trades.order")
        if isinstance(e, OrderEvent) and e.account == ACCOUNT
    ]  # fmt: skip
    for event in order_events:
        if isinstance(event, OrderReplaced):  # carries the replacement's status, not the old's
            by_intent.setdefault(event.intent_id, event.order_id)
            continue
        last_status[event.order_id] = event.status.value
        if event.intent_id:
            by_intent[event.intent_id] = event.order_id
        if isinstance(event, OrderFilled | OrderPartiallyFilled):
            summary.fills += 1
            summary.fees += event.fees
            filled_orders.add(event.order_id)
        if isinstance(event, OrderDenied):
            last_status[event.order_id] = "DENIED"
    summary.order_status = Counter(last_status.values())
    summary.orders_with_fills = Counter(last_status[o] for o in filled_orders if o in last_status)
    for intent in intents:
        order_id = by_intent.get(intent.intent_id)
        status = last_status.get(order_id or "")
        if status not in TERMINAL:
            summary.unaccounted.append(f"{intent.symbol} {intent.intent_id[:8]}: {status}")
    snapshots = [s for s in await sim.events(ExposureSnapshot) if s.account == ACCOUNT]
    opening = [s for s in snapshots if s.ts_event >= open_ns]
    closing = [s for s in snapshots if s.ts_event <= close_ns]
    if opening:
        summary.open_gross_pct, summary.open_ts_ns = (
            opening[0].gross_exposure_pct,
            opening[0].ts_event,
        )
    if closing:
        summary.close_gross_pct, summary.close_ts_ns = (
            closing[-1].gross_exposure_pct,
            closing[-1].ts_event,
        )
    return summary
