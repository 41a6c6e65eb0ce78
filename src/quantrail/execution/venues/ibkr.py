"""The Interactive Brokers venue, on ``ib_async``: our orders as IB orders, IB's reports as ours.

The execution service calls it like any venue (``submit``, ``cancel``, ``advance``); what IB
needs beyond that is here:

- **Ids.** Our order id travels in ``orderRef``; IB's order id comes from ``nextValidId`` and an
  id never used before, across restarts too (the high-water mark is kept through ``IdStore``
  before an id is sent, so a crash cannot make us reuse one).
- **Fills** come only from executions (``execDetails``), each held until its commission report
  arrives (the fee), emitted once per ``execId``; a repeated execId is dropped, a correction
  (same execution, next revision) is reported as a ``VenueFillCorrected`` of the fill as first
  booked once its own commission report is in, with a WARNING notice.
- **Statuses** map through ``ibkr_map.STATUS_TABLE``; a Cancelled while IB reports more filled
  than we have booked waits for those executions first, so no fill is lost behind a cancel.
- **Pacing**: every request goes through a ``Pacer`` (at most ``max_messages_per_s``).
- **Connection**: ``connect`` retries with the configured backoff; a loss pauses the pacer
  (orders queue, never dropped), raises a notice and the service shows DEGRADED; on reconnect
  ``reconcile`` runs before the queue moves again.

Notices (alerts for the service to publish) collect in ``notices``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Literal

from ib_async import IB, Contract, LimitOrder, MarketOrder, Trade
from ib_async import Order as IbOrder
from ib_async.objects import Fill

from quantrail.execution.order import Order
from quantrail.execution.venues.base import (
    RestingOrder,
    VenueCancelRejected,
    VenueFill,
    VenueReport,
)
from quantrail.execution.venues.ibkr_reports import IbReports, Notice, Sent
from quantrail.ibkr.config import IbkrConfig
from quantrail.ibkr.contracts import ContractBook
from quantrail.ibkr.exec_ids import exec_base
from quantrail.ibkr.pacer import Pacer
from quantrail.ibkr.reconcile import IbExecution, IbOpenOrder, OurOrder, Reconciliation, reconcile
from quantrail.vocab import OrderType, Side, TimeInForce

log = logging.getLogger("quantrail.ibkr")

NAME = "ibkr"
ID_BLOCK = 100
Severity = Literal["INFO", "WARNING", "ERROR", "CRITICAL"]


class IdStore:
    """Where the IB order id high-water mark lives (the service gives a durable one)."""

    def __init__(
        self,
        load: Callable[[], Awaitable[int]] | None = None,
        save: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._value = 0
        self._load, self._save = load, save

    async def load(self) -> int:
        return await self._load() if self._load else self._value

    async def save(self, value: int) -> None:
        self._value = value
        if self._save:
            await self._save(value)


class IbkrVenue:
    def __init__(
        self, config: IbkrConfig, ib: IB | None = None, ids: IdStore | None = None
    ) -> None:
        self.config = config
        self.ib = ib or IB()
        self.ids = ids or IdStore()
        self.pacer = Pacer(config.max_messages_per_s)
        self._contracts = ContractBook(config)
        self.book = IbReports()
        self.book.known = self.ib.wrapper.fills  # the executions a correction replaces
        self.our_positions: Callable[[], dict[tuple[str, str], int]] | None = None
        """Our positions by (IB account, symbol), for the reconciliation after a reconnect."""
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self.connected = False
        self._pending_execs: set[str] = set()
        self._fills: list[VenueFill] = []
        self._next_id = 0
        self._reserved = 0
        self._outbox: asyncio.Queue[Order] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._wire()

    @property
    def name(self) -> str:
        return NAME

    # --- connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect, retrying with the backoff; the high-water mark of ids is read. Nothing is
        sent until ``start_sending`` (after the caller restored its orders and reconciled)."""
        backoff = self.config.reconnect_backoff_s
        attempt = 0
        while True:
            try:
                await self.ib.connectAsync(
                    self.config.host, self.config.port, clientId=self.config.client_id,
                    timeout=self.config.connect_timeout_s,
                )  # fmt: skip
                break
            except (ConnectionError, OSError, TimeoutError) as exc:
                delay = backoff[min(attempt, len(backoff) - 1)]
                self.book.notice(
                    "connect", "ERROR",
                    f"IB gateway {self._where()} unreachable ({exc}); retrying in {delay:g}s",
                )  # fmt: skip
                attempt += 1
                await asyncio.sleep(delay)  # reconnect backoff: a wait by design
        self.connected = True
        stored = await self.ids.load()
        self._next_id = max(self.ib.client.getReqId(), stored + 1)
        await self._reserve()

    def start_sending(self) -> None:
        self.pacer.start()
        if self._worker is None:
            loop = asyncio.get_running_loop()
            self._worker = loop.create_task(self._send_loop(), name="ibkr-send")
        self.pacer.resume()

    async def _reconnect(self) -> None:
        """After a lost connection: connect, reconcile (fills made meanwhile are booked), then
        send what was held."""
        await self.connect()
        result = await self.reconcile(self.our_positions() if self.our_positions else None)
        if not result.clean:
            log.warning("IB reconciliation after reconnect: %s", result)
        self.book.notice("reconnected", "WARNING", f"IB gateway {self._where()} reconnected")
        self.start_sending()
        self._reconnecting = None

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        await self.pacer.stop()
        self.ib.disconnect()
        self.connected = False

    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    # --- the Venue protocol -------------------------------------------------------------------

    @property
    def notices(self) -> list[Notice]:
        return self.book.notices

    def venue_account(self, account: str) -> str:
        return self.config.ib_account(account)

    def submit(self, order: Order, now_ns: int) -> None:
        if order.order_id in self.book.orders:
            return
        if order.replaces_order_id and self.book.attach(order):
            return  # the successor of an in-place modify: the same IB order, nothing to send
        refusal = self._refusal(order)
        self.book.track(Sent(order))
        if refusal:
            self.book.now_ns = max(self.book.now_ns, now_ns)
            self.book.reject(self.book.orders[order.order_id], refusal)
            return
        self._outbox.put_nowait(order)

    def _refusal(self, order: Order) -> str:
        """What we refuse before IB sees it (a misconfiguration, named)."""
        if self.config.accounts and order.account not in self.config.accounts:
            return f"account {order.account!r} has no IB account in ibkr.accounts"
        return ""

    def restore(self, order: Order, now_ns: int) -> None:
        """An order of ours from before a restart: known, not sent again (``reconcile`` decides)."""
        if order.order_id in self.book.orders:
            return
        ib_id = int(order.venue_order_id) if order.venue_order_id.isdigit() else 0
        accepted = bool(order.venue_order_id)
        self.book.track(Sent(order, ib_id, accepted, reported_qty=order.filled_qty))
        self.book.remember(order.order_id, order.fill_ids)

    def remember_fills(self, order: Order) -> None:
        """An order of ours that ended before a restart: its fills are known here, so IB's
        later correction of one of them is booked as a correction, not taken for a stranger's
        execution. Nothing is sent; the order is not reconciled (it has ended)."""
        if order.order_id in self.book.orders:
            return
        ib_id = int(order.venue_order_id) if order.venue_order_id.isdigit() else 0
        ended = Sent(order, ib_id, accepted=True, ended=True, reported_qty=order.filled_qty)
        self.book.track(ended)
        self.book.remember(order.order_id, order.fill_ids)

    def modify(self, order_id: str, qty: int, limit_price: Decimal, now_ns: int) -> bool:
        """IB modifies by ``placeOrder`` again with the same order id; False (cancel, then
        new) when the order is not working at IB yet or was never sent here."""
        sent = self.book.orders.get(order_id)
        if sent is None or not sent.accepted or sent.ended or sent.contract is None:
            return False
        sent.modifying = (qty, limit_price)
        ib_order = self._ib_order(sent)
        ib_order.totalQuantity, ib_order.lmtPrice = qty, float(limit_price)
        self.pacer.submit(
            f"modify {order_id}", functools.partial(self._place, sent.contract, ib_order)
        )
        return True

    def cancel(self, order_id: str, now_ns: int) -> None:
        sent = self.book.orders.get(order_id)
        if sent is None or not sent.ib_order_id:
            report = VenueCancelRejected(order_id=order_id, reason="not at IB yet", ts_ns=now_ns)
            self.book.reports.append(report)
            return
        cancel = functools.partial(self._cancel_at_ib, self._ib_order(sent))
        self.pacer.submit(f"cancel {order_id}", cancel)

    def on_quote(
        self, symbol: str, bid: Decimal, ask: Decimal, bid_size: int, ask_size: int, now_ns: int
    ) -> None:
        """IB matches orders itself; our quotes are not needed here."""

    def on_trade(self, symbol: str, price: Decimal, size: int, now_ns: int) -> None:
        """IB matches orders itself."""

    def advance(self, now_ns: int) -> list[VenueReport]:
        self.book.now_ns = max(self.book.now_ns, now_ns)
        refused, self.book.fallback_cancels = self.book.fallback_cancels, []
        for order_id in refused:
            self.cancel(order_id, now_ns)
        self._collect_fills()
        reports = self.book.drain()
        self._fills.extend(r for r in reports if isinstance(r, VenueFill))
        return reports

    def fills(self) -> list[VenueFill]:
        """The executions of ours handed out this session (``FillRecord``), as reported."""
        return list(self._fills)

    def open_orders(self) -> list[RestingOrder]:
        return [
            RestingOrder(
                order_id=s.order.order_id,
                venue_order_id=str(s.ib_order_id),
                symbol=s.order.symbol,
                side=s.order.side,
                order_type=s.order.order_type,
                limit_price=s.order.limit_price,
                tif=s.order.tif,
                qty=s.order.qty,
                filled_qty=s.reported_qty,
            )
            for s in self.book.orders.values()
            if s.accepted and not s.ended
        ]

    def expire_all(self, now_ns: int) -> None:
        """IB expires DAY orders itself at the close; its Cancelled statuses end them here."""

    # --- sending ------------------------------------------------------------------------------

    async def _reserve(self) -> None:
        """Persist the high-water mark before using ids below it."""
        self._reserved = self._next_id + ID_BLOCK
        await self.ids.save(self._reserved)

    async def _send_loop(self) -> None:
        while True:
            order = await self._outbox.get()
            if self._next_id >= self._reserved:
                await self._reserve()
            sent = self.book.orders[order.order_id]
            sent.ib_order_id = self._next_id
            self._next_id += 1
            self.book.track(sent)
            try:
                contract = await self._contracts.qualified(self.ib, order.symbol)
            except ValueError as exc:
                self.book.reject(sent, str(exc))
                continue
            sent.contract = contract
            ib_order = self._ib_order(sent)
            place = functools.partial(self._place, contract, ib_order)
            self.pacer.submit(f"place {order.order_id}", place)

    def _place(self, contract: Contract, ib_order: IbOrder) -> None:
        self.ib.placeOrder(contract, ib_order)

    def _cancel_at_ib(self, ib_order: IbOrder) -> None:
        self.ib.cancelOrder(ib_order)

    def _ib_order(self, sent: Sent) -> IbOrder:
        order = sent.order
        action = "BUY" if order.side is Side.BUY else "SELL"
        ib_order: IbOrder
        if order.order_type is OrderType.LIMIT:
            assert order.limit_price is not None
            ib_order = LimitOrder(action, order.qty, float(order.limit_price))
        else:
            ib_order = MarketOrder(action, order.qty)
        ib_order.orderId = sent.ib_order_id
        ib_order.orderRef = order.order_id
        ib_order.tif = (
            "IOC"
            if order.tif is TimeInForce.IOC
            else "GTC"
            if order.tif is TimeInForce.GTC
            else "DAY"
        )
        ib_order.account = self.config.ib_account(order.account)
        return ib_order

    # --- IB's reports -------------------------------------------------------------------------

    def _wire(self) -> None:
        self.ib.orderStatusEvent += self._on_status
        self.ib.execDetailsEvent += self._on_exec
        self.ib.commissionReportEvent += self._on_commission
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected

    def _on_status(self, trade: Trade) -> None:
        self.book.on_status(trade)

    def _on_exec(self, trade: Trade, fill: Fill) -> None:
        self._pending_execs.add(fill.execution.execId)

    def _on_commission(self, trade: Trade, fill: Fill, report: Any) -> None:
        self._pending_execs.add(fill.execution.execId)

    def _collect_fills(self) -> None:
        fills = self.ib.wrapper.fills
        for exec_id in sorted(self._pending_execs):
            fill = fills.get(exec_id)
            if fill is None or fill.commissionReport.execId != exec_id:
                continue  # the commission report (the fee) has not come yet
            if self.book.book(fill):
                self._pending_execs.discard(exec_id)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        trade = self.ib.wrapper.trades.get((self.ib.wrapper.clientId, req_id))
        self.book.on_error(req_id, code, message, trade)

    def _on_disconnected(self) -> None:
        self.connected = False
        self.pacer.pause()
        if self._closing:
            return
        held = self.pacer.labels()
        count = len(held) + self._outbox.qsize()
        self.book.notice(
            "disconnected", "ERROR",
            f"IB gateway {self._where()} connection lost; holding {count} requests; reconnecting",
            {"held": held, "orders_not_yet_numbered": self._outbox.qsize()},
        )  # fmt: skip
        if self._reconnecting is None:
            loop = asyncio.get_running_loop()
            self._reconnecting = loop.create_task(self._reconnect(), name="ibkr-reconnect")

    # --- reconciliation -----------------------------------------------------------------------

    async def reconcile(
        self, our_positions: dict[tuple[str, str], int] | None = None
    ) -> Reconciliation:
        """Compare our orders with IB's open orders, today's executions and positions; book
        missing fills, adopt acknowledged orders, close orders IB no longer has, and send again
        only what IB never received."""
        trades = await self.ib.reqAllOpenOrdersAsync()
        fills = await self.ib.reqExecutionsAsync()
        positions = await self.ib.reqPositionsAsync()
        booked = set(self.book.emitted.values())
        ours = [
            OurOrder(
                s.order.order_id,
                s.accepted,
                s.order.qty,
                s.reported_qty,
                frozenset(s.order.fill_ids) | booked,
            )
            for s in self.book.orders.values()
            if not s.ended
        ]
        ib_positions = {(p.account, p.contract.symbol): int(p.position) for p in positions}
        opened, executed = [open_order_of(t) for t in trades], [execution_of(f) for f in fills]
        result = reconcile(ours, opened, executed, ib_positions, our_positions)
        self._apply(result, {f.execution.execId: f for f in fills})
        return result

    def _apply(self, result: Reconciliation, fills: dict[str, Fill]) -> None:
        book = self.book
        for our_id, ib_id in result.accepted:
            book.accept(book.orders[our_id], ib_id)
        # Executions of orders that ended before a restart are not reconciled, but a later
        # revision of one of their fills is IB's correction of it: booked as one.
        revisions = [e for e in result.external_fills if exec_base(e.exec_id) in book.emitted]
        for execution in [*result.fills, *revisions]:
            if execution.commission is None:  # the fee is not in yet: booked when it is
                self._pending_execs.add(execution.exec_id)
            else:
                book.book(fills[execution.exec_id])
        for our_id in result.gone:
            book.gone(book.orders[our_id], "IB no longer has it")
        for our_id in result.unsent:
            self._outbox.put_nowait(book.orders[our_id].order)
        for external in result.external_orders:
            book.notice(
                f"external_order:{external.ib_order_id}", "WARNING",
                f"IB order {external.ib_order_id} ({external.action} {external.qty} "
                f"{external.symbol}) is not ours: tracked as external",
                dataclasses.asdict(external),
            )  # fmt: skip
        for account, symbol, theirs, ours in result.position_mismatches:
            book.notice(
                f"position:{account}:{symbol}", "WARNING",
                f"position mismatch {account} {symbol}: IB {theirs}, ours {ours}",
                {"account": account, "symbol": symbol, "ib": theirs, "ours": ours},
            )  # fmt: skip


def open_order_of(trade: Trade) -> IbOpenOrder:
    order = trade.order
    return IbOpenOrder(
        order_ref=order.orderRef,
        ib_order_id=order.orderId,
        symbol=trade.contract.symbol,
        action=order.action,
        qty=int(order.totalQuantity),
        status=trade.orderStatus.status,
    )


def execution_of(fill: Fill) -> IbExecution:
    e = fill.execution
    commission = fill.commissionReport.commission if fill.commissionReport.execId else None
    return IbExecution(
        exec_id=e.execId,
        order_ref=e.orderRef,
        ib_order_id=e.orderId,
        account=e.acctNumber,
        symbol=fill.contract.symbol,
        side=e.side,
        shares=int(e.shares),
        price=Decimal(str(e.price)),
        commission=None if commission is None else Decimal(str(commission)),
        ts_ns=int(e.time.timestamp() * 1_000_000_000) if e.time else 0,
    )
