"""Running a scenario: the real services, a simulated clock, then expected vs seen.

Two phases on one bus, both with the real XNYS calendar:

1. at ``at - stale_exposure_s``: the session clock and the exposure service start on the
   scenario's book (baseline = its positions at their prices, plus its working orders and market
   data) and publish the exposure snapshot;
2. at ``at``: the session clock and the decision engine start; the engine reads that snapshot
   (now ``stale_exposure_s`` old), the session and the market, and decides.

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
from quantrail.config import AccountConfig, BusConfig, ConsumerConfig
from quantrail.events.base import Event
from quantrail.events.codec import default_codec
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.ids import seeded_ids
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.events.orders import OrderWorking
from quantrail.events.streams import StreamNames
from quantrail.events.trades import IntentCreated
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules, load_risk_rules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation
from quantrail.scenario.compare import Seen, SeenIntent, differences
from quantrail.scenario.format import REFERENCE_DAY, Scenario
from quantrail.session.calendar import ExchangeCalendar
from quantrail.session.phases import to_utc_ns
from quantrail.session.service import SessionClockService
from quantrail.vocab import Mode, OrderType

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
        try:
            await bus.publish_batch(_market_and_orders(scenario, snapshot_ns))
            exposure = ExposureService([account], {}, rules.buckets, NO_PERIODIC_SNAPSHOT_S)
            await _phase(bus, snapshot_ns, [SessionClockService(calendar), exposure])
            injected = [_injected(item.kind, item.payload, at_ns) for item in scenario.inject]
            if injected:
                await bus.publish_batch(injected)
            engine = DecisionEngine(rules, DeriskPlanner.from_rules(rules), [account])
            await _phase(bus, at_ns, [SessionClockService(calendar), engine])
            return await _seen(bus, scenario.account)
        finally:
            await bus.close()


def _bus(redis_url: str | None) -> EventBus:
    """A bus of this scenario alone (own namespace); short blocking reads so phases end fast."""
    names = StreamNames("scn" + uuid.uuid4().hex[:10])
    config = BusConfig(consumer=ConsumerConfig(block_ms=20))
    if redis_url:
        from quantrail.bus.redis import RedisTransport

        return EventBus(RedisTransport(redis_url), config=config, names=names)
    return EventBus(MemoryTransport(), config=config, names=names)


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


def _injected(kind: str, payload: dict[str, Any], at_ns: int) -> Event:
    return default_codec().build(kind, {"ts_event": at_ns, "source": "scenario", **payload})


async def _seen(bus: EventBus, account: str) -> Seen:
    state = await bus.get_state(f"mode:{account}")
    intents = [
        e for e in _decode(bus, await bus.iter_range("trades.intent"))
        if isinstance(e, IntentCreated) and e.account == account
    ]  # fmt: skip
    snapshots = [
        e for e in _decode(bus, await bus.iter_range("exposure.snapshot"))
        if isinstance(e, ExposureSnapshot) and e.account == account
    ]  # fmt: skip
    gross = Decimal(repr(snapshots[-1].gross_exposure_pct)) if snapshots else None
    return Seen(
        mode=Mode(state.get("mode", Mode.NORMAL.value)),
        reason=state.get("reason", ""),
        intents=[SeenIntent(i.symbol, i.side, i.qty, i.limit_price) for i in intents],
        gross_exposure_pct=gross,
    )


def _decode(bus: EventBus, entries: list[Any]) -> list[Event]:
    return [bus.codec.from_fields(entry.fields) for entry in entries]
