"""The events the execution service publishes, built from our ``Order`` and the venue's reports.

One event per transition on ``trades.order``. Idempotency keys are deterministic,
``<order_id>:<action>:<ts>`` (``<order_id>:fill:<fill_id>:<ts>`` for fills), so a consumer can
drop a repeat. The correlation id of the event that made an order (intent, request, kill switch)
is kept per order and carried by every later event of it; fills carry price, quantity, this
fill's fee and the venue's fill id.
"""

from __future__ import annotations

from typing import Any

import msgspec

from quantrail.audit.record import audit_record
from quantrail.events import (
    AlertTriggered,
    Event,
    IntentCreated,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFillCorrected,
    OrderFilled,
    OrderPartiallyFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
    OrderWorking,
    SubmitOrder,
)
from quantrail.events.ids import id_for_key
from quantrail.execution.order import Order, order_id_for_intent
from quantrail.execution.pretrade import reasons_text
from quantrail.execution.venues import (
    VenueCanceled,
    VenueFill,
    VenueFillCorrected,
    VenueRejected,
    VenueReport,
)
from quantrail.risk.liquidity import GuardResult
from quantrail.vocab import OrderStatus

SOURCE = "execution"
INVALID_ORDER = "DENIED_INVALID_ORDER"

S = OrderStatus
_PLAIN: dict[OrderStatus, type[OrderEvent]] = {
    S.SUBMITTED: OrderSubmitted,
    S.ACCEPTED: OrderAccepted,
    S.WORKING: OrderWorking,
    S.EXPIRED: OrderExpired,
    S.PENDING_CANCEL: OrderPendingCancel,
    S.PENDING_REPLACE: OrderPendingReplace,
}


class OrderEvents:
    """Builds order events for one venue; remembers each order's correlation id."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self._correlation: dict[str, str] = {}

    def remember(self, order_id: str, cause: Event) -> None:
        self._correlation[order_id] = cause.correlation_id or cause.event_id

    def inherit(self, order_id: str, from_order: Order) -> None:
        self._correlation[order_id] = self.correlation_of(from_order)

    def correlation_of(self, order: Order) -> str:
        return self._correlation.get(order.order_id, order.intent_id)

    def order(
        self,
        kind: type[OrderEvent],
        order: Order,
        ts: int,
        cause: Event | None = None,
        action: str = "",
        **extra: Any,
    ) -> OrderEvent:
        action = action or str(kind.__struct_config__.tag).rsplit(".", 1)[-1]
        envelope: dict[str, Any] = cause.caused() if cause is not None else {}
        envelope.setdefault("correlation_id", self.correlation_of(order))
        return kind(
            ts_event=ts,
            idempotency_key=f"{order.order_id}:{action}:{ts}",
            source=SOURCE,
            account=order.account,
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            intent_id=order.intent_id,
            symbol=order.symbol,
            side=order.side,
            qty=order.qty,
            order_type=order.order_type,
            limit_price=order.limit_price,
            tif=order.tif,
            bucket=order.bucket,
            venue=self.venue,
            venue_order_id=order.venue_order_id,
            **envelope,
            **extra,
        )

    def from_report(
        self, order: Order, status: OrderStatus, report: VenueReport, classification: str = ""
    ) -> Event:
        """The event for one transition a report made (``order`` is after the report); a
        refused cancel has its own event instead (``cancel_rejected``)."""
        ts = report.ts_ns
        if isinstance(report, VenueFill):
            return self.fill(order, report, classification)
        if isinstance(report, VenueFillCorrected):
            return self.fill_corrected(order, report)
        if status is S.CANCELED:
            reason = report.reason if isinstance(report, VenueCanceled) else ""
            return self.order(OrderCanceled, order, ts, reason=reason, filled_qty=order.filled_qty)
        if status is S.REJECTED:
            reason = report.reason if isinstance(report, VenueRejected) else ""
            return self.order(OrderRejected, order, ts, reason=reason or "refused by the venue")
        return self.order(_PLAIN[status], order, ts)

    def cancel_rejected(
        self, order: Order, reason: str, ts: int, cause: Event | None = None
    ) -> OrderEvent:
        """A refused cancel, with the status the order stays in (``order`` is after the
        refusal). Refused by us, the key names the request, so two refusals are two events."""
        action = f"cancel_rejected:{cause.event_id}" if cause is not None else ""
        return self.order(
            OrderCancelRejected, order, ts, cause, action, status=order.status, reason=reason
        )

    def fill(self, order: Order, fill: VenueFill, classification: str = "") -> OrderEvent:
        kind = OrderFilled if order.status is S.FILLED else OrderPartiallyFilled
        return self.order(
            kind,
            order,
            fill.ts_ns,
            action=f"fill:{fill.fill_id}",
            fill_id=fill.fill_id,
            last_qty=fill.qty,
            last_price=fill.price,
            fees=fill.fee,
            cum_qty=order.filled_qty,
            leaves_qty=order.unfilled_qty,
            avg_price=order.avg_fill_price,
            liquidity=fill.liquidity.value,
            classification=classification,
        )

    def fill_corrected(self, order: Order, report: VenueFillCorrected) -> OrderEvent:
        """A corrected execution (``order`` is after it). Its id and key come from the
        correction's id alone, not the time, so the same correction published again (a
        restart, a replay) is the same event and has one effect."""
        key = f"{order.order_id}:fill_corrected:{report.correction_id}"
        was, now = report.previous, report.corrected
        assert order.avg_fill_price is not None  # a correction leaves at least one share
        event = self.order(
            OrderFillCorrected, order, report.ts_ns, event_id=id_for_key(key),
            status=order.status, fill_id=report.fill_id, correction_id=report.correction_id,
            last_qty=now.qty, last_price=now.price, fees=now.fee, previous_qty=was.qty,
            previous_price=was.price, previous_fees=was.fee, cum_qty=order.filled_qty,
            leaves_qty=order.leaves_qty, avg_price=order.avg_fill_price,
            liquidity=now.liquidity.value,
        )  # fmt: skip
        return msgspec.structs.replace(event, idempotency_key=key)

    def replaced(self, old: Order, new: Order, ts: int, cause: Event | None) -> OrderEvent:
        """Old id -> new id with the new terms; the common fields describe the old order."""
        return self.order(
            OrderReplaced,
            old,
            ts,
            cause,
            status=new.status,
            old_order_id=old.order_id,
            new_order_id=new.order_id,
            new_qty=new.qty,
            new_limit_price=new.limit_price,
        )

    def audit(self, order: Order, guard: GuardResult, ts: int, cause: Event | None) -> Event:
        """The LiquidityGuard's resize or denial, with every reason, for the audit trail."""
        return audit_record(
            decision_id=f"{order.order_id}:liquidity:{ts}",
            service=SOURCE,
            decision_type="liquidity_guard",
            ts_ns=ts,
            account=order.account,
            cause=cause,
            correlation_id=self.correlation_of(order),
            input_summary={
                "order_id": order.order_id,
                "intent_id": order.intent_id,
                "side": order.side.value,
                "requested_qty": guard.requested_qty,
            },
            output=guard.to_details(),
            reasoning=reasons_text(guard),
            policy_references=["docs/liquidity_and_drift.md"],
        )

    def unbuildable(
        self, event: IntentCreated | SubmitOrder, key: str, reason: str, ts: int
    ) -> OrderDenied:
        """An intent or request no ``Order`` can be made of (no account): denied, not stored."""
        order_id = order_id_for_intent(key)
        envelope: dict[str, Any] = event.caused()
        return OrderDenied(
            ts_event=ts,
            idempotency_key=f"{order_id}:denied:{ts}",
            source=SOURCE,
            account=event.account,
            **envelope,
            order_id=order_id,
            intent_id=key,
            symbol=event.symbol,
            side=event.side,
            qty=event.qty,
            order_type=event.order_type,
            limit_price=event.limit_price,
            tif=event.tif,
            bucket=event.bucket,
            venue=self.venue,
            reason=reason,
            reason_code=INVALID_ORDER,
        )


def alert(key: str, severity: Any, message: str, details: dict[str, Any], ts: int) -> Event:
    """An ``AlertTriggered`` from the execution service; ``key`` makes the id deterministic."""
    alert_id = f"{SOURCE}:{key}"
    return AlertTriggered(
        ts_event=ts,
        alert_id=alert_id,
        idempotency_key=alert_id,
        source=SOURCE,
        severity=severity,
        message=message,
        details=details,
    )
