"""Counters a consumer keeps; heartbeats and ``quantrail streams`` show them."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class ConsumerStats:
    read: int = 0
    handled: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    rule_violations: int = 0  # dead-lettered at once: the event broke a rule
    duplicates: int = 0
    claimed: int = 0
    reconnects: int = 0
    fenced: int = 0  # entries left to their shard's holder: lease lost or moved (leased)
    last_activity_ns: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
