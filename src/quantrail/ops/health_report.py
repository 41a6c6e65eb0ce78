"""What ``quantrail health`` prints: each service's latest heartbeat and the active alerts.

Pure: the verb reads ``system.health`` and ``system.alert`` and hands the events here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quantrail.events.base import Event
from quantrail.events.system import AlertTriggered, HealthHeartbeat
from quantrail.ops.health import AlertEpisodes
from quantrail.runtime.clock import WallSeconds, exact_seconds


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    service: str
    instance: str
    status: str  # the heartbeat's HEALTHY | DEGRADED | UNHEALTHY, or MISSING when too old
    age_s: float
    uptime_s: int
    breakers_open: list[str]

    @property
    def ok(self) -> bool:
        return self.status == "HEALTHY"


def service_statuses(
    beats: Iterable[Event],
    now_ns: int,
    missing_after_s: float,
    wall_s: WallSeconds = exact_seconds,
) -> list[ServiceStatus]:
    """The latest heartbeat per service and instance, oldest service name first (ages counted
    by ``wall_s``, the clock's ``wall_seconds``)."""
    latest: dict[tuple[str, str], HealthHeartbeat] = {}
    for beat in beats:
        if isinstance(beat, HealthHeartbeat):
            key = (beat.service, beat.instance)
            if key not in latest or beat.ts_event >= latest[key].ts_event:
                latest[key] = beat
    rows = []
    for (service, instance), beat in sorted(latest.items()):
        age = max(0.0, wall_s(now_ns - beat.ts_event))
        rows.append(ServiceStatus(
            service=service, instance=instance,
            status="MISSING" if age > missing_after_s else beat.status,
            age_s=age, uptime_s=beat.uptime_seconds,
            breakers_open=sorted(n for n, s in beat.breakers.items() if s != "CLOSED"),
        ))  # fmt: skip
    return rows


def active_alerts(alerts: Iterable[Event]) -> list[AlertTriggered]:
    """The alerts triggered and not cleared since, oldest first."""
    events = list(alerts)
    episodes = AlertEpisodes()
    episodes.restore(events)
    last: dict[str, AlertTriggered] = {
        e.alert_id: e for e in events if isinstance(e, AlertTriggered)
    }
    return sorted((last[a] for a in episodes.active if a in last), key=lambda e: e.ts_event)
