"""Pacing of messages to the gateway: at most N a second, queued in order, never dropped.

IB disconnects a client that sends more than 50 messages a second. Every request we send goes
through one ``Pacer``: sends are spaced evenly, one every ``1/rate`` seconds (a burst of 50 at
once could still reach the gateway as more than 50 in its second after network jitter), and
the rest wait in arrival order. While the gateway is unreachable the queue holds (``pause``,
``resume``), so an order sent during a disconnect goes out after the reconnect and the
reconciliation, not never. Requests ib_async makes on its own (the reconciliation's queries)
are few and not paced here.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable

log = logging.getLogger("quantrail.ibkr")

Send = Callable[[], None]


class Pacer:
    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s: must be > 0, got {rate_per_s}")
        self._interval = 1.0 / rate_per_s
        self._clock = clock
        self._last_sent: float | None = None
        self._queue: collections.deque[tuple[str, Send]] = collections.deque()
        self._wake = asyncio.Event()
        self._open = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    def labels(self) -> list[str]:
        """What is waiting, in order (for the alert when the link is down)."""
        return [label for label, _ in self._queue]

    def submit(self, label: str, send: Send) -> None:
        self._queue.append((label, send))
        self._wake.set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ibkr-pacer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wait_s(self, now: float) -> float:
        """Seconds until the next send is allowed (0 when it is now)."""
        if self._last_sent is None:
            return 0.0
        return max(0.0, self._last_sent + self._interval - now)

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._open.wait()
            delay = self.wait_s(self._clock())
            if delay > 0:
                await asyncio.sleep(delay)  # pacing itself: the interval says when
                continue
            label, send = self._queue[0]
            try:
                send()
            except (ConnectionError, OSError) as exc:
                log.warning("ibkr: %s not sent (%s); held until the link is back", label, exc)
                self.pause()
                continue
            self._queue.popleft()
            self._last_sent = self._clock()
            self.sent += 1
