"""The event envelope every quantrail event carries.

Events are frozen, keyword-only msgspec Structs in one tagged union. The tag is the event kind,
spelled ``<domain>.<entity>.<action>``; the stream an event travels on is ``<domain>.<entity>``
so one consumer sees an entity's whole lifecycle in order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from quantrail.events.ids import new_event_id

Money = Decimal
"""Prices and money: exact decimals, encoded as strings on the wire."""

Details = dict[str, Any]
"""Free-form structured detail (inputs summaries, metrics): JSON objects."""


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Envelope fields shared by every event.

    ``ts_event`` is int nanoseconds UTC from the injected clock: it has no default on purpose.
    ``idempotency_key`` names the effect: two events with the same key have one effect.
    """

    ts_event: int
    event_id: str = msgspec.field(default_factory=new_event_id)
    idempotency_key: str = ""
    source: str = ""
    correlation_id: str = ""
    causation_id: str = ""
    schema_version: int = 1
    account: str | None = None

    stream_entity: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        tag = type(self).__struct_config__.tag
        assert isinstance(tag, str), f"{type(self).__name__} has no kind tag"
        return tag

    @property
    def key(self) -> str:
        """The idempotency key, falling back to the event id (unique per event)."""
        return self.idempotency_key or self.event_id

    def caused(self) -> dict[str, str]:
        """Envelope fields for an event caused by this one (keeps the correlation chain)."""
        return {
            "correlation_id": self.correlation_id or self.event_id,
            "causation_id": self.event_id,
        }


def stream_of_kind(kind: str) -> str:
    """``trades.order.filled`` -> ``trades.order``."""
    domain, entity, _action = split_kind(kind)
    return f"{domain}.{entity}"


def split_kind(kind: str) -> tuple[str, str, str]:
    parts = kind.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"event kind {kind!r} is not spelled <domain>.<entity>.<action>")
    return parts[0], parts[1], parts[2]
