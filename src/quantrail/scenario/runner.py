"""Running a scenario: the real services, simulated clocks, then expected vs seen.

Phases on one bus, with the real XNYS calendar:

0. the execution service starts (``execution.py``), at ``at - stale_exposure_s``, before any
   market data: like a running service, it then holds the quotes when intents arrive;
1. at ``at - stale_exposure_s``: the scenario's market data and working orders are published;
   the session clock and the exposure service start on the scenario's book (baseline = its
   positions at their prices, plus its working orders and market data) and publish the
   exposure snapshot;
2. at ``at``: the ``inject`` events are published; the session clock and the decision engine
   start; the engine reads that snapshot (now ``stale_exposure_s`` old), the session and the
   market, and decides. Its intents reach the execution service as they are published;
3. one ``redeliver`` action = one more decision phase at ``at`` by a fresh engine instance on a
   new consumer group (so no idempotency mark hides the delivery): every exposure snapshot and
   session tick is delivered to it again, after the first engine's intents went out;
4. the execution phase, when ``trades.intent`` holds any intent: the service's clock runs
   ``EXECUTION_S`` (5 s) from ``at``, with the ``restart`` actions in it (``RESTART_EVERY_S``
   apart). The venue is the config's default: simulated, ``touch`` fill model, 20 ms latency,
   and orders pass the default LiquidityGuard (at most half the displayed size; one round lot
   for a reduce-only order however thin the quote).

Then ``expect`` is compared with what the streams hold (``observe.py``, ``compare.py``), and,
when phase 4 ran, the execution invariants are checked (``invariants.py``): one order per
intent, no fill id twice, no order filled beyond its quantity. A broken invariant fails the
scenario with its own diff line, whatever ``expect`` says.

So a fresh scenario and a stale one go through the same code; nothing is computed by the runner.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.memory import MemoryTransport
from quantrail.config import AccountConfig, BusConfig, Config, ConsumerConfig, RiskConfig
from quantrail.events.base import Event
from quantrail.events.ids import seeded_ids
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.events.orders import OrderWorking
from quantrail.events.streams import StreamNames
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules, load_risk_rules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation
from quantrail.scenario.compare import Seen, differences
from quantrail.scenario.execution import ExecutionPhase
from quantrail.scenario.format import REDELIVER, REFERENCE_DAY, RESTART, Scenario
from quantrail.scenario.invariants import Execution
from quantrail.scenario.observe import observe, observe_execution
from quantrail.session.calendar import ExchangeCalendar
from quantrail.session.phases import to_utc_ns
from quantrail.session.service import SessionClockService
from quantrail.vocab import OrderType

DEFAULT_SPREAD = Decimal("0.01")
# Exposure snapshots come only from changes in a scenario: a timer must not refresh a stale one.
NO_PERIODIC_SNAPSHOT_S = 10 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    path: str
    seen: Seen
    diff: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.diff


async def run_scenario(
    scenario: Scenario, path: str = "", *, redis_url: str | None = None,
    rules: RiskRules | None = None,
) -> ScenarioResult:  # fmt: skip
    calendar = ExchangeCalendar()
    at_ns = scenario_time_ns(scenario, calendar)
    seen = await _play(scenario, at_ns, calendar, rules or load_risk_rules(), redis_url)
    return ScenarioResult(scenario.name, path, seen, differences(scenario.expect, seen))


def scenario_time_ns(scenario: Scenario, calendar: ExchangeCalendar) -> int:
    if scenario.at is not None:
        return to_utc_ns(scenario.at)
    session = calendar.trading_session(REFERENCE_DAY)
    assert session is not None, f"reference day {REFERENCE_DAY} must be a trading day"
    assert scenario.minutes_to_close is not None
    return session.close_ns - int(scenario.minutes_to_close * 60 * NS_PER_SECOND)


async def _play(
    scenario: Scenario, at_ns: int, calendar: ExchangeCalendar, rules: RiskRules,
    redis_url: str | None,
) -> Seen:  # fmt: skip
    bus = _bus(redis_url)
    with tempfile.TemporaryDirectory(prefix="quantrail-scenario-") as folder, seeded_ids(7):
        account = AccountConfig(
            name=scenario.account,
            equity=scenario.equity,
            baseline=str(_write_baseline(scenario, Path(folder))),
        )
        snapshot_ns = at_ns - int(scenario.stale_exposure_s * NS_PER_SECOND)
        execution = ExecutionPhase(bus, Config(risk=RiskConfig(accounts=[account])), snapshot_ns)
        try:
            await execution.start()
            await bus.publish_batch(_market_and_orders(scenario, snapshot_ns))
            await execution.settle()
            exposure = ExposureService([account], {}, rules.buckets, NO_PERIODIC_SNAPSHOT_S)
            await _phase(bus, snapshot_ns, [SessionClockService(calendar), exposure])
            await execution.advance_to(at_ns)
            injected = [item.event(at_ns) for item in scenario.events]
            if injected:
                await bus.publish_batch(injected)
            await execution.settle()
            await _phase(bus, at_ns, [SessionClockService(calendar), _engine(rules, account)])
            for number in range(1, scenario.count(REDELIVER) + 1):
                fresh = _engine(rules, account, f"decision-engine-redelivered-{number}")
                await _phase(bus, at_ns, [fresh])
            executed = await _execute(bus, execution, scenario.count(RESTART))
            return await observe(bus, scenario.account, executed)
        finally:
            await execution.stop()
            await _drop_namespace(bus)
            await bus.close()


def _engine(rules: RiskRules, account: AccountConfig, name: str | None = None) -> DecisionEngine:
    return DecisionEngine(rules, DeriskPlanner.from_rules(rules), [account], name=name)


async def _execute(bus: EventBus, execution: ExecutionPhase, restarts: int) -> Execution | None:
    """Phase 4, when there is any intent; None when there is none (nothing to execute)."""
    await execution.settle()
    if not await bus.read_events("trades.intent"):
        return None
    await execution.run(restarts)
    await execution.stop()
    return await observe_execution(bus, restarts, execution.notes())


def _bus(redis_url: str | None) -> EventBus:
    """A bus of this scenario alone (own namespace); short blocking reads so phases end fast."""
    names = StreamNames("scn" + uuid.uuid4().hex[:10])
    config = BusConfig(consumer=ConsumerConfig(block_ms=20))
    if redis_url:
        from quantrail.bus.redis import RedisTransport

        return EventBus(RedisTransport(redis_url), config=config, names=names)
    return EventBus(MemoryTransport(), config=config, names=names)


async def _drop_namespace(bus: EventBus) -> None:
    """On Redis, delete every key of the scenario's own namespace: a run leaves nothing."""
    from quantrail.bus.redis import RedisTransport

    if not isinstance(bus.transport, RedisTransport):
        return
    client: Any = bus.transport.client
    pattern = f"{bus.names.namespace}:*"
    keys = [key async for key in client.scan_iter(match=pattern, count=500)]
    for start in range(0, len(keys), 500):
        await client.unlink(*keys[start : start + 500])


async def _phase(bus: EventBus, at_ns: int, services: list[Any]) -> None:
    simulation = await Simulation(bus, SimulatedClock(at_ns), services).start()
    await simulation.stop()


def _write_baseline(scenario: Scenario, folder: Path) -> Path:
    path = folder / f"{scenario.account}.csv"
    rows = ["symbol,qty,bucket,prior_close"]
    rows += [f"{p.symbol},{p.qty},{p.bucket.value},{p.price}" for p in scenario.positions]
    path.write_text("\n".join(rows) + "\n")
    return path


def _market_and_orders(scenario: Scenario, ts_ns: int) -> list[Event]:
    quoted = {q.symbol: q for q in scenario.quotes}
    events: list[Event] = []
    for position in scenario.positions:
        quote = quoted.get(position.symbol)
        bid = quote.bid if quote else position.price - DEFAULT_SPREAD
        ask = quote.ask if quote else position.price + DEFAULT_SPREAD
        events.append(_quote(position.symbol, bid, ask, ts_ns))
    held = {p.symbol for p in scenario.positions}
    unheld = [q for q in scenario.quotes if q.symbol not in held]
    events += [_quote(q.symbol, q.bid, q.ask, ts_ns) for q in unheld]
    for offset, item in enumerate(scenario.prints, start=1):
        events.append(
            TradePrinted(ts_event=ts_ns - len(scenario.prints) + offset, source="scenario",
                         symbol=item.symbol, price=item.price, size=item.size)
        )  # fmt: skip
    for number, order in enumerate(scenario.open_orders, start=1):
        events.append(
            OrderWorking(
                ts_event=ts_ns - 1, source="scenario", account=scenario.account,
                order_id=f"scenario-open-{number}", symbol=order.symbol, side=order.side,
                qty=order.qty, order_type=OrderType.LIMIT, limit_price=order.price,
                bucket=order.bucket,
            )
        )  # fmt: skip
    return events


def _quote(symbol: str, bid: Decimal, ask: Decimal, ts_ns: int) -> QuoteUpdated:
    return QuoteUpdated(
        ts_event=ts_ns - 1_000, source="scenario", symbol=symbol, bid=bid, ask=ask,
        bid_size=10_000, ask_size=10_000,
    )  # fmt: skip
