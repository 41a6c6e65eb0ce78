"""Every kind of event at once (``one_of_each``), for the tests that walk the whole catalog.

The builders live by domain: ``kit.event_base`` (``build``, the defaults' story), then
``kit.market_events``, ``kit.order_events``, ``kit.position_events``, ``kit.risk_events``,
``kit.strategy_events`` and ``kit.system_events``.
"""

from __future__ import annotations

from kit.market_events import candle, feature, price_tick, quote, session_clock, trade_print
from kit.order_events import (
    cancel_order,
    intent,
    order_accepted,
    order_cancel_rejected,
    order_canceled,
    order_denied,
    order_expired,
    order_fill_corrected,
    order_filled,
    order_partially_filled,
    order_pending_cancel,
    order_pending_replace,
    order_rejected,
    order_replaced,
    order_submitted,
    order_working,
    replace_order,
    submit_order,
)
from kit.position_events import (
    exposure_snapshot,
    position_closed,
    position_opened,
    position_updated,
)
from kit.risk_events import (
    kill_switch_activated,
    kill_switch_reset,
    risk_daily_status,
    risk_evaluation,
    risk_mode_changed,
)
from kit.strategy_events import (
    exit_decision,
    regime_classified,
    signal_declined,
    signal_issued,
    stop_triggered,
    volatility_spiked,
)
from kit.system_events import alert, alert_cleared, clock_ticked, decision_audited, heartbeat
from quantrail.events import ALL_EVENTS, Event


def one_of_each() -> list[Event]:
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
        order_fill_corrected(),
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
        alert_cleared(),
        clock_ticked(),
        decision_audited(),
    ]
    missing = {t.__name__ for t in ALL_EVENTS} - {type(e).__name__ for e in events}
    assert not missing, f"one_of_each lacks builders for {sorted(missing)}"
    return events
