"""The kill switch: cancel every working order, deny increasing ones until reset, flatten."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integration.execution.harness import Harness, actions
from kit.event_base import ACCOUNT
from kit.market_events import quote
from kit.order_events import intent
from kit.poll import eventually
from quantrail.events import KillSwitchActivated, KillSwitchReset
from quantrail.execution.order import order_id_for_intent
from quantrail.vocab import Side

D = Decimal


def activation(flatten: bool = False, **overrides: Any) -> KillSwitchActivated:
    fields: dict[str, Any] = {
        "ts_event": 1, "trigger": "daily_loss", "trigger_value": -5.2, "threshold": -5.0,
        "severity": "CRITICAL", "flatten": flatten, "activated_by": "risk_kernel",
    }  # fmt: skip
    return KillSwitchActivated(**{**fields, **overrides})


async def test_kill_switch_cancels_working_orders_and_denies_until_reset(
    harness: Harness,
) -> None:
    service = await harness.start()
    await harness.show(quote(bid="24.95", ask="25.05", bid_size=1000, ask_size=1000))
    await harness.publish(
        intent(intent_id="buy", qty=100, limit_price="24.90"),
        intent(intent_id="sell", side=Side.SELL, qty=100, limit_price="25.10"),
    )
    buy, sell = order_id_for_intent("buy"), order_id_for_intent("sell")
    await harness.wait_kind(buy, "working")
    await harness.wait_kind(sell, "working")

    await harness.publish(activation())
    for order_id in (buy, sell):
        events = await harness.wait_kind(order_id, "canceled")
        assert actions(events)[-2:] == ["pending_cancel", "canceled"]
        assert events[-2].causation_id != "" and events[-2].account == ACCOUNT
    assert service.open_orders() == []

    await harness.publish(
        intent(intent_id="more", qty=100, limit_price="24.90"),
        intent(intent_id="less", side=Side.SELL, qty=100, limit_price="25.10"),
    )
    denied = (await harness.wait_kind(order_id_for_intent("more"), "denied"))[-1]
    assert denied.reason_code == "DENIED_KILL_SWITCH"
    await harness.wait_kind(order_id_for_intent("less"), "working")  # reducing still passes

    await harness.publish(KillSwitchReset(ts_event=2, reset_by="j.smith", reason="checked"))
    await eventually(lambda: service.health()["kill_switch"], lambda on: not on)
    await harness.publish(intent(intent_id="again", qty=100, limit_price="24.90"))
    await harness.wait_kind(order_id_for_intent("again"), "working")


async def test_kill_switch_with_flatten_closes_the_position(harness: Harness) -> None:
    """500 ACME long (baseline); flatten sells 500 at market, taking the 25.00 bid:
    fee cents(max(500 x 0.0035, 0.35)) = 1.75."""
    service = await harness.start()
    await harness.show(quote(bid="25.00", ask="25.02", bid_size=2000, ask_size=2000))
    await harness.publish(intent(intent_id="rest", qty=100, limit_price="24.50"))
    await harness.wait_kind(order_id_for_intent("rest"), "working")
    kill = activation(flatten=True)
    await harness.publish(kill)
    await harness.wait_kind(order_id_for_intent("rest"), "canceled")
    flatten_id = order_id_for_intent(f"flatten:{kill.event_id}:{ACCOUNT}:ACME:500")
    events = await harness.wait_kind(flatten_id, "filled")
    submitted, filled = events[0], events[-1]
    assert submitted.side is Side.SELL and submitted.qty == 500 and submitted.limit_price is None
    assert (filled.last_qty, filled.last_price, filled.fees) == (500, D("25.00"), D("1.75"))
    assert service.pretrade.position(ACCOUNT, "ACME") == 0
    stored = await harness.registry().get(flatten_id)
    assert stored.reduce_only
    # Flat now: no further flatten order, however many ticks pass.
    ticks = len(await harness.orders())
    await harness.publish(intent(intent_id="probe", side=Side.SELL, qty=100, limit_price="30"))
    await harness.wait_kind(order_id_for_intent("probe"), "denied")
    assert len(await harness.orders()) == ticks + 1


async def test_an_activation_published_while_down_is_obeyed_at_start(harness: Harness) -> None:
    await harness.publish(activation())
    service = await harness.start()
    assert service.health()["kill_switch"] is True
    await harness.show(quote(bid_size=1000, ask_size=1000))
    await harness.publish(intent(intent_id="late", qty=100, limit_price="24.00"))
    denied = (await harness.wait_kind(order_id_for_intent("late"), "denied"))[-1]
    assert denied.reason_code == "DENIED_KILL_SWITCH"
