"""The simulated venue's orders: one order as the venue works it, and the index of working ones.

The venue's cost per quote must not grow with its history (issue 14): a quote touches only
``WorkingIndex``, which holds the orders still working, per symbol, in arrival order and per
side in priority order (market orders first, then best limit, then arrival). An order leaves it
the moment it ends (filled, canceled, expired, rejected); what the venue must still know of an
ended order (its final state and venue order id, to refuse a late cancel with the right reason
and to ignore a retried submit) is a small ``Ended`` record kept apart, looked up by id only.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterator, KeysView
from decimal import Decimal
from typing import Literal

from quantrail.money import ZERO
from quantrail.vocab import Mode, OrderType, Side, TimeInForce

State = Literal["open", "filled", "canceled", "expired", "rejected"]
Rank = tuple[int, Decimal, int]


@dataclasses.dataclass(slots=True, kw_only=True, eq=False)
class SimOrder:
    """One order at the venue; compared by identity (its ``order_id`` is unique)."""

    order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    qty: int
    mode: Mode
    seq: int
    filled_qty: int = 0
    fees_paid: Decimal = ZERO
    fill_count: int = 0
    state: State = "open"
    rank: Rank = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        # Market orders first, then best limit (highest buy, lowest sell), then arrival. A
        # venue order's terms never change (a replace is a new order), so it is computed once.
        if self.limit_price is None:
            self.rank = (0, ZERO, self.seq)
        else:
            price = -self.limit_price if self.side is Side.BUY else self.limit_price
            self.rank = (1, price, self.seq)

    @property
    def leaves(self) -> int:
        return self.qty - self.filled_qty


@dataclasses.dataclass(frozen=True, slots=True)
class Ended:
    """What the venue keeps of an order that has ended."""

    state: State
    venue_order_id: str


def _rank(sim: SimOrder) -> Rank:
    return sim.rank


@dataclasses.dataclass(slots=True)
class _SymbolOrders:
    arrival: dict[str, SimOrder] = dataclasses.field(default_factory=dict)
    buys: list[SimOrder] = dataclasses.field(default_factory=list)
    sells: list[SimOrder] = dataclasses.field(default_factory=list)

    def queue(self, side: Side) -> list[SimOrder]:
        return self.buys if side is Side.BUY else self.sells


class WorkingIndex:
    """The working orders: by id, by symbol in arrival order, by symbol and side by priority."""

    def __init__(self) -> None:
        self._by_id: dict[str, SimOrder] = {}
        self._by_symbol: dict[str, _SymbolOrders] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[SimOrder]:
        """Every working order in arrival order (a copy: the caller may end orders)."""
        return iter(list(self._by_id.values()))

    def get(self, order_id: str) -> SimOrder | None:
        return self._by_id.get(order_id)

    def add(self, sim: SimOrder) -> None:
        self._by_id[sim.order_id] = sim
        orders = self._by_symbol.setdefault(sim.symbol, _SymbolOrders())
        orders.arrival[sim.order_id] = sim
        bisect.insort(orders.queue(sim.side), sim, key=_rank)

    def remove(self, sim: SimOrder) -> None:
        """Take an order out (nothing happens for one that is not in)."""
        if self._by_id.pop(sim.order_id, None) is None:
            return
        orders = self._by_symbol[sim.symbol]
        del orders.arrival[sim.order_id]
        queue = orders.queue(sim.side)
        at = bisect.bisect_left(queue, sim.rank, key=_rank)  # ranks are unique (seq)
        del queue[at]
        if not orders.arrival:
            del self._by_symbol[sim.symbol]

    def has(self, symbol: str) -> bool:
        """Whether an order of ``symbol`` works."""
        return symbol in self._by_symbol

    def symbols(self) -> KeysView[str]:
        """The symbols with an order working (a live view)."""
        return self._by_symbol.keys()

    def of_symbol(self, symbol: str) -> list[SimOrder]:
        """The symbol's working orders in arrival order (a copy)."""
        orders = self._by_symbol.get(symbol)
        return [] if orders is None else list(orders.arrival.values())

    def by_priority(self, symbol: str, side: Side) -> list[SimOrder]:
        """The symbol's working orders on ``side``, best first (a copy)."""
        orders = self._by_symbol.get(symbol)
        return [] if orders is None else list(orders.queue(side))
