"""The exit brain's events, built in one place: decisions, triggered stops, reduce-only intents.

Ids are deterministic (docs/chain.md): the n-th exit order of a position is
``exit:<reason>:<position_id>:<n>``; its decision's key is that id + ``:decision`` and a stop's
``exit.stop.triggered`` key that id + ``:stop``; a tightened stop's key names the new level, a
kill switch decision the activation. A restarted exit brain that makes the same decision again
makes the same keys, and execution keeps one order per intent id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quantrail.events import AlertTriggered, Event, ExitDecisionMade, IntentCreated, StopTriggered
from quantrail.events.exit import ExitAction
from quantrail.events.trades import Urgency
from quantrail.vocab import Bucket, Mode, OrderType, Side

SOURCE = "exit_brain"
EXIT_PREFIX = "exit:"


@dataclass(frozen=True, slots=True)
class Subject:
    """The position a decision is about, as the events need it."""

    position_id: str
    account: str
    symbol: str
    bucket: Bucket
    qty: int
    strategy: str
    correlation_id: str


def exit_intent_id(reason: str, position_id: str, n: int) -> str:
    return f"{EXIT_PREFIX}{reason}:{position_id}:{n}"


def parse_exit_intent(intent_id: str) -> tuple[str, str, int] | None:
    """``(reason, position_id, n)`` of an exit intent id, or None for any other id."""
    if not intent_id.startswith(EXIT_PREFIX):
        return None
    reason, _, rest = intent_id[len(EXIT_PREFIX) :].partition(":")
    position_id, _, n = rest.rpartition(":")
    if not (reason and position_id and n.isdigit()):
        return None
    return reason, position_id, int(n)


def _envelope(subject: Subject, ts_ns: int, key: str, cause: Event | None) -> dict[str, Any]:
    return {
        "ts_event": ts_ns,
        "idempotency_key": key,
        "source": SOURCE,
        "account": subject.account,
        "correlation_id": subject.correlation_id or subject.position_id,
        "causation_id": cause.event_id if cause is not None else "",
    }


def decision(
    subject: Subject,
    action: ExitAction,
    reason: str,
    priority: Urgency,
    ts_ns: int,
    key: str,
    cause: Event | None,
    *,
    price: Decimal | None = None,
    exit_percent: float | None = None,
    new_stop: Decimal | None = None,
) -> ExitDecisionMade:
    return ExitDecisionMade(
        **_envelope(subject, ts_ns, key, cause),
        position_id=subject.position_id,
        symbol=subject.symbol,
        decision=action,
        reason=reason,
        exit_percent=exit_percent,
        new_stop=new_stop,
        priority=priority,
        current_price=price,
        strategy=subject.strategy,
    )


def stop_triggered(
    subject: Subject, intent_id: str, price: Decimal, stop: Decimal, ts_ns: int, cause: Event | None
) -> StopTriggered:
    return StopTriggered(
        **_envelope(subject, ts_ns, f"{intent_id}:stop", cause),
        position_id=subject.position_id,
        symbol=subject.symbol,
        trigger_price=price,
        stop_price=stop,
    )


@dataclass(frozen=True, slots=True)
class ExitOrder:
    """How an exit order is sent: its type (a LIMIT at ``price``), the account's mode."""

    intent_id: str
    reason: str
    qty: int
    priority: Urgency
    order_type: OrderType
    mode: Mode
    price: Decimal | None
    stop_price: Decimal | None


def exit_intent(
    subject: Subject, order: ExitOrder, ts_ns: int, cause: Event | None
) -> IntentCreated:
    """A reduce-only intent closing ``order.qty`` shares of the position (never the advisory
    path: execution runs it through its pre-trade gate and LiquidityGuard)."""
    limit = order.price if order.order_type is OrderType.LIMIT else None
    return IntentCreated(
        **_envelope(subject, ts_ns, order.intent_id, cause),
        intent_id=order.intent_id,
        symbol=subject.symbol,
        side=Side.SELL if subject.qty > 0 else Side.BUY,
        qty=order.qty,
        order_type=order.order_type if limit is not None else OrderType.MARKET,
        limit_price=limit,
        bucket=subject.bucket,
        mode=order.mode,
        reason=order.reason,
        reduce_only=True,
        urgency=order.priority,
        position_id=subject.position_id,
        stop_price=order.stop_price,
    )


def gave_up(subject: Subject, orders: int, reason: str, ts_ns: int) -> AlertTriggered:
    """The position is still open after ``orders`` exit orders: a person must look."""
    alert_id = f"{SOURCE}:gave_up:{subject.position_id}"
    message = (
        f"exit of {subject.position_id} ({reason}) not done after {orders} exit orders; "
        "no more are sent"
    )
    return AlertTriggered(
        **_envelope(subject, ts_ns, alert_id, None),
        alert_id=alert_id,
        severity="CRITICAL",
        message=message,
        details={"position_id": subject.position_id, "qty": subject.qty, "reason": reason},
    )
