"""What must hold after the execution phase, whatever a scenario expects (pure).

Read from the bus after the run (``observe.py``), checked here:

* every intent on ``trades.intent`` (distinct intent ids: a redelivered intent is one intent)
  has exactly one order: none lost, none duplicated. An order a replace made (named as the
  ``new_order_id`` of an ``OrderReplaced``) continues the order it replaced, so it is not a
  second order of the intent;
* no fill id appears twice (an event published twice over, equal in every field but its event
  id, is one fill; the same fill id with other figures is a duplicated fill, and one that its
  idempotency key would make consumers drop);
* the fills of an order never add up to more than its quantity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeenOrder:
    """One order id on ``trades.order``: its intent, its (latest) quantity."""

    order_id: str
    intent_id: str
    qty: int
    successor: bool = False  # made by a replace: the ``new_order_id`` of an OrderReplaced


@dataclass(frozen=True, slots=True)
class SeenFill:
    fill_id: str
    order_id: str
    qty: int


@dataclass(frozen=True, slots=True)
class Execution:
    """What the execution phase left on the bus."""

    intent_ids: tuple[str, ...] = ()
    orders: tuple[SeenOrder, ...] = ()
    fills: tuple[SeenFill, ...] = ()
    restarts: int = 0
    notes: tuple[str, ...] = ()  # problems of the run itself (a service that failed)

    def summary(self) -> str:
        restarted = f", {self.restarts} restart(s)" if self.restarts else ""
        return f"{len(self.orders)} orders, {len(self.fills)} fills{restarted}"


def execution_differences(run: Execution, labels: Mapping[str, str] | None = None) -> list[str]:
    """One line per broken invariant; ``labels`` names intents (id -> "SELL 100 PFA @ 24.99")."""
    diff = list(run.notes)
    diff.extend(_orders_per_intent(run, labels or {}))
    diff.extend(_duplicated_fills(run.fills))
    diff.extend(_overfills(run))
    return diff


def _orders_per_intent(run: Execution, labels: Mapping[str, str]) -> list[str]:
    made: dict[str, list[str]] = defaultdict(list)
    for order in run.orders:
        if order.intent_id and not order.successor:
            made[order.intent_id].append(order.order_id)
    diff: list[str] = []
    for intent_id in dict.fromkeys(run.intent_ids):
        named = f"intent {intent_id}" + (f" ({labels[intent_id]})" if intent_id in labels else "")
        orders = made.get(intent_id, [])
        if not orders:
            diff.append(f"order lost: {named} has no order")
        elif len(orders) > 1:
            diff.append(f"order duplicated: {named} has {len(orders)} orders: {', '.join(orders)}")
    return diff


def _duplicated_fills(fills: tuple[SeenFill, ...]) -> list[str]:
    counts = Counter(fill.fill_id for fill in fills)
    return [
        f"fill duplicated: fill id {fill_id} appears {times} times"
        for fill_id, times in counts.items()
        if times > 1
    ]


def _overfills(run: Execution) -> list[str]:
    filled: Counter[str] = Counter()
    for fill in run.fills:
        filled[fill.order_id] += fill.qty
    return [
        f"overfill: order {order.order_id} filled {filled[order.order_id]} of qty {order.qty}"
        for order in run.orders
        if filled[order.order_id] > order.qty
    ]
