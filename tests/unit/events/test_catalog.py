"""The catalog is the contract other services code against: exact kinds, unique, well spelled."""

from __future__ import annotations

import quantrail.events as events_pkg
from quantrail.events import ALL_EVENTS, default_codec, stream_of_kind
from quantrail.events.base import split_kind

EXPECTED_KINDS = {
    "market.quote.updated": "QuoteUpdated",
    "market.trade.printed": "TradePrinted",
    "market.candle.closed": "CandleClosed",
    "market.tick.updated": "PriceTicked",
    "market.feature.computed": "FeatureComputed",
    "session.clock.ticked": "SessionClockTicked",
    "exposure.snapshot.updated": "ExposureSnapshot",
    "position.state.updated": "PositionUpdated",
    "position.state.opened": "PositionOpened",
    "position.state.closed": "PositionClosed",
    "trades.intent.created": "IntentCreated",
    "trades.request.submit": "SubmitOrder",
    "trades.request.cancel": "CancelOrder",
    "trades.request.replace": "ReplaceOrder",
    "trades.order.submitted": "OrderSubmitted",
    "trades.order.accepted": "OrderAccepted",
    "trades.order.working": "OrderWorking",
    "trades.order.partially_filled": "OrderPartiallyFilled",
    "trades.order.filled": "OrderFilled",
    "trades.order.canceled": "OrderCanceled",
    "trades.order.rejected": "OrderRejected",
    "trades.order.replaced": "OrderReplaced",
    "trades.order.denied": "OrderDenied",
    "trades.order.expired": "OrderExpired",
    "trades.order.pending_cancel": "OrderPendingCancel",
    "trades.order.pending_replace": "OrderPendingReplace",
    "trades.order.cancel_rejected": "OrderCancelRejected",
    "trades.order.fill_corrected": "OrderFillCorrected",
    "risk.evaluation.completed": "RiskEvaluationCompleted",
    "risk.mode.changed": "RiskModeChanged",
    "risk.daily_status.updated": "RiskDailyStatusUpdated",
    "risk.kill_switch.activated": "KillSwitchActivated",
    "risk.kill_switch.reset": "KillSwitchReset",
    "regime.classification.updated": "RegimeClassified",
    "regime.volatility.spiked": "VolatilitySpiked",
    "signals.advisory.issued": "SignalIssued",
    "signals.advisory.declined": "SignalDeclined",
    "exit.decision.made": "ExitDecisionMade",
    "exit.stop.triggered": "StopTriggered",
    "system.health.heartbeat": "HealthHeartbeat",
    "system.alert.triggered": "AlertTriggered",
    "system.alert.cleared": "AlertCleared",
    "system.clock.ticked": "ClockTicked",
    "audit.decision.logged": "DecisionAudited",
}


def _kinds() -> list[str]:
    return [str(t.__struct_config__.tag) for t in ALL_EVENTS]


def test_catalog_holds_exactly_the_agreed_kinds_and_class_names() -> None:
    actual = {kind: t.__name__ for kind, t in default_codec().by_kind.items()}
    assert actual == EXPECTED_KINDS


def test_each_kind_is_used_once() -> None:
    kinds = _kinds()
    assert len(kinds) == len(set(kinds)) == 44


def test_every_stream_is_domain_dot_entity() -> None:
    for kind in _kinds():
        domain, entity, action = split_kind(kind)
        assert stream_of_kind(kind) == f"{domain}.{entity}"
        assert all(part.replace("_", "").isalpha() and part.islower() for part in split_kind(kind))
        assert action


def test_all_order_lifecycle_events_share_one_stream() -> None:
    order_kinds = [k for k in _kinds() if k.startswith("trades.order.")]
    assert {stream_of_kind(k) for k in order_kinds} == {"trades.order"}
    assert len(order_kinds) == 14


def test_every_event_class_is_importable_from_the_package() -> None:
    for event_type in ALL_EVENTS:
        assert getattr(events_pkg, event_type.__name__) is event_type
        assert event_type.__name__ in events_pkg.__all__
