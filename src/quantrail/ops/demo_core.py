"""The event core demo: typed events through the in-process bus, with a poison entry and a
replay, so a new user sees publish, consume, dead letters and replay in a few seconds.

(The trading-day demo replaces this as the risk and execution services land.)
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from quantrail.bus.bus import EventBus
from quantrail.bus.delivery import Delivery
from quantrail.bus.memory import MemoryTransport
from quantrail.bus.replay import replay
from quantrail.config import Config
from quantrail.events.base import Event
from quantrail.events.ids import seeded_ids
from quantrail.events.streams import StreamNames
from quantrail.events.system import AlertTriggered
from quantrail.runtime.clock import WallClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service, Subscription


class AlertCounter(Service):
    """Counts alerts by severity; refuses (raises on) the ones marked poison."""

    name = "alert-counter"

    def __init__(self) -> None:
        super().__init__()
        self.by_severity: Counter[str] = Counter()

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(streams=["system.alert"], handler=self.on_alert)]

    async def on_alert(self, event: Event, _delivery: Delivery) -> None:
        assert isinstance(event, AlertTriggered)
        if event.details.get("poison"):
            raise ValueError(f"alert {event.alert_id} is marked poison")
        self.by_severity[event.severity] += 1


async def run_core_demo(console: Console, seed: int = 7, count: int = 2000) -> int:
    config = Config()
    bus = EventBus(MemoryTransport(), config=config.bus, names=StreamNames("demo"))
    counter = AlertCounter()
    runner = ServiceRunner(bus, [counter], config, clock=WallClock(), instance="demo")
    rng = random.Random(seed)
    severities = ("INFO", "WARNING", "ERROR", "CRITICAL")
    with seeded_ids(seed):
        events = [
            AlertTriggered(
                ts_event=1_800_000_000_000_000_000 + i * 1_000_000,
                alert_id=f"A{i:05d}",
                severity=rng.choice(severities),  # type: ignore[arg-type]
                message=f"exposure check {i}",
                details={"gross_pct": str(Decimal(rng.randint(8000, 13500)) / 100)},
            )
            for i in range(count)
        ]
        poison = AlertTriggered(
            ts_event=events[-1].ts_event + 1, alert_id="POISON", severity="ERROR",
            message="a handler bug", details={"poison": True},
        )  # fmt: skip
    import asyncio

    task = asyncio.create_task(runner.run(install_signals=False))
    await runner.started.wait()
    for start in range(0, count, 500):
        await bus.publish_batch(events[start : start + 500])
    await bus.publish(poison)
    # The demo watches bus state (counts, dead letters): there is no single event to await.
    while sum(counter.by_severity.values()) < count or not await bus.dead_letters():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    runner.request_stop()
    await task
    replayed: list[str] = []

    async def collect(event: Event) -> None:
        replayed.append(event.event_id)

    await replay(bus, "system.alert", collect)
    table = Table(title="quantrail event core demo (in-process bus)")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("alerts published", str(count + 1))
    for severity in severities:
        table.add_row(f"  handled {severity}", str(counter.by_severity[severity]))
    letters = await bus.dead_letters()
    table.add_row("dead letters", str(len(letters)))
    table.add_row("replayed from the stream", str(len(replayed)))
    console.print(table)
    for letter in letters:
        console.print(
            f"dead letter: {letter.kind} after {letter.deliveries} deliveries: {letter.error}"
        )
    return 0 if len(letters) == 1 and len(replayed) == count + 1 else 1
