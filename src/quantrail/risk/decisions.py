"""What one decision of the engine sees and says, as pure functions of its inputs.

* ``exposure_view``: an ``ExposureSnapshot``'s figures as exact decimals (floats via ``repr``),
  checked once on arrival so a snapshot that cannot be decided on is refused with the field
  named, and never becomes the "latest" one.
* ``input_age``: seconds since a ``ts_event`` as staleness limits count them (wall seconds in a
  replay at a fixed speed: ``Clock.wall_seconds``), with the engine's rules for missing data
  and small clock skew.
* ``policy_inputs``: the table's ``PolicyInputs``, bucket maxima from the engine's own rules.
* ``ModeState``: the record kept in ``state:mode:<ACCOUNT>``.
* ``mode_changed`` / ``alert``: the events a decision publishes, with idempotency keys derived
  from the event that caused the decision, so a redelivered cause publishes the same keys.
* ``mode_audit`` / ``derisk_audit``: their audit records (``audit.decision``), with decision
  ids derived from those keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from quantrail.audit.record import audit_record
from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.risk import RiskModeChanged
from quantrail.events.system import AlertTriggered
from quantrail.money import ZERO, to_money
from quantrail.risk.derisk_episode import Chain, StepEvents
from quantrail.risk.policy import STALE_DATA, BucketLoad, Decision, PolicyInputError, PolicyInputs
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import WallSeconds, exact_seconds
from quantrail.vocab import Bucket, Mode, Phase

AWAITING_DATA = "AWAITING_DATA"
"""The reason of an account's mode before its first decision (THROTTLE_NEW_ORDERS)."""

POLICY = "docs/risk.md"
"""Where the policy table the engine decides by is written down (the audit records cite it)."""

CLOCK_SKEW_S = 1.0
"""A ``ts_event`` up to this far in the future counts as age 0 (hosts' clocks differ a little)."""


@dataclass(frozen=True, slots=True)
class ModeState:
    """An account's current mode, as kept in ``state:mode:<ACCOUNT>``."""

    mode: Mode
    reason: str
    target_pct: Decimal | None
    since_ns: int

    def fields(self) -> dict[str, str]:
        target = "" if self.target_pct is None else str(self.target_pct)
        return {
            "mode": self.mode.value,
            "reason": self.reason,
            "target_gross_pct": target,
            "since_ns": str(self.since_ns),
        }

    def same_as(self, other: ModeState) -> bool:
        """Same mode, reason and target (``since_ns`` aside)."""
        return (self.mode, self.reason, self.target_pct) == (
            other.mode,
            other.reason,
            other.target_pct,
        )

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> ModeState | None:
        """The state an earlier run kept, or None when there is none (or it does not parse)."""
        try:
            target = fields.get("target_gross_pct", "")
            return cls(
                mode=Mode(fields["mode"]),
                reason=fields.get("reason", ""),
                target_pct=Decimal(target) if target else None,
                since_ns=int(fields.get("since_ns", "0")),
            )
        except (KeyError, ValueError, InvalidOperation):
            return None


@dataclass(frozen=True, slots=True)
class ExposureView:
    """The figures of one snapshot the table decides on, as exact decimals."""

    event_id: str
    ts_ns: int
    equity: Decimal
    gross_pct: Decimal
    potential_pct: Decimal
    bucket_potential: dict[Bucket, Decimal]


def exposure_view(event: ExposureSnapshot, rules: RiskRules) -> ExposureView:
    """Convert and check a snapshot; the error names the snapshot and the bad field."""
    view = ExposureView(
        event_id=event.event_id,
        ts_ns=event.ts_event,
        equity=event.equity,
        gross_pct=to_money(event.gross_exposure_pct),
        potential_pct=to_money(event.potential_gross_pct),
        bucket_potential={Bucket(n): to_money(b.potential_pct) for n, b in event.buckets.items()},
    )
    try:
        policy_inputs(view, Phase.CLOSED, 0.0, 0.0, rules)
    except PolicyInputError as exc:
        where = f"exposure snapshot {event.event_id} of {event.account}"
        raise PolicyInputError(f"{where}: {exc}") from None
    return view


def policy_inputs(
    view: ExposureView | None,
    phase: Phase,
    exposure_age_s: float,
    session_age_s: float,
    rules: RiskRules,
) -> PolicyInputs:
    """The table's inputs; no snapshot yet reads as zero exposure (its age must be stale)."""
    potentials = view.bucket_potential if view is not None else {}
    return PolicyInputs(
        phase=phase,
        gross_pct=view.gross_pct if view is not None else ZERO,
        potential_gross_pct=view.potential_pct if view is not None else ZERO,
        buckets={
            bucket: BucketLoad(potentials.get(bucket, ZERO), rules.buckets[bucket].max_pct)
            for bucket in Bucket
        },
        exposure_age_s=exposure_age_s,
        session_age_s=session_age_s,
    )


def input_age(
    ts_ns: int | None,
    now_ns: int,
    waiting_since_ns: int,
    limit_s: float,
    *,
    wall_s: WallSeconds = exact_seconds,
) -> float | None:
    """Seconds since ``ts_ns``, or None while a first value may still be on its way.

    Spans are counted by ``wall_s`` (the service clock's ``wall_seconds``). With nothing
    received, the wait counts from ``waiting_since_ns`` (the engine's start): the data is stale
    (``inf``) once that wait passes ``limit_s``. A time up to ``CLOCK_SKEW_S`` in the future is
    age 0; further ahead it is a clock problem and reads as stale, never fresh.
    """
    if ts_ns is None:
        waited = wall_s(now_ns - waiting_since_ns)
        return math.inf if waited > limit_s else None
    age = wall_s(now_ns - ts_ns)
    if age < 0:
        return 0.0 if age >= -CLOCK_SKEW_S else math.inf
    return age


def cause_key(cause: Event | None, now_ns: int) -> str:
    """What a decision is about: the event that caused it, else the watchdog's instant."""
    return cause.event_id if cause is not None else f"watchdog-{now_ns}"


def mode_changed(
    account: str,
    previous: Mode,
    decision: Decision,
    inputs: PolicyInputs,
    now_ns: int,
    cause: Event | None,
    source: str,
) -> RiskModeChanged:
    chain = Chain.of(cause)
    target = decision.target_gross_pct
    return RiskModeChanged(
        ts_event=now_ns,
        account=account,
        source=source,
        idempotency_key=f"risk-mode:{account}:{cause_key(cause, now_ns)}:{decision.mode.value}",
        correlation_id=chain.correlation_id,
        causation_id=chain.causation_id,
        previous_mode=previous,
        mode=decision.mode,
        reason=decision.reason,
        target_gross_pct=None if target is None else float(target),
        inputs=dict(inputs.summary()),
    )


def alert(
    account: str,
    decision: Decision,
    inputs: PolicyInputs,
    now_ns: int,
    cause: Event | None,
    source: str,
) -> AlertTriggered:
    """A stale-data alert is a WARNING (nothing is sold on it); a hard-cap breach is CRITICAL."""
    chain = Chain.of(cause)
    key = f"risk-alert:{account}:{decision.reason}:{cause_key(cause, now_ns)}"
    return AlertTriggered(
        ts_event=now_ns,
        account=account,
        source=source,
        idempotency_key=key,
        correlation_id=chain.correlation_id,
        causation_id=chain.causation_id,
        alert_id=key,
        severity="WARNING" if decision.reason == STALE_DATA else "CRITICAL",
        message=f"{account}: {decision.mode.value} {decision.reason}: {decision.detail}",
        details={
            "account": account,
            "mode": decision.mode.value,
            "reason": decision.reason,
            **inputs.summary(),
        },
    )


def mode_audit(change: RiskModeChanged, source: str) -> DecisionAudited:
    """The audit record of an announced mode (one per mode change event)."""
    return audit_record(
        decision_id=f"audit:{change.idempotency_key}",
        service=source,
        decision_type="mode_change",
        ts_ns=change.ts_event,
        account=change.account,
        cause=change,
        input_summary=change.inputs,
        output={
            "previous_mode": change.previous_mode.value,
            "mode": change.mode.value,
            "target_gross_pct": change.target_gross_pct,
        },
        reasoning=change.reason,
        policy_references=[POLICY],
    )


def derisk_audit(
    account: str, mode: Mode, reason: str, step: StepEvents, source: str
) -> DecisionAudited | None:
    """The audit record of a de-risk step that sends or cancels anything (None otherwise)."""
    if not step.events:
        return None
    first = step.events[0]
    return audit_record(
        decision_id=f"audit:derisk:{first.idempotency_key or first.event_id}",
        service=source,
        decision_type="derisk_plan",
        ts_ns=step.ts_ns,
        account=account,
        cause=first,
        input_summary={"mode": mode.value, "reason": reason},
        output={
            "intents": [
                {"intent_id": i.intent_id, "symbol": i.symbol, "side": i.side.value, "qty": i.qty}
                for i in step.intents
            ],
            "cancels": [c.order_id for c in step.cancels],
        },
        reasoning=f"{account}: {mode.value} ({reason}): {len(step.intents)} intents, "
        f"{len(step.cancels)} cancels",
        policy_references=[POLICY],
    )
