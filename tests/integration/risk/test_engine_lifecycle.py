"""The decision engine over time: stale data, one change per change, redelivery, next steps.

Book for the de-risk tests (LATE, 2026-11-20 15:46, equity 1,000,000, every truth tick at
100.00): AAA +8500 LT and MMA +3000 MM_PURE = 115 %. Step 1 sells MMA 300 and AAA 800 at 99.99.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from kit.bus import make_bus
from kit.market_events import trade_print
from kit.order_events import order_filled, order_working
from kit.position_events import exposure_snapshot
from kit.session import ny_ns
from quantrail.config import AccountConfig
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.risk import RiskModeChanged
from quantrail.events.system import AlertTriggered
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.session import ExchangeCalendar
from quantrail.vocab import Mode, Side

D = Decimal
LATE = ny_ns("2026-11-20 15:46")
BOOK = [("AAA", 8500, "LT", "100"), ("MMA", 3000, "MM_PURE", "100")]


async def late_soft_derisk(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account: AccountConfig, engine_name: str | None = None,
) -> Any:  # fmt: skip
    bus = make_bus("memory", None)
    await bus.publish_batch([trade_print(s, "100.00", 100, ts_event=LATE, ts_exchange_ns=LATE)
                             for s in ("AAA", "MMA")])  # fmt: skip
    services = services_for(calendar, [account], engine_name=engine_name)
    return await rig(services, LATE, bus=bus).start()


async def changes(running: Any) -> list[tuple[Mode, Mode, str]]:
    return [(c.previous_mode, c.mode, c.reason) for c in await running.events(RiskModeChanged)]


async def test_stale_exposure_throttles_once_with_one_alert(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar
) -> None:
    # No exposure service: the test publishes the snapshots (100 % gross, MID: NORMAL).
    account = AccountConfig(name="ACC1", equity=D(1000000))
    noon = ny_ns("2026-11-20 12:00")
    running = await rig(services_for(calendar, [account], exposure=False), noon).start()
    await running.publish(exposure_snapshot(ts_event=noon))
    await running.advance(60)  # exactly 60 s old: still fresh
    assert await changes(running) == [(Mode.THROTTLE_NEW_ORDERS, Mode.NORMAL, "WITHIN_LIMITS")]
    await running.advance(1)  # 61 s: stale
    await running.advance(10)  # ten more ticks and watchdog rounds
    assert await changes(running) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.NORMAL, "WITHIN_LIMITS"),
        (Mode.NORMAL, Mode.THROTTLE_NEW_ORDERS, "STALE_DATA"),
    ]
    stale = (await running.events(RiskModeChanged))[-1]
    assert (stale.ts_event, stale.inputs["exposure_age_s"]) == (noon + 61 * NS_PER_SECOND, "61.0")
    (alert,) = await running.events(AlertTriggered)
    assert (alert.severity, alert.details["reason"]) == ("WARNING", "STALE_DATA")
    # Fresh data ends the episode; the next stale episode alerts again, once.
    await running.publish(exposure_snapshot(ts_event=running.clock.now_ns()))
    await running.advance(65)
    assert [c[2] for c in await changes(running)][-2:] == ["WITHIN_LIMITS", "STALE_DATA"]
    assert len(await running.events(AlertTriggered)) == 2


async def test_stale_data_never_plans_a_derisk(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with(BOOK)
    running = await rig(services_for(calendar, [account], exposure=False), LATE).start()
    old = exposure_snapshot(ts_event=LATE - 61 * NS_PER_SECOND, gross_exposure_pct=140.0,
                            potential_gross_pct=140.0)  # fmt: skip
    await running.publish(old)
    await running.advance(2)
    engine = running.services[-1]
    assert (engine.mode("ACC1").mode, engine.mode("ACC1").reason) == (
        Mode.THROTTLE_NEW_ORDERS, "STALE_DATA",
    )  # fmt: skip
    assert await running.events(IntentCreated) == []


async def test_a_redelivered_snapshot_or_a_restart_does_not_double_intents(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with(BOOK)
    first = await late_soft_derisk(rig, services_for, calendar, account)
    step1 = await first.events(IntentCreated)
    assert [i.idempotency_key.rsplit(":", 2)[1:] for i in step1] == [["1", "MMA"], ["1", "AAA"]]
    snapshot = (await first.events(ExposureSnapshot))[0]
    await first.publish(msgspec.structs.replace(snapshot, event_id="again"))  # redelivered
    assert len(await first.events(IntentCreated)) == 2
    await first.stop()
    # A restarted engine (a new group: every snapshot is delivered to it again) takes over the
    # mode from the state store and its intents from trades.intent: nothing new at once...
    restarted = services_for(calendar, [account], engine_name="decision-engine-2")
    second = await rig(restarted, bus=first.bus, clock=first.clock).start()
    assert len(await second.events(IntentCreated)) == 2
    assert await changes(second) == [
        (Mode.THROTTLE_NEW_ORDERS, Mode.SOFT_DERISK, "LATE_ABOVE_DERISK_LEVEL")
    ]
    # ...and one interval later step 2, replacing step 1's intents (still working: no orders).
    await second.advance(15)
    step2 = (await second.events(IntentCreated))[2:]
    assert [(i.step, i.symbol, i.replaces_intent_id) for i in step2] == [
        (2, "MMA", step1[0].intent_id),
        (2, "AAA", step1[1].intent_id),
    ]


async def test_the_next_step_replaces_working_intents_and_the_end_cancels_them(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    running = await late_soft_derisk(rig, services_for, calendar, account_with(BOOK))
    mma1, aaa1 = await running.events(IntentCreated)
    now = running.clock.now_ns()

    def order(intent: IntentCreated, order_id: str, **extra: Any) -> dict[str, Any]:
        return dict(symbol=intent.symbol, side=Side.SELL, qty=intent.qty, order_id=order_id,
                    intent_id=intent.intent_id, limit_price=intent.limit_price,
                    bucket=intent.bucket, ts_event=now, **extra)  # fmt: skip

    await running.publish(
        order_working(**order(mma1, "o-mma-1")),
        order_working(**order(aaa1, "o-aaa-1")),
        order_filled(**order(mma1, "o-mma-1", fill_id="f-1"), price="99.99"),
    )
    assert len(await running.events(IntentCreated)) == 2  # not due yet: no step on a fill
    await running.advance(15)
    # MMA 2700 + AAA 8500 = 112 %: gap 120,000. MMA 200 = 20,000; AAA 800 = 80,000.
    mma2, aaa2 = (await running.events(IntentCreated))[2:]
    assert [(i.symbol, i.qty, i.step) for i in (mma2, aaa2)] == [("MMA", 200, 2), ("AAA", 800, 2)]
    assert mma2.replaces_intent_id is None  # step 1's MMA order filled: nothing to replace
    assert aaa2.replaces_intent_id == aaa1.intent_id  # still working: replaced, not stacked
    assert await running.events(CancelOrder) == []
    # AAA step 2 gets an order; MMA step 2 has none yet. A sale elsewhere brings gross to 100 %:
    # back within limits, so every live de-risk order is cancelled (step 1's too).
    now = running.clock.now_ns()
    await running.publish(order_working(**order(aaa2, "o-aaa-2")))
    await running.publish(order_filled(symbol="AAA", side=Side.SELL, qty=1200, price="100",
                                       order_id="o-x", fill_id="f-x", ts_event=now))  # fmt: skip
    assert (await changes(running))[-1] == (Mode.SOFT_DERISK, Mode.NORMAL, "WITHIN_LIMITS")
    assert sorted(c.order_id for c in await running.events(CancelOrder)) == ["o-aaa-1", "o-aaa-2"]
    await running.publish(order_working(**order(mma2, "o-mma-2")))  # shows up late: cancelled
    cancels = await running.events(CancelOrder)
    assert [c.order_id for c in cancels][-1] == "o-mma-2"
    assert {c.idempotency_key for c in cancels} == {
        f"derisk-cancel:ACC1:{o}" for o in ("o-aaa-1", "o-aaa-2", "o-mma-2")
    }


async def test_a_restarted_engine_does_not_send_its_cancels_again(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with(BOOK)
    first = await late_soft_derisk(rig, services_for, calendar, account)
    mma1, aaa1 = await first.events(IntentCreated)
    now = first.clock.now_ns()
    for intent, order_id in ((mma1, "o-mma-1"), (aaa1, "o-aaa-1")):
        await first.publish(order_working(
            symbol=intent.symbol, side=Side.SELL, qty=intent.qty, order_id=order_id,
            intent_id=intent.intent_id, limit_price=intent.limit_price, bucket=intent.bucket,
            ts_event=now,
        ))  # fmt: skip

    async def fill_elsewhere(running: Any, side: Side, fill_id: str) -> None:
        await running.publish(order_filled(
            symbol="AAA", side=side, qty=2000, price="100", order_id=f"o-{fill_id}",
            fill_id=fill_id, ts_event=running.clock.now_ns(),
        ))  # fmt: skip

    # Back within limits: both live de-risk orders are cancelled. No venue acks the cancels
    # here, so both orders stay live in the engine's book.
    await fill_elsewhere(first, Side.SELL, "f-1")
    assert sorted(c.order_id for c in await first.events(CancelOrder)) == ["o-aaa-1", "o-mma-1"]
    await first.advance(15)
    await fill_elsewhere(first, Side.BUY, "f-2")  # 115 % again: a new SOFT episode
    assert (await changes(first))[-1][1] is Mode.SOFT_DERISK
    await first.stop()
    # The engine restarts mid-episode; when the episode ends again it cancels every live order
    # of the day's de-risk intents it has not cancelled yet: not step 1's, cancelled before.
    restarted = services_for(calendar, [account], engine_name="decision-engine-2")
    second = await rig(restarted, bus=first.bus, clock=first.clock).start()
    await fill_elsewhere(second, Side.SELL, "f-3")
    assert (await changes(second))[-1][1] is Mode.NORMAL
    cancelled = [c.order_id for c in await second.events(CancelOrder)]
    assert cancelled.count("o-aaa-1") == 1 and cancelled.count("o-mma-1") == 1


async def test_a_snapshot_that_cannot_be_decided_on_is_dead_lettered_naming_the_field(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar
) -> None:
    account = AccountConfig(name="ACC1", equity=D(1000000))
    noon = ny_ns("2026-11-20 12:00")
    running = await rig(services_for(calendar, [account], exposure=False), noon).start()
    await running.publish(exposure_snapshot(ts_event=noon))
    bad = exposure_snapshot(ts_event=noon + 1, gross_exposure_pct=140.0, potential_gross_pct=90.0)
    await running.publish(bad)
    (letter,) = await running.bus.dead_letters()
    assert (letter.stream, letter.group, letter.error_type) == (
        "exposure.snapshot", "decision-engine", "PolicyInputError",
    )  # fmt: skip
    assert f"exposure snapshot {bad.event_id} of ACC1" in letter.error
    assert letter.deliveries == 1  # a rule violation: dead-lettered at once, never retried
    assert "potential_gross_pct" in letter.error and "Decimal('90.0')" in letter.error
    engine = running.services[-1]
    assert engine.mode("ACC1").mode is Mode.NORMAL  # decided on the last good snapshot only
    assert engine.inputs("ACC1", running.clock.now_ns()).gross_pct == D("100.0")
