"""Builders of an order's path: the intent, the requests on it, and every lifecycle event.

The defaults: intent ``int-1`` and request ``req-1`` become order ``ord-1`` (buy 100 ACME at
25.01 for the LT book on the ``SIM`` venue), filled as ``fill-1``.
"""

from __future__ import annotations

from typing import Any

from kit.event_base import ACCOUNT, PRICE, SYMBOL, MoneyLike, build, envelope
from quantrail.events import (
    CancelOrder,
    IntentCreated,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
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
    ReplaceOrder,
    SubmitOrder,
)
from quantrail.money import to_money
from quantrail.vocab import Bucket, Mode, OrderStatus, OrderType, Side


def intent(side: Side = Side.BUY, qty: int = 100, **overrides: Any) -> IntentCreated:
    """An intent from the decision engine (a source allowed to add exposure by default:
    ``execution.exposure_sources``); set ``source`` to test another service's intents."""
    defaults = envelope(
        source="decision-engine",
        account=ACCOUNT,
        intent_id="int-1",
        symbol=SYMBOL,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
        bucket=Bucket.LT,
        mode=Mode.NORMAL,
        reason="test",
    )
    return build(IntentCreated, defaults, overrides)


def submit_order(side: Side = Side.BUY, qty: int = 100, **overrides: Any) -> SubmitOrder:
    defaults = envelope(
        account=ACCOUNT,
        request_id="req-1",
        evaluation_id="eval-1",
        intent_id="int-1",
        symbol=SYMBOL,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
        bucket=Bucket.LT,
    )
    return build(SubmitOrder, defaults, overrides)


def cancel_order(order_id: str = "ord-1", **overrides: Any) -> CancelOrder:
    return build(CancelOrder, envelope(order_id=order_id, reason="test"), overrides)


def replace_order(order_id: str = "ord-1", **overrides: Any) -> ReplaceOrder:
    defaults = envelope(order_id=order_id, qty=100, limit_price="25.02", reason="re-price")
    return build(ReplaceOrder, defaults, overrides)


def order_fields(**overrides: Any) -> dict[str, Any]:
    """The common order fields (envelope included) of the default order ``ord-1``."""
    fields = envelope(
        account=ACCOUNT,
        order_id="ord-1",
        client_order_id="cl-1",
        intent_id="int-1",
        request_id="req-1",
        symbol=SYMBOL,
        side=Side.BUY,
        qty=100,
        order_type=OrderType.LIMIT,
        limit_price=to_money(PRICE),
        bucket=Bucket.LT,
        venue="SIM",
        venue_order_id="v-1",
    )
    return {**fields, **overrides}


def order_submitted(**overrides: Any) -> OrderSubmitted:
    return build(OrderSubmitted, order_fields(), overrides)


def order_accepted(**overrides: Any) -> OrderAccepted:
    return build(OrderAccepted, order_fields(), overrides)


def order_working(**overrides: Any) -> OrderWorking:
    return build(OrderWorking, order_fields(), overrides)


def order_partially_filled(
    qty: int = 100,
    last_qty: int = 40,
    price: MoneyLike = PRICE,
    cum_qty: int | None = None,
    **overrides: Any,
) -> OrderPartiallyFilled:
    """One execution of ``last_qty``; ``cum_qty`` defaults to it (the first fill)."""
    cum = last_qty if cum_qty is None else cum_qty
    fill = {
        "qty": qty,
        "limit_price": price,
        "fill_id": "fill-1",
        "last_qty": last_qty,
        "last_price": price,
        "cum_qty": cum,
        "leaves_qty": qty - cum,
        "avg_price": price,
        "liquidity": "MAKER",
    }
    return build(OrderPartiallyFilled, order_fields(**fill), overrides)


def order_filled(qty: int = 100, price: MoneyLike = PRICE, **overrides: Any) -> OrderFilled:
    """The whole order in one execution at ``price`` (override cum/leaves for a last fill)."""
    fill = {
        "qty": qty,
        "limit_price": price,
        "fill_id": "fill-1",
        "last_qty": qty,
        "last_price": price,
        "cum_qty": qty,
        "leaves_qty": 0,
        "avg_price": price,
        "liquidity": "MAKER",
    }
    return build(OrderFilled, order_fields(**fill), overrides)


def order_canceled(**overrides: Any) -> OrderCanceled:
    return build(OrderCanceled, order_fields(reason="test"), overrides)


def order_rejected(**overrides: Any) -> OrderRejected:
    defaults = order_fields(reason="insufficient buying power", reason_code="201")
    return build(OrderRejected, defaults, overrides)


def order_denied(**overrides: Any) -> OrderDenied:
    defaults = order_fields(reason="kill switch active", reason_code="KILL_SWITCH")
    return build(OrderDenied, defaults, overrides)


def order_expired(**overrides: Any) -> OrderExpired:
    return build(OrderExpired, order_fields(), overrides)


def order_pending_cancel(**overrides: Any) -> OrderPendingCancel:
    return build(OrderPendingCancel, order_fields(), overrides)


def order_pending_replace(**overrides: Any) -> OrderPendingReplace:
    return build(OrderPendingReplace, order_fields(), overrides)


def order_cancel_rejected(**overrides: Any) -> OrderCancelRejected:
    """The venue refused the cancel of ``ord-1``: it had filled already."""
    defaults = order_fields(reason="order already filled", status=OrderStatus.FILLED)
    return build(OrderCancelRejected, defaults, overrides)


def order_replaced(**overrides: Any) -> OrderReplaced:
    defaults = order_fields(
        old_order_id="ord-1", new_order_id="ord-2", new_qty=100, new_limit_price="25.02"
    )
    return build(OrderReplaced, defaults, overrides)


def order_fill_corrected(price: MoneyLike = "25.03", **overrides: Any) -> OrderFillCorrected:
    """The venue corrected ``fill-1`` (100 at 25.01) to 100 at ``price`` as ``fill-1.02``."""
    defaults = order_fields(
        limit_price=PRICE, status=OrderStatus.FILLED, fill_id="fill-1", correction_id="fill-1.02",
        last_qty=100, last_price=price, fees="1.00", previous_qty=100, previous_price=PRICE,
        previous_fees="1.00", cum_qty=100, leaves_qty=0, avg_price=price,
    )  # fmt: skip
    return build(OrderFillCorrected, defaults, overrides)
