"""One default event of every catalog kind, for the tests that walk the whole catalog.

A stopgap: ``kit.events.one_of_each`` has no builder for ``OrderCancelRejected`` yet and refuses
to run without one (``tests/kit`` is edited elsewhere). Once it has, use it again and delete this.
"""

from __future__ import annotations

from typing import Any

from kit.events import (
    alert,
    build,
    cancel_order,
    candle,
    decision_audited,
    exit_decision,
    exposure_snapshot,
    feature,
    heartbeat,
    intent,
    kill_switch_activated,
    kill_switch_reset,
    order_accepted,
    order_canceled,
    order_denied,
    order_expired,
    order_fields,
    order_filled,
    order_partially_filled,
    order_pending_cancel,
    order_pending_replace,
    order_rejected,
    order_replaced,
    order_submitted,
    order_working,
    position_closed,
    position_opened,
    position_updated,
    price_tick,
    quote,
    regime_classified,
    replace_order,
    risk_daily_status,
    risk_evaluation,
    risk_mode_changed,
    session_clock,
    signal_declined,
    signal_issued,
    stop_triggered,
    submit_order,
    trade_print,
    volatility_spiked,
)
from quantrail.events import ALL_EVENTS, Event, OrderCancelRejected
from quantrail.vocab import OrderStatus


def order_cancel_rejected(**overrides: Any) -> OrderCancelRejected:
    """The venue refused the cancel of ``ord-1``: it had filled already."""
    defaults = order_fields(reason="order already filled", status=OrderStatus.FILLED)
    return build(OrderCancelRejected, defaults, overrides)


def every_kind() -> list[Event]:
    """One default event of every kind in the catalog, in catalog order."""
    events: list[Event] = [
        quote(),
        trade_print(),
        candle(),
        price_tick(),
        feature(),
        session_clock(),
        exposure_snapshot(),
        position_updated(),
        position_opened(),
        position_closed(),
        intent(),
        submit_order(),
        cancel_order(),
        replace_order(),
        order_submitted(),
        order_accepted(),
        order_working(),
        order_partially_filled(),
        order_filled(),
        order_canceled(),
        order_rejected(),
        order_replaced(),
        order_denied(),
        order_expired(),
        order_pending_cancel(),
        order_pending_replace(),
        order_cancel_rejected(),
        risk_evaluation(),
        risk_mode_changed(),
        risk_daily_status(),
        kill_switch_activated(),
        kill_switch_reset(),
        regime_classified(),
        volatility_spiked(),
        signal_issued(),
        signal_declined(),
        exit_decision(),
        stop_triggered(),
        heartbeat(),
        alert(),
        decision_audited(),
    ]
    missing = {t.__name__ for t in ALL_EVENTS} - {type(e).__name__ for e in events}
    assert not missing, f"every_kind lacks builders for {sorted(missing)}"
    return events
