"""Noticing that the bus's Redis lost its memory while a service ran.

A Redis without persistence that crashes comes back empty; the consumer loop survives it
(NOGROUP: groups re-created), but a service that keeps state in Redis or on its streams must
know too. ``MemoryWatch`` leaves a small marker hash in the bus's state at start
(``state:memory:<service>:<instance>``) and looks for it at most every ``every_s`` of the
service's clock: a marker gone while Redis answers means everything written before is gone.
The marker is then written again, so one loss is reported once. A Redis that is unreachable is
not a loss (the outage is handled elsewhere); a Redis restarted with its AOF keeps the marker.
Each instance has its own marker, so every instance notices (one that re-writes its marker
never hides the loss from another).
"""

from __future__ import annotations

import logging

from quantrail.bus.bus import EventBus
from quantrail.bus.transport import TransportError

log = logging.getLogger("quantrail.runtime")

NS_PER_S = 1_000_000_000


class MemoryWatch:
    def __init__(self, service: str, instance: str, *, every_s: float = 0.5) -> None:
        self.state_name = f"memory:{service}:{instance}"
        self.every_ns = int(every_s * NS_PER_S)
        self.losses = 0
        self._armed_ns = 0
        self._next_check_ns = 0

    def due_ns(self, bus: EventBus) -> int | None:
        """When the next look is due (a timer's ``due_ns``); None on an in-process bus,
        which cannot lose its memory while this process runs."""
        return self._next_check_ns if bus.transport.external else None

    async def arm(self, bus: EventBus, now_ns: int) -> None:
        """Leave the marker (at start, and again after a loss)."""
        await bus.set_state(self.state_name, {"since_ns": str(now_ns)})
        self._armed_ns = now_ns
        self._next_check_ns = now_ns + self.every_ns

    async def lost(self, bus: EventBus, now_ns: int) -> bool:
        """True once per loss: the marker is gone (written again before returning). False when
        it is there, when the check is not due yet, or when Redis cannot be reached."""
        if now_ns < self._next_check_ns:
            return False
        self._next_check_ns = now_ns + self.every_ns
        try:
            if await bus.get_state(self.state_name):
                return False
            await self.arm(bus, now_ns)
        except TransportError as exc:
            log.debug("memory marker not checked (Redis unreachable): %s", exc)
            return False
        self.losses += 1
        return True
