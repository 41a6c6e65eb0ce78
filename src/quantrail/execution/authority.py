"""The one door to the venue: an order needs proof of authority (pure; the service does I/O).

Two kinds of order reach execution:

- **Strategy requests** (``trades.request.submit``): the ``evaluation_id`` must name a
  ``risk.evaluation.completed`` that execution has seen, APPROVED or MODIFIED, for the same
  account, symbol and direction, no older than ``max_approval_age_s``, used by no other request,
  with the requested size at most the approved size. When signing keys are configured the
  request's copy of the approval must carry a valid signature (``quantrail.risk.signing``), so a
  forged or altered approval is refused even if its evaluation id is real.
- **Internal orders** (``trades.intent.created``: de-risk, exits, band drift): they must reduce
  the position they trade (checked against the positions execution keeps, not the intent's own
  ``reduce_only`` flag), unless their ``source`` is configured as allowed to add exposure.

A refusal is a reason text; the service turns it into ``OrderDenied`` with reason code
``UNAPPROVED_REQUEST``, a WARNING alert and an audit record, and nothing reaches the venue.
A request delivered again (same request id) is not a reuse: the order path's own idempotency
handles it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quantrail.events import IntentCreated, RiskEvaluationCompleted, SubmitOrder
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Direction, Side

UNAPPROVED_REQUEST = "UNAPPROVED_REQUEST"
GRANTING = frozenset({"APPROVED", "MODIFIED"})

SignatureCheck = Callable[[SubmitOrder], str | None]
"""Verifies a request's copy of its approval; None when valid, else why not."""


@dataclass(frozen=True, slots=True)
class Approval:
    """What execution keeps of one evaluation: enough to judge a request against it."""

    evaluation_id: str
    decision: str
    account: str
    symbol: str
    direction: Direction | None
    approved_qty: int
    ts_ns: int

    @classmethod
    def of(cls, evaluation: RiskEvaluationCompleted) -> Approval:
        allowed = evaluation.position_allowed
        return cls(
            evaluation_id=evaluation.evaluation_id,
            decision=evaluation.decision,
            account=evaluation.account or "",
            symbol=evaluation.symbol or (allowed.symbol if allowed else ""),
            direction=evaluation.direction or (allowed.direction if allowed else None),
            approved_qty=evaluation.approved_qty or (allowed.max_qty if allowed else 0),
            ts_ns=evaluation.ts_event,
        )


@dataclass(slots=True)
class AuthorityGate:
    """Judges every order against the approvals seen and the positions held."""

    max_approval_age_s: float
    exposure_sources: frozenset[str] = frozenset()
    check_signature: SignatureCheck | None = None
    approvals: dict[str, Approval] = field(default_factory=dict)
    used_by: dict[str, str] = field(default_factory=dict)  # evaluation id -> request id

    def record(self, evaluation: RiskEvaluationCompleted) -> None:
        self.approvals.setdefault(evaluation.evaluation_id, Approval.of(evaluation))

    def note_used(self, evaluation_id: str, request_id: str) -> None:
        """A request that already has an order (rebuilt after a restart, or just accepted)."""
        self.used_by.setdefault(evaluation_id, request_id)

    def forget_before(self, oldest_ns: int) -> None:
        """Drop approvals too old to be used (keeps the book to the approval window)."""
        stale = [key for key, approval in self.approvals.items() if approval.ts_ns < oldest_ns]
        for key in stale:
            del self.approvals[key]
            self.used_by.pop(key, None)

    def check_request(self, request: SubmitOrder, now_ns: int) -> str | None:
        """None when the request may trade, else the reason it may not."""
        approval = self.approvals.get(request.evaluation_id)
        if approval is None:
            return f"no such evaluation {request.evaluation_id!r}"
        problem = self._mismatch(request, approval, now_ns)
        if problem is None and self.check_signature is not None:
            problem = self.check_signature(request)
        return problem

    def accept(self, request: SubmitOrder) -> None:
        self.note_used(request.evaluation_id, request.request_id)

    def _mismatch(self, request: SubmitOrder, approval: Approval, now_ns: int) -> str | None:
        if approval.decision not in GRANTING:
            return f"evaluation {approval.evaluation_id!r} was {approval.decision}"
        owner = self.used_by.get(approval.evaluation_id)
        if owner is not None and owner != request.request_id:
            return f"evaluation {approval.evaluation_id!r} already used by request {owner!r}"
        age_s = (now_ns - approval.ts_ns) / NS_PER_SECOND
        if age_s > self.max_approval_age_s:
            return (
                f"approval {approval.evaluation_id!r} expired: {age_s:.0f}s old, "
                f"max {self.max_approval_age_s:g}s"
            )
        if (request.account or "") != approval.account:
            return f"account {request.account!r} is not the approved {approval.account!r}"
        if request.symbol != approval.symbol:
            return f"symbol {request.symbol!r} is not the approved {approval.symbol!r}"
        if direction_of(request.side) is not approval.direction:
            return f"side {request.side} is not the approved direction {approval.direction}"
        if request.qty > approval.approved_qty:
            return f"size {request.qty} is above the approved {approval.approved_qty}"
        return None

    def check_intent(self, intent: IntentCreated, position_qty: int) -> str | None:
        """An internal order reduces the position it trades, or comes from a source allowed to
        add exposure. ``position_qty`` is the signed position of its account and symbol."""
        if intent.source in self.exposure_sources:
            return None
        if reduces(intent.side, intent.qty, position_qty):
            return None
        return (
            f"internal order from {intent.source or 'an unnamed source'!r} would add exposure "
            f"({intent.side} {intent.qty} against a position of {position_qty}); only "
            "reducing orders or configured sources may trade without an approval"
        )


def direction_of(side: Side) -> Direction:
    return Direction.LONG if side is Side.BUY else Direction.SHORT


def reduces(side: Side, qty: int, position_qty: int) -> bool:
    """True when trading ``qty`` on ``side`` moves the position toward flat without crossing."""
    return position_qty * side.sign < 0 and qty <= abs(position_qty)
