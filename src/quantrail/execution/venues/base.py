"""What a venue is to us: the requests it takes, the reports it gives back, and how a report
changes our ``Order``.

A venue acts when called; its reports reach us through ``advance(now_ns)`` once their latency
has passed, in the order the venue produced them. Replace is not a venue call: the execution
service sends a cancel and, on the cancel ack, submits the successor (``Order.confirm_cancel``).
Every report names our ``order_id`` (the venue echoes it, as FIX does with ClOrdID).
Also here: the rules venues share, the price tick and the per-share fee with a per-order minimum.
"""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal
from typing import Protocol, runtime_checkable

from quantrail.execution.order import Order
from quantrail.money import ZERO, cents
from quantrail.vocab import OrderStatus, OrderType, Side, TimeInForce

# Reg NMS rule 612: prices of $1.00 and up trade in cents, below that in hundredths of a cent.
_TICK_AT_OR_ABOVE_DOLLAR = Decimal("0.01")
_TICK_BELOW_DOLLAR = Decimal("0.0001")


def order_fee(filled_qty: int, fee_per_share: Decimal, min_fee: Decimal) -> Decimal:
    """An order's total fee after ``filled_qty`` shares: nothing until it fills, then at least
    ``min_fee``, rounded to the cent."""
    if filled_qty == 0:
        return ZERO
    return cents(max(filled_qty * fee_per_share, min_fee))


def tick_for(price: Decimal) -> Decimal:
    return _TICK_AT_OR_ABOVE_DOLLAR if price >= 1 else _TICK_BELOW_DOLLAR


class Liquidity(enum.StrEnum):
    MAKER = "MAKER"  # our resting order was hit
    TAKER = "TAKER"  # our order took the displayed quote


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueAccepted:
    order_id: str
    venue_order_id: str
    ts_ns: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueRejected:
    order_id: str
    reason: str
    ts_ns: int
    venue_order_id: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueFill:
    """One execution. ``fill_id`` is unique per venue and the same on every replay."""

    order_id: str
    venue_order_id: str
    fill_id: str
    symbol: str
    side: Side
    qty: int
    price: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts_ns: int

    def __post_init__(self) -> None:
        if not self.fill_id:
            raise ValueError("fill_id: must not be empty")
        if self.qty <= 0:
            raise ValueError(f"qty: must be > 0 shares, got {self.qty}")
        if not self.price.is_finite() or self.price <= 0:
            raise ValueError(f"price: must be a finite price > 0, got {self.price}")
        if not self.fee.is_finite():
            raise ValueError(f"fee: must be finite, got {self.fee}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueFillCorrected:
    """The venue corrected an execution it reported before: ``corrected`` replaces
    ``previous`` (both as the venue reports fills). ``fill_id`` is the fill as first booked;
    ``correction_id`` the venue's id of this correction (``corrected.fill_id``)."""

    order_id: str
    fill_id: str
    previous: VenueFill
    corrected: VenueFill
    ts_ns: int

    @property
    def correction_id(self) -> str:
        return self.corrected.fill_id

    def __post_init__(self) -> None:
        if self.correction_id == self.fill_id:
            raise ValueError(f"correction_id: must differ from fill_id {self.fill_id!r}")
        if self.corrected.side is not self.previous.side:
            raise ValueError(
                f"side: a correction keeps the side {self.previous.side}, got {self.corrected.side}"
            )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueCanceled:
    order_id: str
    venue_order_id: str
    ts_ns: int
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueCancelRejected:
    order_id: str
    reason: str
    ts_ns: int
    venue_order_id: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VenueExpired:
    order_id: str
    venue_order_id: str
    ts_ns: int


VenueReport = (
    VenueAccepted
    | VenueRejected
    | VenueFill
    | VenueFillCorrected
    | VenueCanceled
    | VenueCancelRejected
    | VenueExpired
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """A venue's view of one of our open orders."""

    order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    qty: int
    filled_qty: int

    @property
    def leaves_qty(self) -> int:
        return self.qty - self.filled_qty


class Venue(Protocol):
    """A place orders go. All calls take the caller's time; none reads a clock."""

    @property
    def name(self) -> str: ...

    def submit(self, order: Order, now_ns: int) -> None:
        """Send an order (the venue copies what it needs). The same order_id twice is ignored."""

    def restore(self, order: Order, now_ns: int) -> None:
        """Take back, after our restart, an order this venue had: as it was (venue order id,
        filled quantity, fees and fills so far), so later fills and fees continue from there.
        An order id the venue knows is ignored. A real venue is reconciled instead (asked for
        its open orders and fills); this is what a venue living in our process does."""

    def cancel(self, order_id: str, now_ns: int) -> None:
        """Ask to cancel; answered by VenueCanceled or VenueCancelRejected."""

    def modify(self, order_id: str, qty: int, limit_price: Decimal, now_ns: int) -> bool:
        """Replace in place (a new total quantity and limit price, the venue's order kept):
        True when sent, answered by a ``VenueCanceled`` of the old order once the venue has
        taken the change (the service then submits the successor, which the venue attaches to
        its same order). False when the venue does not modify: the service cancels, then sends
        the successor as a new order."""
        ...

    def on_quote(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        bid_size: int,
        ask_size: int,
        now_ns: int,
    ) -> None:
        """Top of book changed (a simulated venue matches against it)."""

    def on_trade(self, symbol: str, price: Decimal, size: int, now_ns: int) -> None:
        """A print happened (a simulated venue matches resting orders against it)."""

    def advance(self, now_ns: int) -> list[VenueReport]:
        """Reports whose latency has elapsed by ``now_ns``, oldest first, each returned once."""
        ...

    def open_orders(self) -> list[RestingOrder]:
        """Orders still working at the venue, in the order they arrived."""
        ...

    def expire_all(self, now_ns: int) -> None:
        """The session closed: expire every DAY order still working (GTC orders stay)."""


@runtime_checkable
class FillRecord(Protocol):
    """A venue that can say which fills it made for us (for the reconciliation after Redis lost
    its memory, ``quantrail.execution.fill_reconcile``). To become part of ``Venue`` once every
    venue has it; until then the execution service records what ``advance`` hands out."""

    def fills(self) -> list[VenueFill]:
        """Every fill this venue has handed out through ``advance``, oldest first, each exactly
        as it was reported (same fill id, quantity, price, fee and time): the simulated venue
        since it started, IB this session's executions."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """What a report did to an order: the statuses it passed through (one event each) and,
    for a confirmed replace, the successor to submit. No transitions means nothing changed."""

    transitions: tuple[OrderStatus, ...] = ()
    successor: Order | None = None

    @property
    def changed(self) -> bool:
        return bool(self.transitions)


def apply_report(order: Order, report: VenueReport) -> Applied:
    """Apply one venue report to our order, through the state machine.

    A report that repeats the status the order already has (redelivery) changes nothing; a
    report the table forbids raises ``InvalidTransition`` so the service can report it.
    """
    if report.order_id != order.order_id:
        raise ValueError(
            f"order_id: report for {report.order_id!r} applied to order {order.order_id!r}"
        )
    ts = report.ts_ns
    match report:
        case VenueAccepted():
            if not order.accept(report.venue_order_id, ts):
                return Applied()
            return Applied((OrderStatus.ACCEPTED, order.move_to(OrderStatus.WORKING, ts)))
        case VenueFill():
            changed = order.apply_fill(report.fill_id, report.qty, report.price, report.fee, ts)
            return Applied((order.status,)) if changed else Applied()
        case VenueFillCorrected():
            was, now = report.previous, report.corrected
            changed = order.correct_fill(
                report.fill_id, report.correction_id, (was.qty, was.price, was.fee),
                (now.qty, now.price, now.fee), ts,
            )  # fmt: skip
            return Applied((order.status,)) if changed else Applied()
        case VenueCanceled():
            if order.status is OrderStatus.CANCELED:
                return Applied()
            successor = order.confirm_cancel(ts)
            return Applied((OrderStatus.CANCELED,), successor)
        case VenueCancelRejected():
            return Applied((order.status,)) if order.cancel_rejected(ts) else Applied()
        case VenueRejected():
            return _to_final(order, OrderStatus.REJECTED, ts)
        case VenueExpired():
            return _to_final(order, OrderStatus.EXPIRED, ts)


def _to_final(order: Order, target: OrderStatus, ts_ns: int) -> Applied:
    if order.status is target:
        return Applied()
    return Applied((order.move_to(target, ts_ns),))
