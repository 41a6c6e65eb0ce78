"""Order lifecycle events: one stream, ``trades.order``, so a consumer sees an order in order.

Every order event carries the order's common fields (``OrderEvent``) and its ``status`` after
the event. Events with a fixed outcome (filled, canceled, ...) default ``status`` to it and
refuse any other value, so the field can be trusted by consumers that read only the JSON.
``OrderCancelRejected`` changes no status: it carries the one the order stays in.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from quantrail.events.base import Event, Money
from quantrail.events.trades import (
    require_finite,
    require_limit,
    require_price,
    require_qty,
    require_text,
)
from quantrail.money import ZERO
from quantrail.vocab import Bucket, OrderStatus, OrderType, Side, TimeInForce

Liquidity = Literal["MAKER", "TAKER", ""]


class OrderEvent(Event, frozen=True, kw_only=True):
    """Fields every order event carries (a base struct: not an event kind of its own).

    ``order_id`` is ours (stable across the lifecycle), ``client_order_id`` is what we sent the
    venue, ``venue_order_id`` is what the venue assigned. ``qty`` is the order's total quantity.
    """

    order_id: str
    client_order_id: str = ""
    intent_id: str = ""
    request_id: str = ""
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price: Money | None = None
    tif: TimeInForce = TimeInForce.DAY
    bucket: Bucket
    venue: str = ""
    venue_order_id: str = ""
    status: OrderStatus

    fixed_status: ClassVar[OrderStatus | None] = None

    def __post_init__(self) -> None:
        require_text("order_id", self.order_id)
        require_text("symbol", self.symbol)
        require_qty("qty", self.qty)
        require_limit(self.order_type, self.limit_price)
        fixed = type(self).fixed_status
        if fixed is not None and self.status is not fixed:
            raise ValueError(f"status: must be {fixed.value} for {self.kind}, got {self.status}")


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True, tag="trades.order.submitted"):
    """Sent to the venue; no acknowledgement yet."""

    status: OrderStatus = OrderStatus.SUBMITTED
    fixed_status = OrderStatus.SUBMITTED


class OrderAccepted(OrderEvent, frozen=True, kw_only=True, tag="trades.order.accepted"):
    """The venue acknowledged the order."""

    status: OrderStatus = OrderStatus.ACCEPTED
    fixed_status = OrderStatus.ACCEPTED


class OrderWorking(OrderEvent, frozen=True, kw_only=True, tag="trades.order.working"):
    """The order rests on the venue's book and can fill."""

    status: OrderStatus = OrderStatus.WORKING
    fixed_status = OrderStatus.WORKING


class OrderFill(OrderEvent, frozen=True, kw_only=True):
    """Fields of one execution (a base struct for partial and full fills).

    ``fill_id`` is the venue's execution id (the ledger's idempotency handle). ``last_*`` describe
    this execution, ``cum_qty``/``avg_price`` the order so far; ``cum_qty + leaves_qty == qty``.
    ``classification`` (e.g. ``LT_LONG_INCREASE``) is filled in by the ledger path, not the venue.
    """

    fill_id: str
    last_qty: int
    last_price: Money
    fees: Money = ZERO
    cum_qty: int
    leaves_qty: int
    avg_price: Money
    liquidity: Liquidity = ""
    classification: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_text("fill_id", self.fill_id)
        require_qty("last_qty", self.last_qty)
        require_price("last_price", self.last_price)
        require_price("avg_price", self.avg_price)
        require_finite("fees", self.fees)
        if self.last_qty > self.cum_qty:
            raise ValueError(f"last_qty: must be <= cum_qty {self.cum_qty}, got {self.last_qty}")
        if self.leaves_qty < 0 or self.cum_qty + self.leaves_qty != self.qty:
            raise ValueError(
                f"leaves_qty: cum_qty {self.cum_qty} + leaves_qty {self.leaves_qty} "
                f"must equal qty {self.qty}"
            )


class OrderPartiallyFilled(
    OrderFill, frozen=True, kw_only=True, tag="trades.order.partially_filled"
):
    """Part of the order executed; ``leaves_qty`` is still working."""

    status: OrderStatus = OrderStatus.PARTIALLY_FILLED
    fixed_status = OrderStatus.PARTIALLY_FILLED

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.leaves_qty == 0:
            raise ValueError("leaves_qty: must be > 0 for a partial fill, got 0")


class OrderFilled(OrderFill, frozen=True, kw_only=True, tag="trades.order.filled"):
    """The last execution: the order is complete (``leaves_qty == 0``)."""

    status: OrderStatus = OrderStatus.FILLED
    fixed_status = OrderStatus.FILLED

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.leaves_qty != 0:
            raise ValueError(f"leaves_qty: must be 0 for a full fill, got {self.leaves_qty}")


class OrderCanceled(OrderEvent, frozen=True, kw_only=True, tag="trades.order.canceled"):
    """The venue canceled the order; ``filled_qty`` shares had executed before."""

    status: OrderStatus = OrderStatus.CANCELED
    fixed_status = OrderStatus.CANCELED
    reason: str = ""
    filled_qty: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.filled_qty < self.qty:
            raise ValueError(f"filled_qty: must be in [0, qty {self.qty}), got {self.filled_qty}")


class OrderRejected(OrderEvent, frozen=True, kw_only=True, tag="trades.order.rejected"):
    """The venue refused the order."""

    status: OrderStatus = OrderStatus.REJECTED
    fixed_status = OrderStatus.REJECTED
    reason: str
    reason_code: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_text("reason", self.reason)


class OrderDenied(OrderEvent, frozen=True, kw_only=True, tag="trades.order.denied"):
    """We refused the order before it reached a venue (pre-trade checks, kill switch)."""

    status: OrderStatus = OrderStatus.DENIED
    fixed_status = OrderStatus.DENIED
    reason: str
    reason_code: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_text("reason", self.reason)


class OrderExpired(OrderEvent, frozen=True, kw_only=True, tag="trades.order.expired"):
    """The order's time in force ran out."""

    status: OrderStatus = OrderStatus.EXPIRED
    fixed_status = OrderStatus.EXPIRED


class OrderPendingCancel(OrderEvent, frozen=True, kw_only=True, tag="trades.order.pending_cancel"):
    """A cancel was sent; the order can still fill until the venue confirms."""

    status: OrderStatus = OrderStatus.PENDING_CANCEL
    fixed_status = OrderStatus.PENDING_CANCEL


class OrderPendingReplace(
    OrderEvent, frozen=True, kw_only=True, tag="trades.order.pending_replace"
):
    """A replace was sent; the old terms can still fill until the venue confirms."""

    status: OrderStatus = OrderStatus.PENDING_REPLACE
    fixed_status = OrderStatus.PENDING_REPLACE


class OrderReplaced(OrderEvent, frozen=True, kw_only=True, tag="trades.order.replaced"):
    """The venue confirmed a replace: ``old_order_id`` (== ``order_id``) now works as
    ``new_order_id`` (the same id when the venue modifies in place) with the new terms.

    The common fields describe the order as it was; ``status`` is the replacement's status.
    """

    status: OrderStatus = OrderStatus.WORKING
    old_order_id: str
    new_order_id: str
    new_qty: int
    new_limit_price: Money | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.old_order_id != self.order_id:
            raise ValueError(
                f"old_order_id: must equal order_id {self.order_id!r}, got {self.old_order_id!r}"
            )
        require_text("new_order_id", self.new_order_id)
        require_qty("new_qty", self.new_qty)
        require_limit(self.order_type, self.new_limit_price)
        if self.status.is_terminal:
            raise ValueError(f"status: a replacement is live, got terminal {self.status}")


class OrderCancelRejected(
    OrderEvent, frozen=True, kw_only=True, tag="trades.order.cancel_rejected"
):
    """Our cancel (or the cancel half of a replace) was refused: by the venue, or by us when the
    order had already ended (FIX OrderCancelReject). It moves no order on: ``status`` is where
    the order is after the refusal, back to the WORKING or PARTIALLY_FILLED it was in before
    the cancel was asked, or the terminal status that made the cancel too late (usually FILLED).
    """

    reason: str

    def __post_init__(self) -> None:
        super().__post_init__()
        require_text("reason", self.reason)
        if self.status in _STILL_PENDING:
            raise ValueError(
                "status: must be the status the order stays in, never PENDING_CANCEL or "
                f"PENDING_REPLACE, got {self.status}"
            )


_STILL_PENDING = frozenset({OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE})


class OrderFillCorrected(OrderEvent, frozen=True, kw_only=True, tag="trades.order.fill_corrected"):
    """The venue corrected an execution it reported before (IB: the same execId with the next
    revision after its final period). The correction *replaces* the execution: ``last_qty``,
    ``last_price`` and ``fees`` are its values now, ``previous_*`` the values it had until now
    (the fill as booked, or the last correction), so a consumer keeping running totals can
    book the difference and one that keeps fills can swap them.

    ``fill_id`` names the fill as first booked (the ledger's key), ``correction_id`` is the
    venue's id of this correction (the id of the correction's effect: a repeat is dropped).
    ``cum_qty``/``avg_price`` are the order's after the correction; ``status`` is the order's
    status, which a correction never moves. Not an ``OrderFill``: a consumer of fills does not
    book it as one more execution.
    """

    fill_id: str
    correction_id: str
    last_qty: int
    last_price: Money
    fees: Money = ZERO
    previous_qty: int
    previous_price: Money
    previous_fees: Money = ZERO
    cum_qty: int
    leaves_qty: int
    avg_price: Money
    liquidity: Liquidity = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_text("fill_id", self.fill_id)
        require_text("correction_id", self.correction_id)
        if self.correction_id == self.fill_id:
            raise ValueError(f"correction_id: must differ from fill_id, got {self.correction_id!r}")
        require_qty("last_qty", self.last_qty)
        require_qty("previous_qty", self.previous_qty)
        require_price("last_price", self.last_price)
        require_price("previous_price", self.previous_price)
        require_price("avg_price", self.avg_price)
        require_finite("fees", self.fees)
        require_finite("previous_fees", self.previous_fees)
        if self.cum_qty < self.last_qty or self.leaves_qty < 0:
            raise ValueError(
                f"cum_qty: must be >= last_qty {self.last_qty} with leaves_qty >= 0, got "
                f"{self.cum_qty} and {self.leaves_qty}"
            )
