"""The order state machine: the allowed ``(from, to)`` status changes, as data.

Anything not in ``TRANSITIONS`` raises ``InvalidTransition``; nothing is ever applied silently.
The table is written for a real venue, where messages cross on the wire: a fill can arrive after
we sent a cancel (or before the venue's ack), and a cancel can be refused because the order
already filled. ``docs/orders.md`` shows the same table with the reason for every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from quantrail.vocab import OrderStatus

S = OrderStatus

ALLOWED: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        # Ours until sent: the gate denies it, the adapter refuses it, or we withdraw it unsent.
        S.NEW: frozenset({S.SUBMITTED, S.DENIED, S.REJECTED, S.CANCELED}),
        # In flight: a fill may overtake the ack; a cancel may be sent before the ack arrives.
        S.SUBMITTED: frozenset(
            {S.ACCEPTED, S.REJECTED, S.PENDING_CANCEL, S.CANCELED, S.PARTIALLY_FILLED, S.FILLED}
        ),
        S.ACCEPTED: frozenset(
            {
                S.WORKING,
                S.PARTIALLY_FILLED,
                S.FILLED,
                S.PENDING_CANCEL,
                S.PENDING_REPLACE,
                S.CANCELED,
                S.EXPIRED,
            }
        ),
        S.WORKING: frozenset(
            {
                S.PARTIALLY_FILLED,
                S.FILLED,
                S.PENDING_CANCEL,
                S.PENDING_REPLACE,
                S.CANCELED,
                S.EXPIRED,
            }
        ),
        # The only self-loop: each further partial fill.
        S.PARTIALLY_FILLED: frozenset(
            {
                S.PARTIALLY_FILLED,
                S.FILLED,
                S.PENDING_CANCEL,
                S.PENDING_REPLACE,
                S.CANCELED,
                S.EXPIRED,
            }
        ),
        # A cancel in flight: fills race it, the venue may refuse it (back to WORKING or
        # PARTIALLY_FILLED), expiry may beat it, and an unacked order may still be rejected.
        S.PENDING_CANCEL: frozenset(
            {S.CANCELED, S.PARTIALLY_FILLED, S.FILLED, S.WORKING, S.EXPIRED, S.REJECTED}
        ),
        # A replace is a cancel that brings a successor: the old order ends CANCELED with a link
        # to the new one. Fills race it, it may be refused, and a kill switch may cancel instead.
        S.PENDING_REPLACE: frozenset(
            {S.CANCELED, S.PARTIALLY_FILLED, S.FILLED, S.WORKING, S.EXPIRED, S.PENDING_CANCEL}
        ),
        S.FILLED: frozenset(),
        S.CANCELED: frozenset(),
        S.REJECTED: frozenset(),
        S.EXPIRED: frozenset(),
        S.DENIED: frozenset(),
    }
)

TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    (current, target) for current, targets in ALLOWED.items() for target in targets
)


class InvalidTransition(ValueError):
    """A status change the table does not allow; names the order and both states."""

    def __init__(self, order_id: str, current: OrderStatus, target: OrderStatus) -> None:
        self.order_id = order_id
        self.current = current
        self.target = target
        super().__init__(
            f"order {order_id!r}: invalid transition {current.value} -> {target.value}"
        )


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return (current, target) in TRANSITIONS


def transition(order_id: str, current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """``target`` when the table allows ``current -> target``; raises otherwise."""
    if (current, target) not in TRANSITIONS:
        raise InvalidTransition(order_id, current, target)
    return target
