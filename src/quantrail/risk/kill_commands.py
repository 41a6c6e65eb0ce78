"""A person's kill switch commands, shared by ``quantrail killswitch`` and the dashboard.

Each builds the event with a deterministic idempotency key, and ``record_kill`` writes it to
SQL first (the killswitch service publishes again whatever SQL has and the stream lost) and
returns the events to publish: the switch event and its audit record.
"""

from __future__ import annotations

import time
from typing import TypeVar
from zoneinfo import ZoneInfo

import msgspec

from quantrail.events import Event, KillSwitchActivated, KillSwitchReset
from quantrail.risk.kill_state import KillEvent, KillRecord, KillStateStore
from quantrail.session.calendar import local_date

K = TypeVar("K", KillSwitchActivated, KillSwitchReset)


def manual_activation(
    account: str, by: str, reason: str, flatten: bool, *, source: str, now_ns: int | None = None
) -> KillSwitchActivated:
    """A manual pull of ``account``'s kill switch (cancel all; flatten if asked)."""
    action = "cancel all working orders" + (", flatten every position" if flatten else "")
    event = KillSwitchActivated(
        ts_event=time.time_ns() if now_ns is None else now_ns, account=account, source=source,
        trigger="manual", severity="CRITICAL", action_taken=f"{reason}; {action}",
        human_override_required=True, flatten=flatten, activated_by=by,
    )  # fmt: skip
    return _keyed(event, f"killswitch-manual:{account}:{event.event_id}")


def operator_reset(
    active: KillRecord, by: str, reason: str, *, source: str, now_ns: int | None = None
) -> KillSwitchReset:
    """A person's reset of the activation ``active``, in its correlation chain."""
    account = active.account
    event = KillSwitchReset(
        ts_event=time.time_ns() if now_ns is None else now_ns, account=account, source=source,
        reset_by=by, reason=reason,
        correlation_id=active.event.correlation_id or active.event.event_id,
        causation_id=active.event.event_id,
    )  # fmt: skip
    return _keyed(event, f"killswitch-reset:{account}:{event.event_id}")


def reset_inputs(active: KillRecord) -> dict[str, str]:
    """What a reset's audit record names as its inputs: the activation it clears."""
    return {"activation": active.event.event_id, "activated": active.describe()}


def record_kill(
    store: KillStateStore, event: KillEvent, timezone: str, inputs: dict[str, str]
) -> list[Event]:
    """Save ``event`` in SQL; the events to publish next: it and its audit record."""
    from quantrail.risk.kill_switch_service import kill_audit

    day = local_date(event.ts_event, ZoneInfo(timezone)).isoformat()
    record = KillRecord(event, day)
    store.save(record)
    return [event, kill_audit(record, None, dict(inputs))]


def _keyed(event: K, key: str) -> K:
    return msgspec.structs.replace(
        event, idempotency_key=key, correlation_id=event.correlation_id or key
    )
