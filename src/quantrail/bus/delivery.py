"""What a handler receives beside the event, and the handler signature."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from quantrail.events.base import Event


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where and how an event was delivered.

    ``mark`` is the transport key of this event's idempotency mark in this group. A handler whose
    effect lives in the same store (Redis) can set the mark in the same transaction as its effect
    (``SET mark 1 NX EX ttl``); then a crash between effect and ack can never repeat the effect.
    The consumer also sets the mark itself, atomically with the ack.
    """

    stream: str
    entry_id: str
    group: str | None
    consumer: str | None
    deliveries: int
    mark: str | None
    mark_ttl_s: int


Handler = Callable[[Event, Delivery], Awaitable[None]]
