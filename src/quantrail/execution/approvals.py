"""The execution service's side of "only the risk kernel authorizes an order".

``Approvals`` feeds the pure ``AuthorityGate`` from the ``risk.evaluation`` stream — read forward
right before a request is judged, so an approval published a moment before its request is
never missed, whichever consumer is ahead — verifies signed approvals with the kernel's keys
(the current and the previous one), and after a restart rebuilds which approvals were used from
the order registry. A refusal becomes ``OrderDenied`` (``UNAPPROVED_REQUEST``) with a WARNING
alert and an audit record, built here in one place.
"""

from __future__ import annotations

from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.bus.follow import StreamFollower
from quantrail.config import Config
from quantrail.events import (
    DecisionAudited,
    Event,
    IntentCreated,
    RiskEvaluationCompleted,
    SubmitOrder,
)
from quantrail.execution.authority import UNAPPROVED_REQUEST, AuthorityGate
from quantrail.execution.order import Order
from quantrail.execution.order_events import alert
from quantrail.execution.registry import OrderRegistry
from quantrail.risk.signing import SigningKeys, load_keys, verify_approval
from quantrail.runtime.clock import NS_PER_SECOND

SOURCE = "execution"
EVALUATIONS = "risk.evaluation"


class Approvals:
    def __init__(self, config: Config) -> None:
        execution = config.execution
        self.keys: SigningKeys = load_keys(config.risk_kernel)
        check = self._check_signature if self.keys.configured else None
        self.gate = AuthorityGate(
            execution.max_approval_age_s, frozenset(execution.exposure_sources), check
        )
        self._follower: StreamFollower | None = None

    def _check_signature(self, request: SubmitOrder) -> str | None:
        fault = verify_approval(request, self.keys)
        return None if fault is None else f"approval signature refused: {fault}"

    def _take(self, event: Event) -> None:
        if isinstance(event, RiskEvaluationCompleted):
            self.gate.record(event)

    async def start(self, bus: EventBus, registry: OrderRegistry, now_ns: int) -> None:
        """Read the approvals the stream keeps and mark those already used by an order."""
        self._follower = StreamFollower(bus, EVALUATIONS, self._take)
        await self._follower.catch_up()
        oldest = now_ns - int(self.gate.max_approval_age_s * NS_PER_SECOND)
        for account in await registry.accounts():
            for order in await registry.orders_for_account(account):
                if order.evaluation_id and order.created_ns >= oldest:
                    self.gate.note_used(order.evaluation_id, order.intent_id)

    async def authorize(
        self, order: Order, cause: Event | None, position_qty: int, now_ns: int
    ) -> str | None:
        """None when ``order`` may go to the venue, else what is missing."""
        if isinstance(cause, SubmitOrder):
            if self._follower is not None:
                await self._follower.catch_up()
            refusal = self.gate.check_request(cause, now_ns)
            if refusal is None:
                self.gate.accept(cause)
            return refusal
        if isinstance(cause, IntentCreated):
            return self.gate.check_intent(cause, position_qty)
        return None  # the service's own orders (kill switch flatten, replace successors)

    def forget_expired(self, now_ns: int) -> None:
        keep_s = 2 * self.gate.max_approval_age_s
        self.gate.forget_before(now_ns - int(keep_s * NS_PER_SECOND))


def refusal_events(order: Order, cause: Event | None, reason: str, now_ns: int) -> list[Event]:
    """The WARNING alert and the audit record of an unapproved order (the denial itself is the
    order path's ``OrderDenied``)."""
    what: dict[str, Any] = {
        "order_id": order.order_id, "account": order.account, "symbol": order.symbol,
        "side": order.side.value, "qty": order.qty, "source": cause.source if cause else "",
        "request": cause.kind if cause else "", "evaluation_id": order.evaluation_id,
    }  # fmt: skip
    chain = cause.caused() if cause is not None else {}
    decision_id = f"{order.order_id}:unapproved"
    audit = DecisionAudited(
        ts_event=now_ns, idempotency_key=decision_id, source=SOURCE, account=order.account,
        correlation_id=chain.get("correlation_id", ""),
        causation_id=chain.get("causation_id", ""), decision_id=decision_id, service=SOURCE,
        decision_type="order_authority",
        input_summary=what, output={"decision": "DENIED", "reason_code": UNAPPROVED_REQUEST},
        reasoning=reason, policy_references=["docs/orders.md#authority"],
    )  # fmt: skip
    message = f"order {order.order_id} denied {UNAPPROVED_REQUEST}: {reason}"
    warning = alert(f"unapproved:{order.order_id}", "WARNING", message, what, now_ns)
    return [warning, audit]
