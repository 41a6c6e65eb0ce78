"""``quantrail reconcile ACCOUNT``: our orders, fills and positions against what IB reports.

It connects with its own client id (``ibkr.client_id + 200``: it never takes the execution
service's), reads IB's open orders, today's executions and positions, and compares them with
the order registry and the account's positions (its baseline file plus today's fills in the
registry), through the same ``reconcile`` the venue runs. It only reads: nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from ib_async import IB

from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.execution.order import Order
from quantrail.execution.registry import registry_for
from quantrail.execution.venues.ibkr import execution_of, open_order_of
from quantrail.ibkr.reconcile import IbExecution, IbOpenOrder, OurOrder, Reconciliation, reconcile
from quantrail.risk.baseline import load_baseline

REPORT_CLIENT_OFFSET = 200


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    account: str
    ib_account: str
    ours: list[Order]
    ib_open: list[IbOpenOrder]
    ib_executions: list[IbExecution]
    result: Reconciliation


async def build_report(config: Config, bus: EventBus, account: str) -> ReconcileReport:
    ib_account = config.ibkr.ib_account(account)
    orders = await registry_for(bus).orders_for_account(account)
    ib = IB()
    await ib.connectAsync(
        config.ibkr.host, config.ibkr.port,
        clientId=config.ibkr.client_id + REPORT_CLIENT_OFFSET,
        timeout=config.ibkr.connect_timeout_s, readonly=True,
    )  # fmt: skip
    try:
        trades = await ib.reqAllOpenOrdersAsync()
        fills = await ib.reqExecutionsAsync()
        positions = await ib.reqPositionsAsync()
    finally:
        ib.disconnect()
    ib_open = [open_order_of(t) for t in trades]
    ib_executions = [e for e in (execution_of(f) for f in fills) if e.account == ib_account]
    theirs = {
        (p.account, p.contract.symbol): int(p.position)
        for p in positions
        if p.account == ib_account
    }
    ours_orders = [
        OurOrder(o.order_id, bool(o.venue_order_id), o.qty, o.filled_qty, frozenset(o.fill_ids))
        for o in orders
    ]
    result = reconcile(
        ours_orders, ib_open, ib_executions, theirs, our_positions(config, account, orders)
    )
    return ReconcileReport(account, ib_account, orders, ib_open, ib_executions, result)


def our_positions(config: Config, account: str, orders: list[Order]) -> dict[tuple[str, str], int]:
    """The account's baseline plus the fills of its orders, keyed by (IB account, symbol)."""
    ib_account = config.ibkr.ib_account(account)
    held: dict[str, int] = {}
    settings = next((a for a in config.risk.accounts if a.name == account), None)
    if settings is not None and settings.baseline:
        for position in load_baseline(settings.baseline):
            held[position.symbol] = held.get(position.symbol, 0) + position.qty
    for order in orders:
        held[order.symbol] = held.get(order.symbol, 0) + order.side.sign * order.filled_qty
    return {(ib_account, symbol): qty for symbol, qty in held.items() if qty}
