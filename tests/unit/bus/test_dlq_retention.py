"""system.deadletter is trimmed by age, and only after a WARNING alert named what goes."""

from __future__ import annotations

from quantrail.bus.dlq_retention import KEEP_ALL, DeadLetterRetention
from quantrail.bus.memory import MemoryTransport
from quantrail.config import DeadLetterConfig
from quantrail.events.base import Event
from quantrail.events.system import AlertTriggered
from quantrail.runtime.clock import SimulatedClock

DAY_NS = 86_400 * 1_000_000_000
T0 = 1_767_225_600 * 1_000_000_000  # 2026-01-01 UTC
KEY = "t:system.deadletter"
CONFIG = DeadLetterConfig(max_age_s=10 * 86_400, warn_before_s=2 * 86_400)


class Alerts:
    def __init__(self) -> None:
        self.seen: list[AlertTriggered] = []

    async def publish(self, event: Event) -> str:
        assert isinstance(event, AlertTriggered)
        self.seen.append(event)
        return "1-0"


async def write(retention: DeadLetterRetention, transport: MemoryTransport, n: int = 1) -> None:
    for i in range(n):
        policy = await retention.retention()
        await transport.dead_letter("t:s", "", f"1-{i}", KEY, {b"error": b"x"}, policy)


async def length(transport: MemoryTransport) -> int:
    return len(await transport.range(KEY, "-", "+", 1000))


async def test_old_dead_letters_are_announced_then_trimmed_only_warn_before_s_later() -> None:
    clock = SimulatedClock(T0)
    transport = MemoryTransport(now_ns=clock.now_ns)
    alerts = Alerts()
    retention = DeadLetterRetention(CONFIG, transport, KEY, clock, alerts.publish)
    await write(retention, transport, 3)
    assert alerts.seen == [] and await length(transport) == 3

    await clock.advance(8.5 * 86_400)  # within 2 days of the 10-day age: announce, keep
    assert await retention.retention() == KEEP_ALL
    assert len(alerts.seen) == 1
    alert = alerts.seen[0]
    assert alert.severity == "WARNING" and alert.details["count"] == 3
    assert "3 dead letters" in alert.message and "trimmed in 48 h or later" in alert.message
    await write(retention, transport)
    assert await length(transport) == 4

    await clock.advance(1.0 * 86_400)  # 9.5 days: past no announced deadline yet
    await write(retention, transport)
    assert await length(transport) == 5

    await clock.advance(1.0 * 86_400)  # 10.5 days, the warning is 2 days old: the 3 go
    await write(retention, transport)
    assert await length(transport) == 3  # the two written after T0 and this one stay
    assert len(alerts.seen) == 1


async def test_a_restarted_process_trims_nothing_it_has_not_announced_itself() -> None:
    clock = SimulatedClock(T0)
    transport = MemoryTransport(now_ns=clock.now_ns)
    alerts = Alerts()
    first = DeadLetterRetention(CONFIG, transport, KEY, clock, alerts.publish)
    await write(first, transport, 2)
    await clock.advance(20 * 86_400)  # long past the age, but the new process never warned
    restarted = DeadLetterRetention(CONFIG, transport, KEY, clock, alerts.publish)
    await write(restarted, transport)
    assert await length(transport) == 3 and len(alerts.seen) == 1
    await clock.advance(2 * 86_400 + 1)
    await write(restarted, transport)
    assert await length(transport) == 2  # the two old ones, announced 2 days ago, are gone
