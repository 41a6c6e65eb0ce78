"""The one helper that builds a ``DecisionAudited`` envelope for any deciding service.

The decision id doubles as the idempotency key, so a redelivered decision is audited once; the
correlation and causation ids come from the event that caused the decision (``cause``), so
``quantrail trace`` finds the record with the rest of the chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event


def audit_record(
    *,
    decision_id: str,
    service: str,
    decision_type: str,
    ts_ns: int,
    account: str | None = None,
    cause: Event | None = None,
    correlation_id: str = "",
    input_summary: Mapping[str, Any] | None = None,
    output: Mapping[str, Any] | None = None,
    reasoning: str = "",
    policy_references: Sequence[str] = (),
) -> DecisionAudited:
    """An audit event; ``correlation_id`` is used when there is no ``cause``."""
    if not decision_id:
        raise ValueError(f"decision_id: must not be empty, got {decision_id!r}")
    envelope: dict[str, Any] = cause.caused() if cause is not None else {}
    if correlation_id and not envelope:
        envelope["correlation_id"] = correlation_id
    return DecisionAudited(
        ts_event=ts_ns,
        idempotency_key=decision_id,
        source=service,
        account=account,
        **envelope,
        decision_id=decision_id,
        service=service,
        decision_type=decision_type,
        input_summary=_plain(input_summary),
        output=_plain(output),
        reasoning=reasoning,
        policy_references=list(policy_references),
    )


def _plain(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """JSON values only (a Decimal as its exact string), so the event round-trips unchanged."""
    return dict(msgspec.to_builtins(dict(details or {})))
