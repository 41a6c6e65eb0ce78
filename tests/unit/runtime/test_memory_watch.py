"""The memory watch looks at a Redis every ``every_s``; the in-process bus cannot lose its
memory while this process runs, so there the look is never due."""

from __future__ import annotations

from quantrail.bus.bus import EventBus
from quantrail.runtime.memory_watch import MemoryWatch


async def test_a_look_is_due_every_interval_on_redis_and_never_in_process(bus: EventBus) -> None:
    watch = MemoryWatch("ledger", "one", every_s=1.0)
    await watch.arm(bus, 5)
    external = bus.transport.external
    assert watch.due_ns(bus) == (5 + 1_000_000_000 if external else None)
