"""Age retention of ``system.deadletter``: nothing is trimmed that no warning named first.

Dead letters are kept ``max_age_s`` (30 days by default). Each dead-letter write asks
:meth:`DeadLetterRetention.retention` how to trim. At most once per check interval it looks
for dead letters that will reach ``max_age_s`` within ``warn_before_s`` and were not announced
yet; if there are any it publishes a WARNING ``AlertTriggered`` (how many, the oldest id and
when trimming starts) and remembers the announced cutoff. A write trims only up to a cutoff
announced at least ``warn_before_s`` ago, so an operator always has that long to look
(``quantrail dlq list``) or retry them. A restarted process has announced nothing yet: it
trims nothing until its own warning is old enough (later, never earlier).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from quantrail.bus.transport import Transport
from quantrail.config import DeadLetterConfig, Retention
from quantrail.events.base import Event
from quantrail.events.system import AlertTriggered
from quantrail.runtime.clock import Clock

log = logging.getLogger("quantrail.bus")
NS_PER_MS = 1_000_000
KEEP_ALL = Retention(maxlen=0)
COUNT_CAP = 1000  # the alert counts up to this many ("1000 or more")
SOURCE = "bus.deadletter"


@dataclass(frozen=True, slots=True)
class _Warning:
    at_ms: int
    cutoff_ms: int  # dead letters with ids below this were announced


class DeadLetterRetention:
    """Decides the trimming of one dead-letter stream; one per bus, shared by its consumers."""

    def __init__(
        self,
        config: DeadLetterConfig,
        transport: Transport,
        dlq_key: str,
        clock: Clock,
        publish: Callable[[Event], Awaitable[str]],
    ) -> None:
        self.config = config
        self._transport = transport
        self._dlq_key = dlq_key
        self._clock = clock
        self._publish = publish
        self._warnings: list[_Warning] = []
        self._next_check_ms = 0
        self.check_interval_ms = min(3_600_000, config.warn_before_s * 1000 // 4)

    async def retention(self) -> Retention:
        """How the next dead-letter write may trim: by age, up to an old enough warning."""
        now_ms = self._clock.now_ns() // NS_PER_MS
        if now_ms >= self._next_check_ms:
            self._next_check_ms = now_ms + self.check_interval_ms
            await self.warn_if_due(now_ms)
        cutoff_ms = self.trim_cutoff_ms(now_ms)
        if cutoff_ms is None:
            return KEEP_ALL
        return Retention(maxlen=0, max_age_s=max(1, (now_ms - cutoff_ms) // 1000))

    def trim_cutoff_ms(self, now_ms: int) -> int | None:
        """Ids below this may go: older than ``max_age_s`` and announced long enough ago."""
        announced = [
            w.cutoff_ms
            for w in self._warnings
            if w.at_ms <= now_ms - self.config.warn_before_s * 1000
        ]
        if not announced:
            return None
        return min(max(announced), now_ms - self.config.max_age_s * 1000)

    async def warn_if_due(self, now_ms: int) -> AlertTriggered | None:
        """Announce the dead letters that reach ``max_age_s`` within ``warn_before_s``."""
        config = self.config
        warn_cutoff_ms = now_ms - (config.max_age_s - config.warn_before_s) * 1000
        announced_ms = self._warnings[-1].cutoff_ms if self._warnings else 0
        if warn_cutoff_ms <= announced_ms:
            return None
        start = f"{announced_ms}-0"
        end = f"{warn_cutoff_ms - 1}-18446744073709551615"
        due = await self._transport.range(self._dlq_key, start, end, COUNT_CAP)
        if not due:
            return None
        alert = self._alert(len(due), due[0].entry_id, warn_cutoff_ms, now_ms)
        await self._publish(alert)
        log.warning(alert.message)
        self._warnings.append(_Warning(now_ms, warn_cutoff_ms))
        del self._warnings[:-64]  # only the newest old-enough one matters; keep a few
        return alert

    def _alert(self, count: int, oldest_id: str, cutoff_ms: int, now_ms: int) -> AlertTriggered:
        shown = f"{count} or more" if count >= COUNT_CAP else str(count)
        days = self.config.max_age_s / 86_400
        hours = self.config.warn_before_s / 3600
        alert_id = f"{SOURCE}:trim:{self._dlq_key}:{cutoff_ms}"
        return AlertTriggered(
            ts_event=now_ms * NS_PER_MS,
            source=SOURCE,
            idempotency_key=alert_id,
            alert_id=alert_id,
            severity="WARNING",
            message=(
                f"{shown} dead letters in {self._dlq_key} (oldest {oldest_id}) reach the"
                f" {days:g}-day retention and are trimmed in {hours:g} h or later:"
                " `quantrail dlq list` to inspect, `quantrail dlq retry` to replay"
            ),
            details={
                "stream": self._dlq_key,
                "count": count,
                "oldest_id": oldest_id,
                "announced_below_ms": cutoff_ms,
                "trim_not_before_ns": (now_ms + self.config.warn_before_s * 1000) * NS_PER_MS,
            },
        )
