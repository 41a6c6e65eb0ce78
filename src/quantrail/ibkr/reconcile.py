"""Reconciliation with the broker (pure): what we believe against what IB reports.

Run at every start and after every reconnect, before anything new is sent. Inputs are plain
records (ours from the order registry, theirs from ``reqOpenOrders``/``reqExecutions``/
``reqPositions``); the output says what to do:

- ``fills``: executions of our orders (matched by ``orderRef`` = our order id) that our order
  does not have yet — booked now, once (the fill id is IB's execId); a later revision of an
  execution we have is passed on too, as the venue books it as a correction. A corrected
  execution counts once toward what an order filled, at its latest revision.
- ``accepted``: our orders sent but never acknowledged that IB has: adopt them (no resend).
- ``unsent``: our orders sent but unknown to IB, with no execution either: IB never got them,
  so they may be sent again, under a new IB order id (an id is never reused).
- ``gone``: our working orders IB no longer has open and that are not fully filled: closed
  (canceled) on our side.
- ``external``: IB orders and executions that are not ours (placed by hand in TWS): tracked
  and alerted, never touched.
- ``position_mismatches``: per account and symbol, IB's position against ours: alerted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from quantrail.ibkr.exec_ids import exec_base, latest_revisions


@dataclass(frozen=True, slots=True)
class OurOrder:
    order_id: str
    acknowledged: bool  # IB acknowledged it before (we have its venue order id)
    qty: int
    filled_qty: int
    fill_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class IbOpenOrder:
    order_ref: str
    ib_order_id: int
    symbol: str
    action: str
    qty: int
    status: str


@dataclass(frozen=True, slots=True)
class IbExecution:
    exec_id: str
    order_ref: str
    ib_order_id: int
    account: str
    symbol: str
    side: str  # BOT | SLD
    shares: int
    price: Decimal
    commission: Decimal | None
    ts_ns: int


@dataclass(slots=True)
class Reconciliation:
    fills: list[IbExecution] = field(default_factory=list)
    accepted: list[tuple[str, int]] = field(default_factory=list)  # (our id, IB order id)
    unsent: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    external_orders: list[IbOpenOrder] = field(default_factory=list)
    external_fills: list[IbExecution] = field(default_factory=list)
    position_mismatches: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.fills or self.unsent or self.gone or self.external_orders
            or self.external_fills or self.position_mismatches
        )  # fmt: skip


def reconcile(
    ours: Iterable[OurOrder],
    open_orders: Iterable[IbOpenOrder],
    executions: Iterable[IbExecution],
    ib_positions: Mapping[tuple[str, str], int] | None = None,
    our_positions: Mapping[tuple[str, str], int] | None = None,
) -> Reconciliation:
    result = Reconciliation()
    mine = {order.order_id: order for order in ours}
    open_by_ref = {o.order_ref: o for o in open_orders if o.order_ref in mine}
    result.external_orders = [o for o in open_orders if o.order_ref not in mine]
    executed: dict[str, int] = {}
    executed_ib_id: dict[str, int] = {}
    seen: set[str] = set()
    executions = list(executions)
    # A corrected execution counts once, at its latest revision (IB's corrections replace).
    latest = latest_revisions([execution.exec_id for execution in executions])
    for execution in executions:
        if execution.exec_id in seen:
            continue  # IB may list an execution twice
        seen.add(execution.exec_id)
        order = mine.get(execution.order_ref)
        if order is None:
            result.external_fills.append(execution)
            continue
        if latest[exec_base(execution.exec_id)] == execution.exec_id:
            executed[order.order_id] = executed.get(order.order_id, 0) + execution.shares
        executed_ib_id[order.order_id] = execution.ib_order_id
        if execution.exec_id not in order.fill_ids:
            result.fills.append(execution)
    for order in mine.values():
        at_ib = open_by_ref.get(order.order_id)
        if at_ib is not None:
            if not order.acknowledged:
                result.accepted.append((order.order_id, at_ib.ib_order_id))
            continue
        filled = max(order.filled_qty, executed.get(order.order_id, 0))
        if not order.acknowledged and order.order_id not in executed:
            result.unsent.append(order.order_id)
            continue
        if not order.acknowledged:  # IB got it (it executed): adopt before its fills
            result.accepted.append((order.order_id, executed_ib_id[order.order_id]))
        if filled < order.qty:
            result.gone.append(order.order_id)
    result.position_mismatches = _mismatches(ib_positions or {}, our_positions or {})
    return result


def _mismatches(
    theirs: Mapping[tuple[str, str], int], ours: Mapping[tuple[str, str], int]
) -> list[tuple[str, str, int, int]]:
    keys = sorted(set(theirs) | set(ours))
    return [
        (account, symbol, theirs.get((account, symbol), 0), ours.get((account, symbol), 0))
        for account, symbol in keys
        if theirs.get((account, symbol), 0) != ours.get((account, symbol), 0)
    ]
