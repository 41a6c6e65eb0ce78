"""The execution service's working set: its open orders, written through to the registry.

Every change is saved in the registry first and only then taken into the working set, so what
the service acts on is never ahead of what a restart would find. Orders are handed out as
copies: a change is made on a copy, saved, then committed (``save``), never half applied.
"""

from __future__ import annotations

import copy as copy_module
from collections.abc import Iterable

from quantrail.execution.order import Order
from quantrail.execution.registry import OrderRegistry
from quantrail.vocab import OrderStatus


class WorkingOrders:
    def __init__(self, registry: OrderRegistry) -> None:
        self.registry = registry
        self._open: dict[str, Order] = {}

    def __len__(self) -> int:
        return len(self._open)

    def open(self) -> list[Order]:
        """Every open order (parked NEW ones included), oldest first; read them, never change
        them (``find`` gives a copy to change)."""
        return oldest_first(self._open.values())

    def at_venue(self) -> list[Order]:
        """Open orders that were sent (not NEW)."""
        return [order for order in self.open() if order.status is not OrderStatus.NEW]

    def parked(self) -> list[Order]:
        """Copies of the NEW orders, waiting for the order they replace to end."""
        return [copy(order) for order in self.open() if order.status is OrderStatus.NEW]

    async def load(self) -> list[Order]:
        """Every order of every account (for positions); the open ones become the working set."""
        everything: list[Order] = []
        for account in await self.registry.accounts():
            everything.extend(await self.registry.orders_for_account(account))
        self._open = {order.order_id: order for order in everything if order.is_open}
        return oldest_first(everything)

    async def find(self, order_id: str) -> Order | None:
        """A copy of the order, open or not (None when the registry never had it)."""
        found = self._open.get(order_id)
        return copy(found) if found is not None else await self.registry.get(order_id)

    async def create(self, order: Order, *, by_intent: bool = True) -> bool:
        """Create if absent (see the registry); False when it existed already."""
        _stored, created = await self.registry.create(order, by_intent=by_intent)
        if created:
            self._commit(order)
        return created

    async def save(self, order: Order) -> None:
        await self.registry.save(order)
        self._commit(order)

    def _commit(self, order: Order) -> None:
        if order.is_open:
            self._open[order.order_id] = copy(order)
        else:
            self._open.pop(order.order_id, None)

    async def latest_for_intent(self, intent_id: str) -> Order | None:
        """The intent's order, following replace links to the one that works now."""
        order_id, order, seen = await self.registry.order_id_for_intent(intent_id), None, set()
        while order_id and order_id not in seen:
            seen.add(order_id)
            found = await self.find(order_id)
            if found is None:
                break
            order, order_id = found, found.replaced_by_order_id
        return order

    async def blocked(self, order: Order) -> bool:
        """True while the order ``order`` replaces (or, through orders withdrawn unsent, an
        earlier one) is still open: a replacement waits for the cancel ack."""
        ref, seen = order.replaces_order_id, set()
        while ref and ref not in seen:
            seen.add(ref)
            if ref in self._open:
                return True
            prior = await self.registry.get(ref)
            if prior is None or prior.venue_order_id or prior.status is not OrderStatus.CANCELED:
                return False
            ref = prior.replaces_order_id
        return False


def oldest_first(orders: Iterable[Order]) -> list[Order]:
    return sorted(orders, key=lambda order: (order.created_ns, order.order_id))


def copy(order: Order) -> Order:
    """An order that shares nothing it could change with ``order``: its fields are immutable
    values but the list of fill ids, which is copied. Not through ``to_dict``/``from_dict``:
    the order was checked when made, and every fill takes a copy or two."""
    twin = copy_module.copy(order)
    twin.fill_ids = list(order.fill_ids)
    return twin
