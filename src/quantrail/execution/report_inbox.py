"""The venue's reports waiting to be applied, and what is said while they wait.

Two kinds of failure, told apart:

* **Redis unreachable** (``UNREACHABLE``: from the registry or a publish): not the report's
  fault. Every report is held, in order, and retried with backoff (0.1 s up to 5 s). It is said
  once when the outage starts ("Redis unreachable, holding N venue reports, retrying in X s"),
  then every ``log_every_s`` (30 s) while it lasts, and once when it ends. No attempt is counted
  and nothing is given up.
* **Anything else** while applying one report (a bug, a report the code cannot handle): retried
  on the next ticks; after ``attempts`` tries that report alone is given up with a CRITICAL
  alert naming it, so it cannot block the reports behind it.

Reports are given up for Redis only when the service stops while holding them: then a CRITICAL
alert names every one (``give_up``), and if Redis is still away it is logged at CRITICAL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from redis import exceptions as redis_errors

from quantrail.bus.transport import TransportError
from quantrail.events import Event
from quantrail.execution.order_events import alert
from quantrail.execution.venues import VenueReport

log = logging.getLogger("quantrail.execution")

NS_PER_S = 1_000_000_000
BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
Apply = Callable[[VenueReport], Awaitable[None]]
Publish = Callable[[list[Event]], Awaitable[None]]
# Redis away, whoever called it: the bus wraps it as TransportError, the order registry's own
# client raises redis-py's errors (a dropped connection can also surface as a bare OSError).
UNREACHABLE = (TransportError, redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class ReportInbox:
    """Reports in venue order; ``drain`` applies them, holding them while Redis is away."""

    def __init__(self, *, attempts: int = 5, log_every_s: float = 30.0) -> None:
        self.reports: list[VenueReport] = []
        self.attempts = attempts
        self.log_every_ns = int(log_every_s * NS_PER_S)
        self.outage_since_ns: int | None = None
        self.outages = 0
        self._tries = 0  # transport failures in this outage (for the backoff)
        self._next_try_ns = 0
        self._next_log_ns = 0
        self._failures = 0  # non-transport failures of the report at the head
        self._alerts: list[Event] = []  # give-up alerts not published yet

    def __len__(self) -> int:
        return len(self.reports)

    def extend(self, reports: Sequence[VenueReport]) -> None:
        self.reports.extend(reports)

    async def drain(self, apply: Apply, publish: Publish, now_ns: int) -> bool:
        """Apply every report; False while Redis is away (reports held) or one keeps failing."""
        if self.outage_since_ns is not None and now_ns < self._next_try_ns:
            return False
        try:
            if self._alerts:
                await publish(self._alerts)
                self._alerts = []
            while self.reports:
                if not await self._apply_first(apply, now_ns):
                    return False
        except UNREACHABLE as exc:
            self._hold(now_ns, exc)
            return False
        self._recovered(now_ns)
        return True

    async def _apply_first(self, apply: Apply, now_ns: int) -> bool:
        report = self.reports[0]
        try:
            await apply(report)
        except UNREACHABLE:
            raise
        except Exception as exc:
            self._failures += 1
            if self._failures < self.attempts:
                log.exception(
                    "venue report for order %s failed (try %d of %d), retrying on the next tick",
                    report.order_id, self._failures, self.attempts,
                )  # fmt: skip
                return False
            self._give_up_one(report, exc, now_ns)
        self.reports.pop(0)
        self._failures = 0
        return True

    def _give_up_one(self, report: VenueReport, exc: Exception, now_ns: int) -> None:
        log.critical(
            "venue report given up after %d failed tries: %s: %s", self._failures, report, exc
        )
        message = f"venue report given up after {self._failures} failed tries: {exc}"
        details = {"order_id": report.order_id, "report": str(report)}
        key = f"report_failed:{report.order_id}:{report.ts_ns}"
        self._alerts.append(alert(key, "CRITICAL", message, details, now_ns))

    def _hold(self, now_ns: int, exc: BaseException) -> None:
        delay_s = BACKOFF_S[min(self._tries, len(BACKOFF_S) - 1)]
        self._tries += 1
        self._next_try_ns = now_ns + int(delay_s * NS_PER_S)
        held = len(self.reports)
        if self.outage_since_ns is None:
            self.outage_since_ns = now_ns
            self.outages += 1
            self._next_log_ns = now_ns + self.log_every_ns
            log.warning(
                "Redis unreachable, holding %d venue reports, retrying in %.1f s: %s",
                held, delay_s, exc,
            )  # fmt: skip
        elif now_ns >= self._next_log_ns:
            self._next_log_ns = now_ns + self.log_every_ns
            log.warning(
                "Redis still unreachable after %.0f s, holding %d venue reports,"
                " retrying in %.1f s",
                (now_ns - self.outage_since_ns) / NS_PER_S, held, delay_s,
            )  # fmt: skip

    def _recovered(self, now_ns: int) -> None:
        if self.outage_since_ns is None:
            return
        log.warning(
            "Redis reachable again after %.1f s: held venue reports applied",
            (now_ns - self.outage_since_ns) / NS_PER_S,
        )
        self.outage_since_ns = None
        self._tries = 0

    def give_up(self, now_ns: int, why: str) -> list[Event]:
        """Drop every held report (the service stops): the alerts still unpublished and a
        CRITICAL one that names every report held."""
        events, self._alerts = self._alerts, []
        held, self.reports = self.reports, []
        if not held:
            return events
        named = [str(report) for report in held]
        for line in named:
            log.critical("venue report given up (%s): %s", why, line)
        orders = ", ".join(sorted({report.order_id for report in held}))
        message = f"{len(held)} venue reports given up ({why}): orders {orders}"
        details = {"why": why, "reports": named}
        events.append(alert(f"reports_given_up:{now_ns}", "CRITICAL", message, details, now_ns))
        return events

    def status(self) -> dict[str, object]:
        """For the heartbeat: what is held and since when."""
        return {
            "reports_held": len(self.reports),
            "redis_outage_since_ns": self.outage_since_ns or 0,
            "redis_outages": self.outages,
        }
