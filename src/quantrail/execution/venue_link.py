"""What the execution service does for a venue outside our process (IB): connect before the
first order, reconcile after restoring the registry's orders and before sending anything, close
on stop, turn the venue's notices into alerts, and show DEGRADED while the link is down.

A venue in our process (the simulated one) has none of this; ``linked`` tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeGuard, runtime_checkable

from quantrail.events import Event
from quantrail.execution.order_events import alert
from quantrail.execution.venues.base import Venue
from quantrail.risk.positions import PositionBook


@runtime_checkable
class LinkedVenue(Protocol):
    name: str
    connected: bool
    notices: list[Any]

    async def connect(self) -> None: ...

    async def reconcile(self, our_positions: dict[tuple[str, str], int] | None = None) -> Any: ...

    def start_sending(self) -> None: ...

    async def close(self) -> None: ...


def linked(venue: Venue) -> TypeGuard[LinkedVenue]:
    return isinstance(venue, LinkedVenue)


def positions_by_venue_account(
    books: Iterable[PositionBook], venue_account: Any
) -> dict[tuple[str, str], int]:
    """Our positions keyed as the venue names accounts (``venue_account(ours) -> theirs``)."""
    return {
        (venue_account(book.account), position.symbol): position.qty
        for book in books
        for position in book.open_positions()
    }


def notices_as_alerts(venue: LinkedVenue, now_ns: int) -> list[Event]:
    notices, venue.notices[:] = list(venue.notices), []
    return [
        alert(f"venue:{n.key}:{now_ns}", n.severity, n.message, dict(n.details), now_ns)
        for n in notices
    ]
