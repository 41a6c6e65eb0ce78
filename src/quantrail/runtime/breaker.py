"""A per-handler circuit breaker: after N consecutive failures it opens and consumption pauses.

While open nothing is handled (entries wait in the stream, un-acked, not dead-lettered); after
``reset_s`` one trial is let through (half-open): success closes it, failure opens it again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable


class BreakerState(enum.StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    def __init__(
        self, name: str, failures: int, reset_s: float, now_s: Callable[[], float]
    ) -> None:
        self.name = name
        self.failure_threshold = failures
        self.reset_s = reset_s
        self._now_s = now_s
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._now_s() - self._opened_at >= self.reset_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def seconds_until_trial(self) -> float:
        """0 when a call may go through now; otherwise how long the breaker stays open."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_s - self._now_s())

    def record_success(self) -> None:
        self._consecutive_failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._consecutive_failures += 1
        half_open = self.state is BreakerState.HALF_OPEN
        if half_open or self._consecutive_failures >= self.failure_threshold:
            self._opened_at = self._now_s()
            self.times_opened += 1
