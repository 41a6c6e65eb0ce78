"""The audit chain: how a record is encoded and hashed, and how a chain is checked (pure).

A record's **canonical encoding** is the UTF-8 JSON object of its fields (``CHAINED_FIELDS``)
with the keys sorted, no whitespace (``","`` and ``":"``) and non-ASCII kept as it is; money
and other non-JSON values are first turned into JSON ones by ``msgspec.to_builtins`` (a Decimal
becomes its exact string). Its **hash** is ``sha256(prev_hash + "\\n" + canonical)`` in lower-case
hex, where ``prev_hash`` is the previous record's hash (``GENESIS`` for the first). Changing any
field of a stored record changes its hash; deleting one leaves a gap in ``seq`` and a
``prev_hash`` that no longer matches: ``verify_chain`` names the first break either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from quantrail.events.audit import DecisionAudited

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "seq", "event_id", "decision_id", "ts_ns", "service", "decision_type", "account",
    "correlation_id", "causation_id", "source", "input_summary", "output", "reasoning",
    "policy_references",
)  # fmt: skip


def record_fields(event: DecisionAudited, seq: int) -> dict[str, Any]:
    """The chained fields of an audit event stored at position ``seq``."""
    return {
        "seq": seq,
        "event_id": event.event_id,
        "decision_id": event.decision_id,
        "ts_ns": event.ts_event,
        "service": event.service,
        "decision_type": event.decision_type,
        "account": event.account,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "source": event.source,
        "input_summary": msgspec.to_builtins(event.input_summary),
        "output": msgspec.to_builtins(event.output),
        "reasoning": event.reasoning,
        "policy_references": list(event.policy_references),
    }


def canonical(fields: dict[str, Any]) -> str:
    """The canonical JSON text of a record (see the module doc)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One row as stored: the indexed columns, the canonical body and the two hashes."""

    seq: int
    event_id: str
    decision_id: str
    ts_ns: int
    service: str
    body: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first record that does not check: ``seq`` and ``event_id`` name it."""

    seq: int
    event_id: str
    problem: str

    def describe(self) -> str:
        return f"record seq {self.seq} (id {self.event_id}): {self.problem}"


@dataclass(frozen=True, slots=True)
class Verdict:
    count: int
    head: str
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(records: Iterable[StoredRecord]) -> Verdict:
    """Walk the records in ``seq`` order from 1; the first one that does not check breaks."""
    expected_seq, prev, count = 1, GENESIS, 0
    for record in records:
        problem = _problem(record, expected_seq, prev)
        if problem is not None:
            return Verdict(count, prev, ChainBreak(record.seq, record.event_id, problem))
        expected_seq, prev, count = record.seq + 1, record.hash, count + 1
    return Verdict(count, prev)


def _problem(record: StoredRecord, expected_seq: int, prev: str) -> str | None:
    if record.seq != expected_seq:
        missing = (
            f"{expected_seq}"
            if record.seq == expected_seq + 1
            else (f"{expected_seq}..{record.seq - 1}")
        )
        return f"seq {missing} deleted (the chain jumps from {expected_seq - 1} to {record.seq})"
    if record.prev_hash != prev:
        return "prev_hash does not match the previous record's hash (a record was replaced)"
    if chain_hash(prev, record.body) != record.hash:
        return "hash does not match its content (the record was changed)"
    try:
        fields = json.loads(record.body)
    except ValueError:
        return "body is not JSON (the record was changed)"
    columns = {
        "seq": record.seq, "event_id": record.event_id, "decision_id": record.decision_id,
        "ts_ns": record.ts_ns, "service": record.service,
    }  # fmt: skip
    for name, value in columns.items():
        if not isinstance(fields, dict) or fields.get(name) != value:
            return f"column {name} ({value!r}) differs from the hashed record (changed)"
    return None
