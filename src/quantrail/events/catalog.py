"""Every event type quantrail knows: the closed tagged union the codec decodes."""

from __future__ import annotations

from quantrail.events.base import Event
from quantrail.events.system import AlertTriggered, HealthHeartbeat

ALL_EVENTS: tuple[type[Event], ...] = (
    HealthHeartbeat,
    AlertTriggered,
)
