"""The simulated gateway's book (pure): accounts, contracts, quotes, orders, executions, positions.

Everything a real gateway keeps between connections lives here, so a dropped connection or a
"restart as a new session" loses nothing the broker would have kept: orders work on, fills made
while nobody is connected are found by ``reqExecutions``. Matching is simple on purpose: a
MARKET order fills at once at the touch; a LIMIT order fills in full when the opposite touch
reaches its price (at its limit or better: the touch). Commission per share with a minimum.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from quantrail.ibkr.messages import Contract, Execution, OrderView, PlaceOrder

CENT = Decimal("0.01")
WORKING = frozenset({"PreSubmitted", "Submitted"})
DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})


class OrderRefused(ValueError):
    """IB's answer to a request it refuses: an error code and its text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True)
class Quote:
    bid: Decimal
    ask: Decimal
    bid_size: int = 500
    ask_size: int = 500
    last: Decimal | None = None
    last_size: int = 100


@dataclass(slots=True)
class SimOrder:
    request: PlaceOrder
    client_id: int
    perm_id: int
    contract: Contract
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)

    @property
    def remaining(self) -> Decimal:
        return self.request.total_quantity - self.filled

    def view(self) -> OrderView:
        avg = (self.notional / self.filled).quantize(Decimal("0.0001")) if self.filled else 0
        r = self.request
        return OrderView(
            order_id=r.order_id, client_id=self.client_id, perm_id=self.perm_id,
            contract=self.contract, action=r.action, total_quantity=r.total_quantity,
            order_type=r.order_type, lmt_price=r.lmt_price, aux_price=r.aux_price, tif=r.tif,
            account=r.account, order_ref=r.order_ref, status=self.status, filled=self.filled,
            remaining=self.remaining, avg_fill_price=Decimal(avg),
            last_fill_price=self.last_fill_price,
        )  # fmt: skip


@dataclass(slots=True)
class SimBook:
    accounts: list[str] = field(default_factory=lambda: ["DU0000001"])
    next_order_id: int = 1
    commission_per_share: Decimal = Decimal("0.005")
    min_commission: Decimal = Decimal("1.00")
    quotes: dict[str, Quote] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    orders: dict[int, SimOrder] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    positions: dict[tuple[str, str], tuple[Decimal, Decimal]] = field(default_factory=dict)
    _perm_ids: int = 1_000_000
    _exec_seq: int = 0
    _manual_ids: int = 0

    # --- market -----------------------------------------------------------------------------

    def contract(self, symbol: str, con_id: int = 0) -> Contract:
        if symbol not in self.contracts:
            digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:6], 16)
            self.contracts[symbol] = Contract(con_id=con_id or 100_000 + digest, symbol=symbol)
        return self.contracts[symbol]

    def quote(self, symbol: str) -> Quote:
        """The symbol's quote; an unknown stock gets a stable synthetic one ($10-$100)."""
        if symbol not in self.quotes:
            digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:8], 16)
            mid = Decimal(1000 + digest % 9000) / 100
            self.quotes[symbol] = Quote(bid=mid - CENT, ask=mid + CENT, last=mid)
        return self.quotes[symbol]

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> list[SimOrder]:
        """Move the market; returns the orders that became marketable (to fill)."""
        current = self.quote(symbol)
        current.bid, current.ask = bid, ask
        return [o for o in self.orders.values() if o.contract.symbol == symbol and self._crosses(o)]

    # --- orders -----------------------------------------------------------------------------

    def place(self, request: PlaceOrder, client_id: int) -> tuple[SimOrder, bool]:
        """A new order, or a modify of a working one (same id): (order, is_modify)."""
        existing = self.orders.get(request.order_id)
        if existing is not None:
            return self._modify(existing, request), True
        if request.order_id < self.next_order_id:
            raise OrderRefused(103, f"Duplicate order id {request.order_id}")
        self._check(request)
        self.next_order_id = request.order_id + 1
        self._perm_ids += 1
        order = SimOrder(request, client_id, self._perm_ids, self.contract(request.symbol))
        self.orders[request.order_id] = order
        return order, False

    def place_manual(
        self, account: str, symbol: str, action: str, qty: int, price: Decimal
    ) -> SimOrder:
        """An order "placed by hand in TWS": client id 0, its own negative order id."""
        self._manual_ids -= 1
        request = PlaceOrder(
            order_id=self._manual_ids, con_id=0, symbol=symbol, sec_type="STK",
            exchange="SMART", primary_exchange="", currency="USD", action=action,
            total_quantity=Decimal(qty), order_type="LMT", lmt_price=price, aux_price=None,
            tif="DAY", account=account, order_ref="",
        )  # fmt: skip
        self._perm_ids += 1
        order = SimOrder(request, 0, self._perm_ids, self.contract(symbol))
        self.orders[request.order_id] = order
        return order

    def cancel(self, order_id: int) -> SimOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderRefused(135, f"Can't find order with id ={order_id}")
        if order.status in DONE:
            raise OrderRefused(
                10148,
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                f"state: {order.status}.",
            )
        order.status = "Cancelled"
        return order

    def reject(self, order: SimOrder) -> None:
        order.status = "Inactive"

    def fill_if_marketable(self, order: SimOrder, now: datetime | None = None) -> Execution | None:
        if order.status not in WORKING or not self._crosses(order):
            return None
        quote = self.quote(order.contract.symbol)
        price = quote.ask if order.request.action == "BUY" else quote.bid
        return self.fill(order, order.remaining, price, now)

    def fill(
        self, order: SimOrder, qty: Decimal, price: Decimal, now: datetime | None = None
    ) -> Execution:
        """Execute ``qty`` of ``order`` at ``price`` (a partial fill when less than remaining)."""
        qty = min(qty, order.remaining)
        order.filled += qty
        order.notional += qty * price
        order.last_fill_price = price
        order.status = "Filled" if order.remaining == 0 else "Submitted"
        self._exec_seq += 1
        commission = max(self.min_commission, (qty * self.commission_per_share)).quantize(CENT)
        when = (now or datetime.now(UTC)).strftime("%Y%m%d  %H:%M:%S")
        average = (order.notional / order.filled).quantize(Decimal("0.0001"))
        request = order.request
        execution = Execution(
            exec_id=f"0000e0d5.{self._exec_seq:08x}.01.01", order_id=request.order_id,
            perm_id=order.perm_id, client_id=order.client_id, contract=order.contract,
            time=when, account=request.account or self.accounts[0], exchange="ISLAND",
            side="BOT" if request.action == "BUY" else "SLD", shares=qty, price=price,
            cum_qty=order.filled, avg_price=average,
            order_ref=request.order_ref, commission=commission,
        )  # fmt: skip
        self.executions.append(execution)
        self._book_position(execution)
        return execution

    def correct(
        self,
        exec_id: str,
        price: Decimal,
        commission: Decimal | None = None,
        shares: Decimal | None = None,
    ) -> Execution:
        """IB's correction of execution ``exec_id``: the same execution under the next revision
        after its final period (``...01.01`` -> ``...01.02``) with the corrected price (and
        commission, shares). Both stay in ``executions`` (``reqExecutions`` lists the day's)."""
        earlier = next(e for e in reversed(self.executions) if e.exec_id.startswith(
            exec_id.rpartition(".")[0] + "."))  # fmt: skip
        base, _dot, revision = earlier.exec_id.rpartition(".")
        qty = earlier.shares if shares is None else shares
        order = self.orders[earlier.order_id]
        order.filled += qty - earlier.shares
        order.notional += qty * price - earlier.shares * earlier.price
        average = (order.notional / order.filled).quantize(Decimal("0.0001"))
        corrected = dataclasses.replace(
            earlier, exec_id=f"{base}.{int(revision) + 1:02d}", shares=qty, price=price,
            cum_qty=earlier.cum_qty - earlier.shares + qty, avg_price=average,
            commission=earlier.commission if commission is None else commission,
        )  # fmt: skip
        back = "SLD" if earlier.side == "BOT" else "BOT"
        self._book_position(dataclasses.replace(earlier, side=back))  # taken back
        self._book_position(corrected)
        self.executions.append(corrected)
        return corrected

    def working(self) -> list[SimOrder]:
        return [order for order in self.orders.values() if order.status in WORKING]

    # --- internals --------------------------------------------------------------------------

    def _check(self, request: PlaceOrder) -> None:
        if request.action not in ("BUY", "SELL"):
            raise OrderRefused(201, f"Order rejected - reason:invalid action {request.action!r}")
        if request.total_quantity <= 0:
            raise OrderRefused(201, "Order rejected - reason:quantity must be positive")
        if request.order_type not in ("MKT", "LMT"):
            raise OrderRefused(387, f"Unsupported order type {request.order_type!r}")
        if request.order_type == "LMT" and request.lmt_price is None:
            raise OrderRefused(201, "Order rejected - reason:a limit order needs a price")
        if request.account and request.account not in self.accounts:
            raise OrderRefused(321, f"Account {request.account} is not managed here")

    def _modify(self, order: SimOrder, request: PlaceOrder) -> SimOrder:
        if order.status in DONE:
            raise OrderRefused(
                10147, f"OrderId {request.order_id} that needs to be modified is {order.status}"
            )
        if request.total_quantity < order.filled:
            raise OrderRefused(
                10326, f"quantity {request.total_quantity} is below the filled {order.filled}"
            )
        order.request = dataclasses.replace(
            order.request, total_quantity=request.total_quantity, lmt_price=request.lmt_price,
            order_type=request.order_type,
        )  # fmt: skip
        return order

    def _crosses(self, order: SimOrder) -> bool:
        if order.status not in WORKING:
            return False
        request = order.request
        if request.order_type == "MKT":
            return True
        quote = self.quote(order.contract.symbol)
        limit = request.lmt_price
        assert limit is not None
        return quote.ask <= limit if request.action == "BUY" else quote.bid >= limit

    def _book_position(self, execution: Execution) -> None:
        key = (execution.account, execution.contract.symbol)
        qty, cost = self.positions.get(key, (Decimal(0), Decimal(0)))
        signed = execution.shares if execution.side == "BOT" else -execution.shares
        new_qty = qty + signed
        if new_qty == 0:
            self.positions[key] = (Decimal(0), Decimal(0))
        elif qty == 0 or (qty > 0) == (signed > 0):
            self.positions[key] = (new_qty, (qty * cost + signed * execution.price) / new_qty)
        else:
            keep_cost = cost if (new_qty > 0) == (qty > 0) else execution.price
            self.positions[key] = (new_qty, keep_cost)
