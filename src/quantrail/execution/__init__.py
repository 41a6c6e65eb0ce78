"""Execution: the order state machine, the order model and the venues (pure, synchronous core).

The async execution service wraps these: it keeps orders in the registry, calls a ``Venue``,
applies its reports with ``apply_report`` and publishes each transition on ``trades.order``.
"""

from __future__ import annotations

from quantrail.execution.config import ExecutionConfig
from quantrail.execution.order import (
    Order,
    OverfillError,
    order_id_for_intent,
    replacement_id,
)
from quantrail.execution.state_machine import (
    ALLOWED,
    TRANSITIONS,
    InvalidTransition,
    can_transition,
    transition,
)

__all__ = [
    "ALLOWED",
    "TRANSITIONS",
    "ExecutionConfig",
    "InvalidTransition",
    "Order",
    "OverfillError",
    "can_transition",
    "order_id_for_intent",
    "replacement_id",
    "transition",
]
