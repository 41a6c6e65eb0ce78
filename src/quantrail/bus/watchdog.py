"""The handler timeout of one consumer: one timer per consumer, not one per event.

``asyncio.timeout`` around every handler call arms and disarms a timer handle per event, which
was a measurable share of a consumer's time on the in-process bus. A consumer runs one handler
at a time, so a single timer is enough: it is armed when a handler starts and no timer is
pending, and when it fires it either cancels the handler that has run over its time or re-arms
itself for the deadline of the handler running now. The deadline is exact, as with
``asyncio.timeout``; only the bookkeeping per event is cheaper (two attribute writes).

A cancellation from elsewhere (the consumer being stopped) is told apart from the watchdog's
own by the task's cancel count, the way ``asyncio.timeout`` does it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable


class HandlerTimeoutError(TimeoutError):
    """A handler ran over the consumer's ``handler_timeout_s``."""


class HandlerWatchdog:
    def __init__(self, timeout_s: float) -> None:
        if not timeout_s > 0:
            raise ValueError(f"handler_timeout_s: must be > 0, got {timeout_s!r}")
        self._timeout_s = timeout_s
        self._task: asyncio.Task[object] | None = None
        self._started = 0.0
        self._busy = False
        self._fired = False
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, call: Awaitable[None]) -> None:
        """Await ``call``; raise ``HandlerTimeoutError`` if it runs over the timeout."""
        self._begin()
        try:
            await call
        except asyncio.CancelledError:
            if self._take_expiry():
                raise HandlerTimeoutError(
                    f"handler ran over its {self._timeout_s} s timeout"
                ) from None
            raise
        finally:
            self._end()

    def _begin(self) -> None:
        loop = self._loop
        if loop is None:  # a consumer runs on one loop: looked up once
            loop = self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task(loop)
        self._started = loop.time()
        self._busy = True
        if self._timer is None and math.isfinite(self._timeout_s):
            self._timer = loop.call_at(self._started + self._timeout_s, self._check)

    def _end(self) -> None:
        self._busy = False
        if self._fired:  # the handler swallowed our cancel: take it back all the same
            self._take_expiry()

    def _check(self) -> None:
        self._timer = None
        if not self._busy or self._task is None:
            return  # idle: the next handler to start arms a new timer
        loop = asyncio.get_running_loop()
        deadline = self._started + self._timeout_s
        if loop.time() >= deadline:
            self._fired = True
            self._task.cancel()
        else:  # a later handler is running: wait for its deadline
            self._timer = loop.call_at(deadline, self._check)

    def _take_expiry(self) -> bool:
        """True when the cancellation came from this watchdog alone."""
        if not self._fired or self._task is None:
            return False
        self._fired = False
        return self._task.uncancel() == 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._loop = None  # a consumer run again may run on another loop
