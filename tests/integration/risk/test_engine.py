"""The decision engine with the session clock and exposure services: the seeds' cases A-E.

Every case: account ACC1, equity 1,000,000, a baseline book, the real XNYS calendar at a New
York time, market data published before the services start (they replay it), no clock moves
needed for the first decision. Expected intents are worked out by hand in each test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from kit.bus import make_bus
from kit.market_events import quote, trade_print
from kit.order_events import order_working
from kit.session import ny_ns
from quantrail.config import AccountConfig
from quantrail.events.base import Event
from quantrail.events.risk import RiskModeChanged
from quantrail.events.system import AlertTriggered
from quantrail.events.trades import IntentCreated
from quantrail.session import ExchangeCalendar
from quantrail.vocab import Bucket, Mode, Side

D = Decimal
Rows = Sequence[tuple[str, int, str, str]]


def tape(ts: int) -> dict[str, Any]:
    return {"ts_event": ts, "ts_exchange_ns": ts}


async def run_case(
    rig: Callable[..., Any],
    services_for: Callable[..., Any],
    calendar: ExchangeCalendar,
    account: AccountConfig,
    at: str,
    market: Callable[[int], Sequence[Event]] = lambda ts: (),
) -> Any:
    now = ny_ns(at)
    bus = make_bus("memory", None)
    await bus.publish_batch(list(market(now)))
    return await rig(services_for(calendar, [account]), now, bus=bus).start()


def intents_of(events: Sequence[IntentCreated]) -> list[tuple[str, Side, int, Decimal]]:
    return [(i.symbol, i.side, i.qty, i.limit_price or D(0)) for i in events]


async def mode_changes(running: Any) -> list[tuple[Mode, Mode, str]]:
    return [(c.previous_mode, c.mode, c.reason) for c in await running.events(RiskModeChanged)]


async def test_case_a_open_early_at_120_stays_normal(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    # LT 900,000 (90 = its max) + MM 300,000 (30 = its max) = 120 %: EARLY tolerates 125.
    account = account_with([("AAA", 9000, "LT", "100"), ("MMA", 3000, "MM_PURE", "100")])
    running = await run_case(rig, services_for, calendar, account, "2026-11-20 09:50")
    assert await mode_changes(running) == [(Mode.THROTTLE_NEW_ORDERS, Mode.NORMAL, "WITHIN_LIMITS")]
    change = (await running.events(RiskModeChanged))[0]
    assert (change.inputs["phase"], change.inputs["gross_pct"]) == ("EARLY", "120.0")
    assert change.account == "ACC1" and change.target_gross_pct is None
    assert await running.events(IntentCreated) == []
    assert (await running.bus.get_state("mode:ACC1"))["mode"] == "NORMAL"


async def test_case_b_late_at_115_soft_derisks_at_the_truth_tick_minus_a_cent(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with([("AAA", 8500, "LT", "100"), ("MMA", 3000, "MM_PURE", "100")])

    def market(ts: int) -> list[Event]:
        return [
            trade_print("AAA", "100.50", 200, **tape(ts)),
            trade_print("MMA", "100.50", 300, **tape(ts)),
            trade_print("AAA", "100.80", 10, **tape(ts + 1)),  # an odd lot: not a truth tick
        ]

    running = await run_case(rig, services_for, calendar, account, "2026-11-20 15:46", market)
    assert await mode_changes(running) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.SOFT_DERISK, "LATE_ABOVE_DERISK_LEVEL")
    ]
    # Marked at the truth ticks: (8500 + 3000) x 100.50 = 1,155,750 = 115.575 %; target 100 %:
    # gap 155,750. MM_PURE first: MMA 300 (10 %) = 30,150; then AAA 800 = 80,400: 110,550.
    intents = await running.events(IntentCreated)
    assert intents_of(intents) == [
        ("MMA", Side.SELL, 300, D("100.49")),
        ("AAA", Side.SELL, 800, D("100.49")),
    ]
    mma, aaa = intents
    assert mma.idempotency_key == "derisk:ACC1:2026-11-20:SOFT_DERISK:1:MMA"
    assert (mma.bucket, aaa.bucket, mma.step, mma.mode) == (
        Bucket.MM_PURE, Bucket.LT, 1, Mode.SOFT_DERISK,
    )  # fmt: skip
    assert all(i.reduce_only and i.replaces_intent_id is None for i in intents)
    assert (aaa.urgency, aaa.reason) == ("HIGH", "LATE_ABOVE_DERISK_LEVEL, priced from TRUTH_TICK")
    change = (await running.events(RiskModeChanged))[0]
    assert change.target_gross_pct == 100.0 and change.inputs["gross_pct"] == "115.575"


async def test_case_c_close_at_110_hard_derisks_at_bid_and_ask(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    # MMA 200,000 + MMS short 100,000 (MM_PURE) + AAA 800,000 (LT) = 110 % at the mids.
    account = account_with(
        [
            ("AAA", 8000, "LT", "100"),
            ("MMA", 2000, "MM_PURE", "100"),
            ("MMS", -2000, "MM_PURE", "50"),
        ]
    )

    def market(ts: int) -> list[Event]:
        return [
            quote("AAA", "99.97", "100.03", **tape(ts)),
            quote("MMA", "99.98", "100.02", **tape(ts)),
            quote("MMS", "49.98", "50.02", **tape(ts)),
        ]

    running = await run_case(rig, services_for, calendar, account, "2026-11-20 15:58:30", market)
    assert await mode_changes(running) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.HARD_DERISK, "CLOSE_ABOVE_LIMIT")
    ]
    # Gap (110 - 100) % = 100,000. MMA 200 x 100 (mid) = 20,000; MMS buys 200 x 50 = 10,000;
    # AAA 800 x 100 = 80,000: 110,000 covers it. Longs sell at the bid, the short covers at the ask.
    intents = await running.events(IntentCreated)
    assert intents_of(intents) == [
        ("MMA", Side.SELL, 200, D("99.98")),
        ("MMS", Side.BUY, 200, D("50.02")),
        ("AAA", Side.SELL, 800, D("99.97")),
    ]
    assert {i.urgency for i in intents} == {"URGENT"}
    assert {i.mode for i in intents} == {Mode.HARD_DERISK}


@pytest.mark.parametrize("at", ["2026-11-20 09:35", "2026-11-20 12:00", "2026-11-20 15:50"])
async def test_case_d_131_is_hard_derisk_in_any_trading_phase(
    at: str, rig: Callable[..., Any], services_for: Callable[..., Any],
    calendar: ExchangeCalendar, account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with([("AAA", 9000, "LT", "100"), ("MMA", 4100, "MM_PURE", "100")])

    def market(ts: int) -> list[Event]:
        return [quote("AAA", "99.99", "100.01", **tape(ts)),
                quote("MMA", "99.99", "100.01", **tape(ts))]  # fmt: skip

    running = await run_case(rig, services_for, calendar, account, at, market)
    assert await mode_changes(running) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.HARD_DERISK, "ABOVE_HARD_CAP")
    ]
    assert (await running.events(RiskModeChanged))[0].target_gross_pct == 125.0
    # Gap (131 - 125) % = 60,000: MMA 400 = 40,000, then AAA 900 = 90,000.
    assert intents_of(await running.events(IntentCreated)) == [
        ("MMA", Side.SELL, 400, D("99.99")),
        ("AAA", Side.SELL, 900, D("99.99")),
    ]
    (alert,) = await running.events(AlertTriggered)
    assert (alert.severity, alert.details["reason"], alert.account) == (
        "CRITICAL", "ABOVE_HARD_CAP", "ACC1",
    )  # fmt: skip
    await running.advance(3)  # more ticks and decisions: no second alert, no second change
    assert len(await running.events(AlertTriggered)) == 1
    assert len(await running.events(RiskModeChanged)) == 1


async def test_case_e_potential_135_throttles_without_intents(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with([("AAA", 6500, "LT", "100"), ("MMA", 2000, "MM_PURE", "100")])

    def market(ts: int) -> list[Event]:  # an open buy of 5000 x 100 = 500,000 more: 135 %
        return [order_working(symbol="AAA", qty=5000, limit_price=D("100"), order_id="o-1",
                              ts_event=ts)]  # fmt: skip

    running = await run_case(rig, services_for, calendar, account, "2026-11-20 12:00", market)
    engine = running.services[-1]
    assert (engine.mode("ACC1").mode, engine.mode("ACC1").reason) == (
        Mode.THROTTLE_NEW_ORDERS, "POTENTIAL_ABOVE_TOLERANCE",
    )  # fmt: skip
    state = await running.bus.get_state("mode:ACC1")
    assert (state["mode"], state["reason"]) == ("THROTTLE_NEW_ORDERS", "POTENTIAL_ABOVE_TOLERANCE")
    inputs = engine.inputs("ACC1", running.clock.now_ns())
    assert (inputs.gross_pct, inputs.potential_gross_pct) == (D("85.0"), D("135.0"))
    assert await running.events(IntentCreated) == []
    # The first decision is announced although the mode stays THROTTLE (awaiting data before):
    # risk.mode must carry every account's mode for the services that replay it.
    assert await mode_changes(running) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.THROTTLE_NEW_ORDERS, "POTENTIAL_ABOVE_TOLERANCE")
    ]
    await running.advance(3)
    assert len(await running.events(RiskModeChanged)) == 1
