"""Consumers: competing consumers in a group, and broadcast readers.

Delivery is at-least-once; effects are made exactly-once with idempotency marks:

* on start a consumer first takes back its own pending entries (a previous run of it died),
  then reads new ones; entries idle too long on a dead consumer are claimed (XAUTOCLAIM);
* an entry is acked only after its handler returned, together with its idempotency mark
  (one atomic round trip per batch); a redelivered entry whose mark is set is acked unhandled;
* a handler that raises a ``RuleViolation`` (``bus/violation.py``: the event breaks a business
  rule) has the entry dead-lettered at once with its reason; it never counts toward the breaker;
* any other failing handler is retried with backoff (default 100, 500, 2000 ms), each retry a
  counted delivery and a failure for the breaker; after ``max_deliveries`` the entry goes to the
  dead-letter stream with its error and is acked at the source; a payload that does not decode
  goes there at once;
* a lost connection is waited out with backoff; a group that vanished (Redis restarted without
  persistence) is re-created from id ``0`` so nothing published after the restart is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from quantrail.bus.deadletter import dead_letter_fields, describe_error
from quantrail.bus.delivery import Delivery, Handler
from quantrail.bus.dlq_retention import DeadLetterRetention
from quantrail.bus.stats import ConsumerStats
from quantrail.bus.transport import Entry, NoGroupError, Transport, TransportError
from quantrail.bus.violation import is_rule_violation
from quantrail.bus.watchdog import HandlerWatchdog
from quantrail.config import ConsumerConfig
from quantrail.events.codec import Codec
from quantrail.events.errors import EventDecodeError
from quantrail.events.streams import DEADLETTER, StreamNames
from quantrail.runtime.breaker import CircuitBreaker
from quantrail.runtime.clock import Clock

log = logging.getLogger("quantrail.bus")
T = TypeVar("T")


class Outcome(enum.Enum):
    HANDLED = "handled"
    DEAD_LETTERED = "dead_lettered"
    RELEASED = "released"  # left pending, not handled (stopping, or another consumer took it)


@dataclass(frozen=True, slots=True)
class ConsumerDeps:
    """What every consumer of one bus shares."""

    transport: Transport
    codec: Codec
    names: StreamNames
    config: ConsumerConfig
    clock: Clock
    dlq_retention: DeadLetterRetention
    reconnect_backoff_ms: Sequence[int] = (100, 500, 2000, 5000)


class ConsumerBase:
    """What group and broadcast consumers share: handling with retries, dead letters, stop."""

    def __init__(
        self,
        deps: ConsumerDeps,
        *,
        streams: Sequence[str],
        handler: Handler,
        name: str,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if not streams:
            raise ValueError("a consumer needs at least one stream")
        self._transport = deps.transport
        self._codec = deps.codec
        self._names = deps.names
        self._config = deps.config
        self._clock = deps.clock
        self._dlq_retention = deps.dlq_retention
        self._reconnect_backoff_ms = list(deps.reconnect_backoff_ms) or [1000]
        self._keys = [deps.names.key(stream) for stream in streams]
        self._dlq_key = deps.names.key(DEADLETTER)
        self._handler = handler
        self.name = name
        self.breaker = breaker
        self.stats = ConsumerStats()
        self._watchdog = HandlerWatchdog(deps.config.handler_timeout_s)
        self._stopping = False
        self.running = False

    def stop(self) -> None:
        """Ask the consumer to stop: it finishes and acks the batch in hand, then returns."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    # --- transport calls that survive a lost connection ---------------------------------------
    async def _retrying(self, operation: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await operation()
            except NoGroupError:
                raise
            except TransportError as exc:
                if self._stopping and attempt >= len(self._reconnect_backoff_ms):
                    raise
                await self._reconnect_wait(exc, attempt)
                attempt += 1

    async def _reconnect_wait(self, exc: BaseException, attempt: int) -> None:
        delay_ms = self._reconnect_backoff_ms[min(attempt, len(self._reconnect_backoff_ms) - 1)]
        self.stats.reconnects += 1
        log.warning(
            "transport unavailable, retrying in %d ms: %s",
            delay_ms,
            exc,
            extra={"consumer": self.name},
        )
        await asyncio.sleep(delay_ms / 1000)

    # --- handling ----------------------------------------------------------------------------
    async def _handle(
        self,
        entry: Entry,
        deliveries: int,
        delivery: Delivery,
        reclaim: Callable[[Entry], Awaitable[bool]],
    ) -> Outcome:
        max_deliveries = self._config.max_deliveries
        if deliveries > max_deliveries:
            reason = f"delivered {deliveries} times without an ack (a consumer died handling it)"
            await self._dead_letter(entry, reason, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        if not entry.fields:
            reason = "entry was deleted from the stream (trimmed) before it was handled"
            await self._dead_letter(entry, reason, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        try:
            event = self._codec.from_fields(entry.fields)
        except EventDecodeError as exc:
            await self._dead_letter(entry, exc, deliveries, delivery)
            return Outcome.DEAD_LETTERED
        while True:
            if self.breaker is not None and not await self._breaker_allows():
                return Outcome.RELEASED
            try:
                await self._watchdog.run(self._handler(event, delivery))
            except asyncio.CancelledError:
                raise
            except TransportError as exc:
                # The handler's own I/O lost the connection: not the event's fault, no count.
                await self._reconnect_wait(exc, 0)
                if self._stopping:
                    return Outcome.RELEASED
                continue
            except Exception as exc:
                if is_rule_violation(exc):
                    # The event's own fault: the same on every retry, and no sign of a sick
                    # dependency, so no retry and no count toward the breaker.
                    self.stats.rule_violations += 1
                    await self._dead_letter(entry, exc, deliveries, delivery)
                    return Outcome.DEAD_LETTERED
                self._record_failure(exc, event.kind, event.event_id, deliveries)
                if deliveries >= max_deliveries:
                    await self._dead_letter(entry, exc, deliveries, delivery)
                    return Outcome.DEAD_LETTERED
                backoff = self._config.backoff_ms
                await self._clock.sleep(backoff[min(deliveries - 1, len(backoff) - 1)] / 1000)
                if not await reclaim(entry):
                    return Outcome.RELEASED
                deliveries += 1
                delivery = replace(delivery, deliveries=deliveries)
                self.stats.retried += 1
                continue
            if self.breaker is not None:
                self.breaker.record_success()
            self.stats.handled += 1
            self.stats.last_activity_ns = self._clock.now_ns()
            return Outcome.HANDLED

    def _record_failure(self, exc: Exception, kind: str, event_id: str, deliveries: int) -> None:
        self.stats.failed += 1
        if self.breaker is not None:
            self.breaker.record_failure()
        log.warning(
            "handler failed (delivery %d): %s: %s",
            deliveries,
            type(exc).__name__,
            exc,
            extra={"consumer": self.name, "event_id": event_id, "kind": kind},
        )

    async def _breaker_allows(self) -> bool:
        """Wait while the breaker is open; False when asked to stop meanwhile."""
        while self.breaker is not None and (wait_s := self.breaker.seconds_until_trial()) > 0:
            if self._stopping:
                return False
            await self._clock.sleep(min(wait_s, 0.5))
        return True

    async def _dead_letter(
        self, entry: Entry, error: BaseException | str, deliveries: int, delivery: Delivery
    ) -> None:
        fields = dead_letter_fields(
            entry,
            stream=self._names.logical(entry.stream),
            group=delivery.group,
            consumer=delivery.consumer,
            error=error,
            deliveries=deliveries,
            ts_ns=self._clock.now_ns(),
            max_original_bytes=self._dlq_retention.config.max_original_bytes,
        )
        group = delivery.group or ""
        retention = await self._retrying(self._dlq_retention.retention)
        # NoGroupError: the dead letter is written; the group (and its pending list) is gone.
        dlq_id = "?"  # the group vanished with the write: the letter is there, its id unknown
        with contextlib.suppress(NoGroupError):
            dlq_id = await self._retrying(
                lambda: self._transport.dead_letter(
                    entry.stream, group, entry.entry_id, self._dlq_key, fields, retention
                )
            )
        self.stats.dead_lettered += 1
        error_type, message = describe_error(error)
        # The dead letter's id first: it is what `quantrail dlq retry/drop` take.
        log.error(
            "dead-lettered entry %s after %d deliveries as dead letter %s: %s: %s",
            entry.entry_id,
            deliveries,
            dlq_id,
            error_type,
            message,
            extra={"consumer": self.name, "stream": entry.stream},
        )
