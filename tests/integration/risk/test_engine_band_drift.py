"""The decision engine runs the LT band drift: session clock, exposure service, engine, one bus.

Every case: ACC1, equity 1,000,000, LT target 80 % with a band of 5 (75..85), the real XNYS
calendar, quotes published before the services start (marks are the mids; no prints). Drift
config: price offset 0.01, step 200, at most 25,000 per intent, 60 s between a symbol's intents.

    AAA  quote 99.98 / 100.02 (mark 100)    BBB  quote 49.99 / 50.01 (mark 50)
    CCC  quote 19.99 / 20.01 (mark 20)      MMA  quote 99.98 / 100.02 (mark 100)

Runs on both transports (the ``bus`` fixture: memory and a real redis-server).

Leaving NORMAL: the drift's working orders that add exposure are cancelled with one
``CancelOrder`` each on ``trades.request``. The mode is turned with an MM order of another
strategy (``mm-1``: buy 5000 MMA at 100 = 50 % potential, taking the potential gross past the
MID tolerance of 120 %), or, with the real execution service, a market move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from kit.market_events import quote
from kit.order_events import order_filled, order_working
from kit.session import ny_ns
from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig, Config, config_from_mapping
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.orders import OrderCanceled, OrderWorking
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.execution.services import build_execution_service
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.rules import RiskRules
from quantrail.risk.services import build_risk_services
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import Service
from quantrail.session import ExchangeCalendar, PhaseBoundaries
from quantrail.session.service import SessionClockService
from quantrail.strategy.band_drift import BandDriftConfig, intent_key
from quantrail.vocab import Bucket, Mode, Side

D = Decimal
RULES = RiskRules()
NOON = ny_ns("2026-11-20 12:00")
LATE = ny_ns("2026-11-20 15:46")
DRIFT = BandDriftConfig(enabled=True, price_offset=D("0.01"))
QUOTES = {"AAA": ("99.98", "100.02"), "BBB": ("49.99", "50.01"), "CCC": ("19.99", "20.01"),
          "MMA": ("99.98", "100.02")}  # fmt: skip
Rows = Sequence[tuple[str, int, str, str]]
ABOVE = [("AAA", 6000, "LT", "100"), ("BBB", 5600, "LT", "50")]  # 880,000: 88 %


def services(
    calendar: ExchangeCalendar,
    account: AccountConfig,
    band_drift: BandDriftConfig | None = DRIFT,
    engine_name: str | None = None,
) -> list[Service]:
    """The three risk services, the engine with ``band_drift``."""
    return [
        SessionClockService(calendar, PhaseBoundaries(), 1.0),
        ExposureService([account], {}, RULES.buckets, 15.0),
        DecisionEngine(RULES, DeriskPlanner.from_rules(RULES), [account], 15.0,
                       name=engine_name, band_drift=band_drift),
    ]  # fmt: skip


async def start(
    rig: Callable[..., Any], bus: EventBus, built: list[Service], at: int = NOON
) -> Any:
    await bus.publish_batch([quote(s, b, a, ts_event=at, ts_exchange_ns=at)
                             for s, (b, a) in QUOTES.items()])  # fmt: skip
    return await rig(built, at, bus=bus).start()


def orders(intents: Sequence[IntentCreated]) -> list[tuple[str, Side, int, Decimal | None]]:
    return [(i.symbol, i.side, i.qty, i.limit_price) for i in intents]


def drift_intents(intents: Sequence[IntentCreated]) -> list[IntentCreated]:
    return [i for i in intents if i.idempotency_key.startswith("lt_band_drift:")]


async def test_above_the_band_sells_passively_then_stops_back_inside(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    running = await start(rig, bus, services(calendar, account_with(ABOVE)))
    # 88 %: gap (8 - 5) % = 30,000. AAA sells 200 at 100.02 + 0.01 = 20,006 (step 200 < 25,000
    # / 100.03); BBB 200 at 50.02 = 10,004: 30,010 covers the gap, so nothing more.
    intents = await running.events(IntentCreated)
    assert orders(intents) == [("AAA", Side.SELL, 200, D("100.03")),
                               ("BBB", Side.SELL, 200, D("50.02"))]  # fmt: skip
    assert {(i.mode, i.bucket, i.reduce_only, i.urgency) for i in intents} == {
        (Mode.NORMAL, Bucket.LT, True, "LOW")
    }
    (snapshot,) = await running.events(ExposureSnapshot)
    key = intent_key("ACC1", date(2026, 11, 20), snapshot.ts_event, "AAA")
    assert intents[0].idempotency_key == f"lt_band_drift:{key}"
    assert intents[0].causation_id == snapshot.event_id
    # Both fill: 5800 x 100 + 5400 x 50 = 850,000 = 85 %, the band's edge: the drift stops.
    now = running.clock.now_ns()
    for n, sent in enumerate(intents):
        common = dict(symbol=sent.symbol, side=Side.SELL, qty=200, order_id=f"o-{n}",
                      intent_id=sent.intent_id, ts_event=now)  # fmt: skip
        working = order_working(limit_price=sent.limit_price, **common)
        filled = order_filled(price=sent.limit_price, fill_id=f"f-{n}", **common)
        await running.publish(working, filled)
    await running.advance(61)  # past the symbols' interval, several snapshots later
    assert (await running.events(ExposureSnapshot))[-1].buckets["LT"].current_pct == 85.0
    assert len(await running.events(IntentCreated)) == 2


async def test_below_the_band_buys_existing_longs_at_the_bid(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    # 400,000 + 280,000 + 20,000 (the short) = 70 %: gap 50,000. AAA 200 at 99.98 - 0.01 =
    # 19,994; BBB 200 at 49.98 = 9,996. The CCC short is never added to.
    book = [("AAA", 4000, "LT", "100"), ("BBB", 5600, "LT", "50"), ("CCC", -1000, "LT", "20")]
    running = await start(rig, bus, services(calendar, account_with(book)))
    intents = await running.events(IntentCreated)
    assert orders(intents) == [("AAA", Side.BUY, 200, D("99.97")),
                               ("BBB", Side.BUY, 200, D("49.98"))]  # fmt: skip
    assert not any(i.reduce_only for i in intents)
    assert {i.mode for i in intents} == {Mode.NORMAL}


async def test_inside_the_band_nothing_is_sent(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    book = [("AAA", 6000, "LT", "100"), ("BBB", 4000, "LT", "50")]  # 800,000: 80 %
    running = await start(rig, bus, services(calendar, account_with(book)))
    await running.advance(31)
    engine = running.services[-1]
    assert engine.mode("ACC1").mode is Mode.NORMAL
    assert len(await running.events(ExposureSnapshot)) >= 3
    assert await running.events(IntentCreated) == []


async def test_a_throttled_account_gets_no_drift(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    # 600,000 + 320,000 = 92 %: above the band, and the LT potential is above its 90 % max.
    book = [("AAA", 6000, "LT", "100"), ("BBB", 6400, "LT", "50")]
    running = await start(rig, bus, services(calendar, account_with(book)))
    await running.advance(16)
    engine = running.services[-1]
    assert (engine.mode("ACC1").mode, engine.mode("ACC1").reason) == (
        Mode.THROTTLE_NEW_ORDERS, "BUCKET_POTENTIAL_ABOVE_MAX",
    )  # fmt: skip
    assert await running.events(IntentCreated) == []


async def test_a_soft_derisk_sends_its_steps_and_no_drift(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    # LATE: 88 % LT + 15 % MM = 103 % > the 100 % de-risk level.
    account = account_with([*ABOVE, ("MMA", 1500, "MM_PURE", "100")])
    running = await start(rig, bus, services(calendar, account), at=LATE)
    await running.advance(16)
    intents = await running.events(IntentCreated)
    assert intents and {i.mode for i in intents} == {Mode.SOFT_DERISK}
    assert drift_intents(intents) == []


async def test_a_snapshot_delivered_again_does_not_double_the_intents(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with(ABOVE)
    first = await start(rig, bus, services(calendar, account))
    sent = await first.events(IntentCreated)
    assert len(sent) == 2
    (snapshot,) = await first.events(ExposureSnapshot)
    # The same figures at the same time under new ids: the engine's handler runs again.
    again = msgspec.structs.replace(snapshot, event_id="again", idempotency_key="again")
    await first.publish(again)
    assert len(await first.events(IntentCreated)) == 2
    await first.stop()
    # A restarted engine in a new group: every snapshot is delivered to it again, and it takes
    # its intents back from trades.intent first: nothing new.
    restarted = services(calendar, account, engine_name="decision-engine-2")
    second = await rig(restarted, bus=bus, clock=first.clock).start()
    assert [i.idempotency_key for i in await second.events(IntentCreated)] == [
        i.idempotency_key for i in sent
    ]


async def test_drift_is_off_unless_the_config_enables_it(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    disabled = BandDriftConfig(price_offset=D("0.01"))  # configured, not enabled
    running = await start(rig, bus, services(calendar, account_with(ABOVE), disabled))
    await running.advance(16)
    assert running.services[-1].drift is None
    assert await running.events(IntentCreated) == []


def tree(baseline: Path, **band_drift: Any) -> Any:
    baseline.write_text("symbol,qty,bucket,prior_close\nAAA,6000,LT,100\nBBB,5600,LT,50\n")
    account = {"name": "ACC1", "equity": "1000000", "baseline": str(baseline)}
    return config_from_mapping(
        {"risk": {"accounts": [account]}, "session": {"tick_s": 1}, "band_drift": band_drift}
    )


async def test_built_services_pass_the_drift_config_only_when_enabled(
    bus: EventBus, rig: Callable[..., Any], tmp_path: Path
) -> None:
    clock = SimulatedClock(NOON)
    off = build_risk_services(tree(tmp_path / "off.csv"), clock)[-1]
    assert isinstance(off, DecisionEngine) and off.drift is None  # the default: off
    built = build_risk_services(tree(tmp_path / "on.csv", enabled=True, step_qty=100), clock)
    engine = built[-1]
    assert isinstance(engine, DecisionEngine) and engine.drift is not None
    running = await start(rig, bus, built)
    # Step 100 with no offset: AAA 100 at 100.02, BBB 100 at 50.01: 15,003 of the 30,000 gap,
    # and no third LT symbol to take more from.
    intents = await running.events(IntentCreated)
    assert orders(intents) == [("AAA", Side.SELL, 100, D("100.02")),
                               ("BBB", Side.SELL, 100, D("50.01"))]  # fmt: skip


# --- leaving NORMAL ------------------------------------------------------------------------------
BELOW = [("AAA", 4000, "LT", "100"), ("BBB", 6800, "LT", "50")]  # 740,000: 74 %
# 74 %: gap 10,000; AAA (the largest) 200 at 99.97 = 19,994 covers it: one BUY.


async def work(running: Any, intents: Sequence[IntentCreated]) -> list[str]:
    """Each intent's order ``o-<n>`` works at its limit; their order ids."""
    now = running.clock.now_ns()
    events = [
        order_working(symbol=i.symbol, side=i.side, qty=i.qty, limit_price=i.limit_price,
                      intent_id=i.intent_id, order_id=f"o-{n}", ts_event=now)
        for n, i in enumerate(intents)
    ]  # fmt: skip
    await running.publish(*events)
    return [e.order_id for e in events]


async def throttle(running: Any) -> None:
    """Another strategy's MM buy of 5000 MMA: potential gross past the tolerance."""
    mm = order_working(symbol="MMA", side=Side.BUY, qty=5000, limit_price=D("100"),
                       bucket=Bucket.MM_PURE, intent_id="mm-intent", order_id="mm-1",
                       ts_event=running.clock.now_ns())  # fmt: skip
    await running.publish(mm)
    engine = running.services[-1]
    assert (engine.mode("ACC1").mode, engine.mode("ACC1").reason) == (
        Mode.THROTTLE_NEW_ORDERS, "POTENTIAL_ABOVE_TOLERANCE",
    )  # fmt: skip


async def test_a_throttle_cancels_the_working_drift_buy_once(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with(BELOW)
    running = await start(rig, bus, services(calendar, account))
    intents = await running.events(IntentCreated)
    assert orders(intents) == [("AAA", Side.BUY, 200, D("99.97"))]
    (order_id,) = await work(running, intents)
    await running.advance(3)
    assert await running.events(CancelOrder) == []  # NORMAL: the buy keeps working
    await throttle(running)
    (cancel,) = await running.events(CancelOrder)
    assert (cancel.account, cancel.order_id, cancel.idempotency_key, cancel.source) == (
        "ACC1", order_id, f"drift_cancel:ACC1:{order_id}", "decision-engine",
    )  # fmt: skip
    assert cancel.reason == "lt band drift: mode THROTTLE_NEW_ORDERS (POTENTIAL_ABOVE_TOLERANCE)"
    # Ticks, the watchdog and new snapshots decide again and again: still one cancel.
    await running.advance(16)
    latest = (await running.events(ExposureSnapshot))[-1]
    # The decision delivered again (the same snapshot under new ids): still one cancel.
    again = msgspec.structs.replace(latest, event_id="again", idempotency_key="again")
    await running.publish(again)
    assert len(await running.events(CancelOrder)) == 1
    await running.stop()
    # A restarted engine in a new group gets every snapshot again; it takes its cancel back
    # from trades.request first, so the order (still working: no venue here) is not cancelled
    # again.
    restarted = services(calendar, account, engine_name="decision-engine-2")
    second = await rig(restarted, bus=bus, clock=running.clock).start()
    assert second.services[-1].mode("ACC1").mode is Mode.THROTTLE_NEW_ORDERS
    assert second.services[-1].book("ACC1").order(order_id).live
    assert [c.idempotency_key for c in await second.events(CancelOrder)] == [cancel.idempotency_key]


async def test_a_throttle_leaves_the_reducing_drift_sells_working(
    bus: EventBus, rig: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    running = await start(rig, bus, services(calendar, account_with(ABOVE)))
    intents = await running.events(IntentCreated)
    assert [(i.symbol, i.side) for i in intents] == [("AAA", Side.SELL), ("BBB", Side.SELL)]
    order_ids = await work(running, intents)
    await throttle(running)  # 88 % + 50 % potential = 138 % > 120 %
    await running.advance(16)
    engine = running.services[-1]
    assert engine.mode("ACC1").mode is Mode.THROTTLE_NEW_ORDERS
    assert await running.events(CancelOrder) == []
    assert all(engine.book("ACC1").order(o).live for o in order_ids)


def with_execution(account: AccountConfig) -> Config:
    """The config tree of ``account``, drift on (offset 0.01), the default (simulated) venue."""
    fields = {"name": account.name, "equity": str(account.equity), "baseline": account.baseline}
    drift = {"enabled": True, "price_offset": "0.01"}
    return config_from_mapping(
        {"risk": {"accounts": [fields]}, "session": {"tick_s": 1}, "band_drift": drift}
    )


async def test_with_the_execution_service_the_drift_buy_ends_canceled(
    bus: EventBus, rig: Callable[..., Any], account_with: Callable[..., AccountConfig]
) -> None:
    config, clock = with_execution(account_with(BELOW)), SimulatedClock(NOON)
    built = [*build_risk_services(config, clock), build_execution_service(config, bus, clock)]
    # Quotes after the start: the execution service reads market data from its start on.
    running = await rig(built, NOON, bus=bus).start()
    await running.publish(*[quote(s, b, a, ts_event=NOON, ts_exchange_ns=NOON)
                            for s, (b, a) in QUOTES.items()])  # fmt: skip
    await running.advance(16)  # the next snapshot is planned on with the quotes
    (sent,) = await running.events(IntentCreated)
    # At the venue: a passive buy below the bid, cut to 100 (half the 300 shown on the ask).
    (working,) = await running.events(OrderWorking)
    assert (working.intent_id, working.side, working.qty, working.limit_price) == (
        sent.intent_id, Side.BUY, 100, D("99.97"),
    )  # fmt: skip
    # The market moves: AAA at 200 makes LT 114 % (potential 116 %) > its 90 % max.
    at = clock.now_ns()
    await running.publish(quote("AAA", "199.98", "200.02", ts_event=at, ts_exchange_ns=at))
    await running.advance(16)  # the next snapshot, then the venue's cancel report
    engine = running.services[2]
    assert engine.mode("ACC1").reason == "BUCKET_POTENTIAL_ABOVE_MAX"
    (cancel,) = await running.events(CancelOrder)
    assert cancel.order_id == working.order_id
    (canceled,) = await running.events(OrderCanceled)
    assert canceled.order_id == working.order_id
    assert not engine.book("ACC1").order(working.order_id).live
    assert running.services[-1].open_orders() == []
