"""Event contracts: ``from quantrail.events import OrderFilled, default_codec``.

The envelope and codec live in ``base``/``codec``; each domain's events in its own module;
``catalog.ALL_EVENTS`` is the closed union. See ``docs/events.md`` for the table of kinds.
"""

from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Details, Event, Money, stream_of_kind
from quantrail.events.catalog import ALL_EVENTS
from quantrail.events.codec import Codec, default_codec
from quantrail.events.errors import EventDecodeError
from quantrail.events.exit import ExitDecisionMade, StopTriggered
from quantrail.events.exposure import BucketExposure, ExposureSnapshot, GroupExposure
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
    OrderEvent,
    OrderExpired,
    OrderFill,
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
    PositionAllowance,
    RiskDailyStatusUpdated,
    RiskDimensions,
    RiskEvaluationCompleted,
    RiskModeChanged,
)
from quantrail.events.session import SessionClockTicked
from quantrail.events.signals import SignalDeclined, SignalIssued
from quantrail.events.system import AlertCleared, AlertTriggered, ClockTicked, HealthHeartbeat
from quantrail.events.trades import CancelOrder, IntentCreated, ReplaceOrder, SubmitOrder

__all__ = [
    "ALL_EVENTS",
    "AlertCleared",
    "AlertTriggered",
    "BucketExposure",
    "CancelOrder",
    "CandleClosed",
    "ClockTicked",
    "Codec",
    "DecisionAudited",
    "Details",
    "Event",
    "EventDecodeError",
    "ExitDecisionMade",
    "ExposureSnapshot",
    "FeatureComputed",
    "GroupExposure",
    "HealthHeartbeat",
    "IntentCreated",
    "KillSwitchActivated",
    "KillSwitchReset",
    "Money",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFill",
    "OrderFillCorrected",
    "OrderFilled",
    "OrderPartiallyFilled",
    "OrderPendingCancel",
    "OrderPendingReplace",
    "OrderRejected",
    "OrderReplaced",
    "OrderSubmitted",
    "OrderWorking",
    "PositionAllowance",
    "PositionClosed",
    "PositionOpened",
    "PositionUpdated",
    "PriceTicked",
    "QuoteUpdated",
    "RegimeClassified",
    "ReplaceOrder",
    "RiskDailyStatusUpdated",
    "RiskDimensions",
    "RiskEvaluationCompleted",
    "RiskModeChanged",
    "SessionClockTicked",
    "SignalDeclined",
    "SignalIssued",
    "StopTriggered",
    "SubmitOrder",
    "TradePrinted",
    "VolatilitySpiked",
    "default_codec",
    "stream_of_kind",
]
