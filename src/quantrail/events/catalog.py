"""Every event type quantrail knows: the closed tagged union the codec decodes.

Adding an event: define it in its domain module, list it here, re-export it from
``quantrail.events`` and add a row to ``docs/events.md``.
"""

from __future__ import annotations

from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event
from quantrail.events.exit import ExitDecisionMade, StopTriggered
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.market import (
    CandleClosed,
    FeatureComputed,
    PriceTicked,
    QuoteUpdated,
    TradePrinted,
)
from quantrail.events.orders import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFillCorrected,
    OrderFilled,
    OrderPartiallyFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
    OrderWorking,
)
from quantrail.events.position import PositionClosed, PositionOpened, PositionUpdated
from quantrail.events.regime import RegimeClassified, VolatilitySpiked
from quantrail.events.risk import (
    KillSwitchActivated,
    KillSwitchReset,
    RiskDailyStatusUpdated,
    RiskEvaluationCompleted,
    RiskModeChanged,
)
from quantrail.events.session import SessionClockTicked
from quantrail.events.signals import SignalDeclined, SignalIssued
from quantrail.events.system import AlertCleared, AlertTriggered, ClockTicked, HealthHeartbeat
from quantrail.events.trades import CancelOrder, IntentCreated, ReplaceOrder, SubmitOrder

ALL_EVENTS: tuple[type[Event], ...] = (
    # market data and features
    QuoteUpdated,
    TradePrinted,
    CandleClosed,
    PriceTicked,
    FeatureComputed,
    # session, exposure, positions
    SessionClockTicked,
    ExposureSnapshot,
    PositionUpdated,
    PositionOpened,
    PositionClosed,
    # intents and requests
    IntentCreated,
    SubmitOrder,
    CancelOrder,
    ReplaceOrder,
    # order lifecycle (one stream: trades.order)
    OrderSubmitted,
    OrderAccepted,
    OrderWorking,
    OrderPartiallyFilled,
    OrderFilled,
    OrderCanceled,
    OrderRejected,
    OrderReplaced,
    OrderDenied,
    OrderExpired,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderCancelRejected,
    OrderFillCorrected,
    # risk
    RiskEvaluationCompleted,
    RiskModeChanged,
    RiskDailyStatusUpdated,
    KillSwitchActivated,
    KillSwitchReset,
    # strategy
    RegimeClassified,
    VolatilitySpiked,
    SignalIssued,
    SignalDeclined,
    ExitDecisionMade,
    StopTriggered,
    # system and audit
    HealthHeartbeat,
    AlertTriggered,
    AlertCleared,
    ClockTicked,
    DecisionAudited,
)
