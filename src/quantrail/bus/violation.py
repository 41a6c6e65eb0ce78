"""The split between a bad event and a sick dependency.

A handler that raises :class:`RuleViolation` says "this event breaks a rule": it would fail the
same way on every retry, so the consumer dead-letters it at once with the reason, acks it at
its source and moves on. It never counts toward the circuit breaker, which is for a sick
dependency (the database, Redis, a venue), not for a bad message.

Anything else a handler raises is treated as possibly transient: retried with backoff, counted
toward the breaker, dead-lettered after ``max_deliveries``. Domain errors subclass both their
usual base (``ValueError``) and ``RuleViolation``, so callers that catch ``ValueError`` (the
CLI, the tests) keep working.
"""

from __future__ import annotations


class RuleViolation(Exception):
    """The event breaks a business rule: dead-letter it now with this message as the reason."""


def is_rule_violation(exc: BaseException) -> bool:
    """True for an event's own fault: a raised ``RuleViolation`` or one it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RuleViolation):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False
