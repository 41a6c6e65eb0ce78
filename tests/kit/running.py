"""Services under a real ``ServiceRunner`` on a simulated clock that moves by itself.

A background task moves the clock 10 ms at a time (a millisecond of real time apart), so
service timers fire quickly and every timestamp starts from the test's start time. A restart is
``stop()`` then ``run(...)`` with new service objects on the same bus and clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from kit.event_base import T0
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events import Event
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service


class Running:
    def __init__(self, bus: EventBus, config: Config, start_ns: int = T0) -> None:
        self.bus = bus
        self.config = config
        self.clock = SimulatedClock(start_ns)
        self.services: list[Service] = []
        self._runner: ServiceRunner | None = None
        self._task: asyncio.Task[int] | None = None
        self._pump = asyncio.create_task(self._move_time())

    async def _move_time(self) -> None:
        while True:
            await self.clock.advance(0.01)
            await asyncio.sleep(0.001)

    async def run(self, services: Sequence[Service]) -> None:
        """Start ``services`` in one runner; returns once every one has started."""
        self.services = list(services)
        self._runner = ServiceRunner(
            self.bus, self.services, self.config, clock=self.clock, instance="t",
            heartbeats=False,
        )  # fmt: skip
        self._task = asyncio.create_task(self._runner.run(install_signals=False))
        await self._runner.started.wait()

    async def stop(self) -> None:
        assert self._runner is not None and self._task is not None
        self._runner.request_stop()
        assert await self._task == 0
        self._runner = self._task = None

    async def close(self) -> None:
        if self._runner is not None:
            await self.stop()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump

    async def publish(self, *events: Event) -> None:
        await self.bus.publish_batch(list(events))

    async def read(self, stream: str) -> list[Any]:
        return await self.bus.read_events(stream)
