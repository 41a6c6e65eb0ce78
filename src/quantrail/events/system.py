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


class AlertCleared(Event, frozen=True, kw_only=True, tag="system.alert.cleared"):
    """An alert's episode is over: its figure is back within its threshold."""

    alert_id: str
    message: str = ""
    details: Details = {}


class ClockTicked(Event, frozen=True, kw_only=True, tag="system.clock.ticked"):
    """The replayed clock's time (``ts_event``), published by the process that owns it.

    Processes started with ``--clock replay --follow`` move their clock to each tick, so
    services hosted in separate processes share one replayed day. ``speed`` is the replay's
    multiple of wall speed (0 = as fast as the services settle).
    """

    speed: float = 0.0
