"""Heartbeats: each service says it is alive on ``system.health`` with its counters."""

from __future__ import annotations

from collections.abc import Sequence

from quantrail.bus.broadcast import BroadcastConsumer
from quantrail.bus.consumer import GroupConsumer
from quantrail.events.system import HealthHeartbeat, HealthStatus
from quantrail.runtime.breaker import BreakerState


def build_heartbeat(
    *,
    service: str,
    instance: str,
    consumers: Sequence[GroupConsumer | BroadcastConsumer],
    crashed: Sequence[str],
    started_ns: int,
    now_ns: int,
    extra: dict[str, object],
) -> HealthHeartbeat:
    breakers = {c.breaker.name: c.breaker.state.value for c in consumers if c.breaker}
    metrics: dict[str, object] = {c.name: c.stats.as_dict() for c in consumers}
    metrics.update(extra)
    if crashed:
        metrics["crashed"] = list(crashed)
    return HealthHeartbeat(
        ts_event=now_ns,
        source=service,
        service=service,
        instance=instance,
        status="DEGRADED" if extra.get("degraded") and not crashed else _status(breakers, crashed),
        uptime_seconds=(now_ns - started_ns) // 1_000_000_000,
        last_activity_ns=max((c.stats.last_activity_ns for c in consumers), default=0),
        metrics=metrics,
        breakers=breakers,
    )


def _status(breakers: dict[str, str], crashed: Sequence[str]) -> HealthStatus:
    if crashed:
        return "UNHEALTHY"
    if any(state != BreakerState.CLOSED.value for state in breakers.values()):
        return "DEGRADED"
    return "HEALTHY"
