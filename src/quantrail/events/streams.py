"""Stream names: one stream per entity, ``<domain>.<entity>``, behind a namespace prefix."""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.events.base import Event, stream_of_kind

DEADLETTER = "system.deadletter"
HEALTH = "system.health"


@dataclass(frozen=True, slots=True)
class StreamNames:
    """Maps logical stream names to the namespaced keys used on the transport.

    ``paper`` gives ``paper:trades.order``; an empty namespace gives ``trades.order``.
    """

    namespace: str = ""

    def key(self, stream: str) -> str:
        return f"{self.namespace}:{stream}" if self.namespace else stream

    def logical(self, key: str) -> str:
        prefix = f"{self.namespace}:"
        return key[len(prefix) :] if self.namespace and key.startswith(prefix) else key

    def for_event(self, event: Event) -> str:
        return self.key(stream_of_kind(event.kind))

    def for_kind(self, kind: str) -> str:
        return self.key(stream_of_kind(kind))

    def state_key(self, name: str) -> str:
        return self.key(f"state:{name}")

    def idempotency_key(self, group: str, key: str) -> str:
        return self.key(f"idem:{group}:{key}")
