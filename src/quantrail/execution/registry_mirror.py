"""The order registry with this process's own copy of every order it made, so that a Redis that
lost its memory loses none of them.

``MirroredRegistry`` wraps the registry the execution service writes through. Every order it
creates or saves is kept here too (its last state, as the registry stored it). Reads that find
nothing in the registry for an order this copy holds, and a ``save`` the registry refuses with
"never created", are the registry having lost it: the order is noted in ``missing`` (the
execution service then raises the alert and reconciles) and served from the copy, and a save
writes the order back before saving it. ``restore`` writes back every order the registry lost.

Kept for as long as the process runs: one small dict per order (a day is a few thousand).
"""

from __future__ import annotations

from quantrail.execution.order import Order, order_id_for_intent
from quantrail.execution.registry import OrderRegistry


class MirroredRegistry:
    """An ``OrderRegistry`` over ``inner``, with the process's copy of the orders it wrote."""

    def __init__(self, inner: OrderRegistry) -> None:
        self.inner = inner
        self._orders: dict[str, dict[str, str]] = {}  # order id -> Order.to_dict()
        self._indexed: dict[str, bool] = {}  # order id -> created under its intent id
        self._by_intent: dict[str, str] = {}  # intent id -> order id (orders created by intent)
        self.missing: set[str] = set()
        """Orders this process holds that the registry was found not to know (since the last
        ``restore``)."""

    # --- what this process holds --------------------------------------------------------------

    def held(self, order_id: str) -> Order | None:
        """This process's last copy of the order, or None."""
        kept = self._orders.get(order_id)
        return None if kept is None else Order.from_dict(kept)

    def held_ids(self) -> list[str]:
        return list(self._orders)

    def _keep(self, order: Order, by_intent: bool | None = None) -> None:
        self._orders[order.order_id] = order.to_dict()
        if by_intent is not None:
            self._indexed.setdefault(order.order_id, by_intent)
            if by_intent:
                self._by_intent.setdefault(order.intent_id, order.order_id)

    async def restore(self) -> list[str]:
        """Write back every held order the registry no longer has (oldest first, each under its
        intent as it was created); the ids written back."""
        held = sorted(self._orders.values(), key=lambda d: (int(d["created_ns"]), d["order_id"]))
        written: list[str] = []
        for kept in held:
            order = Order.from_dict(kept)
            by_intent = self._indexed.get(order.order_id, True)
            _stored, created = await self.inner.create(order, by_intent=by_intent)
            if created:
                written.append(order.order_id)
        self.missing.clear()
        return written

    # --- the OrderRegistry protocol -------------------------------------------------------------

    async def create(self, order: Order, *, by_intent: bool = True) -> tuple[Order, bool]:
        known = self._by_intent.get(order.intent_id) if by_intent else None
        if known is not None:  # never a second order for an intent, even in an emptied Redis
            existing = await self.get(known)
            if existing is not None:
                return existing, False
        stored, created = await self.inner.create(order, by_intent=by_intent)
        self._keep(stored, by_intent if created else None)
        return stored, created

    async def save(self, order: Order) -> None:
        try:
            await self.inner.save(order)
        except KeyError:
            if order.order_id not in self._orders:
                raise
            self.missing.add(order.order_id)
            by_intent = self._indexed.get(order.order_id, True)
            await self.inner.create(order, by_intent=by_intent)  # written back as it is now
            await self.inner.save(order)
        self._keep(order)

    async def get(self, order_id: str) -> Order | None:
        found = await self.inner.get(order_id)
        if found is None and order_id in self._orders:
            self.missing.add(order_id)
            return self.held(order_id)
        return found

    async def order_id_for_intent(self, intent_id: str) -> str | None:
        found = await self.inner.order_id_for_intent(intent_id)
        if found is None and intent_id in self._by_intent:
            self.missing.add(self._by_intent[intent_id])
            return self._by_intent[intent_id]
        return found

    async def open_orders(self, account: str) -> list[Order]:
        return await self.inner.open_orders(account)

    async def orders_for_account(self, account: str) -> list[Order]:
        """Read at start (every order of the account): kept, they are this process's now."""
        found = await self.inner.orders_for_account(account)
        for order in found:
            self._keep(order, order.order_id == order_id_for_intent(order.intent_id))
        return found

    async def orders_for_symbol(self, symbol: str) -> list[Order]:
        return await self.inner.orders_for_symbol(symbol)

    async def accounts(self) -> list[str]:
        return await self.inner.accounts()

    async def load_open(self) -> list[Order]:
        return await self.inner.load_open()


def as_registry(registry: MirroredRegistry) -> OrderRegistry:
    """Typed view (mypy checks the protocol here once)."""
    return registry
