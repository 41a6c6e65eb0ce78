"""Builders of the system's own events: heartbeats, alerts and the decision audit trail."""

from __future__ import annotations

from typing import Any

from kit.event_base import build, envelope
from quantrail.events import (
    AlertCleared,
    AlertTriggered,
    ClockTicked,
    DecisionAudited,
    HealthHeartbeat,
)


def heartbeat(service: str = "test-service", **overrides: Any) -> HealthHeartbeat:
    return build(HealthHeartbeat, envelope(service=service, uptime_seconds=30), overrides)


def alert(**overrides: Any) -> AlertTriggered:
    defaults = envelope(alert_id="alert-1", severity="WARNING", message="test alert")
    return build(AlertTriggered, defaults, overrides)


def alert_cleared(**overrides: Any) -> AlertCleared:
    defaults = envelope(alert_id="alert-1", message="back to normal: test alert")
    return build(AlertCleared, defaults, overrides)


def clock_ticked(**overrides: Any) -> ClockTicked:
    return build(ClockTicked, envelope(speed=60.0), overrides)


def decision_audited(**overrides: Any) -> DecisionAudited:
    defaults = envelope(
        decision_id="dec-1",
        service="risk_kernel",
        decision_type="evaluation",
        input_summary={"gross_exposure_pct": 100.0},
        output={"decision": "APPROVED"},
        reasoning="within limits",
        policy_references=["GOVERNANCE.md#gross-cap"],
    )
    return build(DecisionAudited, defaults, overrides)
