"""System events: health heartbeats and alerts."""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Details, Event

HealthStatus = Literal["HEALTHY", "DEGRADED", "UNHEALTHY"]
AlertSeverity = Literal["INFO", "WARNING", "ERROR", "CRITICAL"]


class HealthHeartbeat(Event, frozen=True, kw_only=True, tag="system.health.heartbeat"):
    """A service is alive: status, uptime, counters and circuit-breaker states."""

    service: str
    instance: str = ""
    status: HealthStatus = "HEALTHY"
    uptime_seconds: int = 0
    last_activity_ns: int = 0
    metrics: Details = {}
    breakers: dict[str, str] = {}


class AlertTriggered(Event, frozen=True, kw_only=True, tag="system.alert.triggered"):
    alert_id: str
    severity: AlertSeverity
    message: str
    details: Details = {}
