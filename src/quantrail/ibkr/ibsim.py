"""``quantrail ibsim``: a small IB Gateway that speaks the TWS API wire protocol.

It accepts real clients (``ib_async``, IB's own ``ibapi``) on a TCP port: the handshake,
``nextValidId`` and ``managedAccounts``, orders answered with ``openOrder``/``orderStatus``/
``execDetails``/``commissionReport``, the start-up requests clients make (positions, open and
completed orders, executions, account updates), and L1 market data. The book lives in
``SimBook``, so it outlives connections. Faults are scripted through ``Faults`` (and the CLI's
``--fault``): drop the connection after N messages, execDetails before orderStatus, a repeated
execId, a rejection code, a restart as a new session, an order "placed by hand", an execution
corrected by IB (``correct_price``; ``correct`` drives one by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from quantrail.ibkr import messages as msg
from quantrail.ibkr.messages import In
from quantrail.ibkr.sim_book import OrderRefused, SimBook, SimOrder
from quantrail.ibkr.wire import (
    Field,
    ProtocolError,
    frame,
    frame_text,
    negotiate,
    read_frame,
    read_handshake,
    split_fields,
)

log = logging.getLogger("quantrail.ibsim")

BID, ASK, LAST, BID_SIZE, ASK_SIZE, LAST_SIZE = 1, 2, 4, 0, 3, 5


@dataclass(slots=True)
class Faults:
    """Scripted misbehaviour. Counters are per connection; ``reject_code`` applies to every new
    order until cleared."""

    drop_after_messages: int | None = None
    exec_before_status: bool = False
    repeat_exec_id: bool = False
    reject_code: int | None = None
    hold_fills: bool = False
    """Working orders do not fill at once (tests drive fills with ``fill``)."""
    refuse_modify: int | None = None
    """A modify (``placeOrder`` again with a working order's id) is refused with this error
    code; the order works on unchanged."""
    correct_price: Decimal | None = None
    """Every execution is corrected right after its commission report: a second execDetails
    under the next execId revision (``...01.01`` -> ``...01.02``) at this price, with its own
    commissionReport (``correct_commission``, else the first one's)."""
    correct_commission: Decimal | None = None
    silent: bool = False
    """New orders are taken into the book but not answered (a crash or a link loss right
    after ``placeOrder`` went out: did the order get there?)."""


@dataclass(slots=True)
class Session:
    client_id: int
    writer: asyncio.StreamWriter
    sent: int = 0
    closed: bool = False
    market_data: dict[int, str] = field(default_factory=dict)  # reqId -> symbol
    tick_by_tick: dict[int, str] = field(default_factory=dict)  # reqId -> symbol (AllLast)


_Handler = Callable[[Session, list[str]], Awaitable[None]]


class IbGatewaySimulator:
    def __init__(
        self, book: SimBook | None = None, faults: Faults | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.book = book or SimBook()
        self.faults = faults or Faults()
        self.host = host
        self.port = 0
        self.sessions: list[Session] = []
        self.received: list[tuple[float, list[str]]] = []
        """Every client message with its arrival time (monotonic seconds), for pacing checks."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.refusing = False
        """While True new connections are closed at once (a gateway that is down)."""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> IbGatewaySimulator:
        self._server = await asyncio.start_server(self._serve, self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("ibsim listening on %s:%d", self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def drop_all(self) -> None:
        """Close every client connection ("restart as a new session"); the book stays."""
        for session in list(self.sessions):
            session.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await session.writer.wait_closed()
        self.sessions.clear()

    # --- what tests and the CLI drive -----------------------------------------------------------

    async def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move the market: marketable orders fill, subscribers get ticks."""
        for order in self.book.set_quote(symbol, bid, ask):
            if not self.faults.hold_fills:
                await self._fill(order, self.book.fill_if_marketable(order))
        for session in self.sessions:
            for req_id, subscribed in session.market_data.items():
                if subscribed == symbol:
                    await self._send_quote(session, req_id, symbol, with_last=False)

    async def print_trade(
        self, symbol: str, price: Decimal, size: int, exchange: str = "NYSE", conditions: str = ""
    ) -> None:
        """A print on the tape: the last price moves, ``AllLast`` subscribers get it."""
        quote = self.book.quote(symbol)
        quote.last, quote.last_size = price, size
        now_s = int(time.time())
        for session in list(self.sessions):
            for req_id, subscribed in session.tick_by_tick.items():
                if subscribed == symbol:
                    tick = msg.tick_by_tick_last(req_id, now_s, price, size, exchange, conditions)
                    await self._send(session, tick)
            for req_id, subscribed in session.market_data.items():
                if subscribed == symbol:
                    await self._send(session, msg.tick_price(req_id, LAST, price, size))

    async def fill(self, order_id: int, qty: int, price: Decimal) -> None:
        order = self.book.orders[order_id]
        await self._fill(order, self.book.fill(order, Decimal(qty), price))

    async def correct(
        self,
        exec_id: str,
        price: Decimal,
        commission: Decimal | None = None,
        shares: int | None = None,
    ) -> msg.Execution:
        """IB corrects execution ``exec_id``: the next revision, sent with its commission
        report to the order's owners (as live executions are)."""
        corrected = self.book.correct(
            exec_id, price, commission, None if shares is None else Decimal(shares)
        )
        await self.send_execution(corrected)
        return corrected

    async def send_execution(self, execution: msg.Execution) -> None:
        """An execution (again) with its commission report, to its order's owners."""
        order = self.book.orders[execution.order_id]
        for session in self._owners(order):
            await self._send(session, msg.exec_details(-1, execution))
            await self._send(
                session, msg.commission_report(execution.exec_id, execution.commission)
            )

    async def place_manual(
        self, account: str, symbol: str, action: str, qty: int, price: Decimal
    ) -> SimOrder:
        order = self.book.place_manual(account, symbol, action, qty, price)
        for session in self.sessions:
            if session.client_id == 0:
                await self._send(session, msg.open_order(order.view()))
                await self._send(session, msg.order_status(order.view()))
        return order

    # --- connection -----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        session: Session | None = None
        if self.refusing:
            writer.close()
            return
        try:
            low, high, _options = await read_handshake(reader)
            version = negotiate(low, high)
            stamp = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S") + " Greenwich Mean Time"
            writer.write(frame_text(f"{version}\0{stamp}\0".encode()))
            await writer.drain()
            while True:
                fields = split_fields(await read_frame(reader))
                self.received.append((time.monotonic(), fields))
                if session is None:
                    session = await self._start_api(fields, writer)
                else:
                    await self._handle(session, fields)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        except ProtocolError as exc:
            log.warning("ibsim: dropping a client: %s", exc)
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()

    async def _start_api(self, fields: list[str], writer: asyncio.StreamWriter) -> Session:
        if not fields or fields[0] != str(int(In.START_API)):
            raise ProtocolError(f"expected startApi (71) first, got {fields[:1]}")
        session = Session(client_id=int(fields[2] or 0), writer=writer)
        self.sessions.append(session)
        await self._send(session, msg.next_valid_id(self.book.next_order_id))
        await self._send(session, msg.managed_accounts(self.book.accounts))
        return session

    async def _send(self, session: Session, fields: Sequence[Field]) -> None:
        """Send to one client. A dropped client misses the message, as with a real gateway:
        the book goes on (orders work and fill) and a reconnecting client asks again."""
        if session.closed:
            return
        drop_after = self.faults.drop_after_messages
        if drop_after is not None and session.sent >= drop_after:
            log.info(
                "ibsim fault: dropping client %d after %d messages", session.client_id, session.sent
            )
            self._close(session)
            return
        session.writer.write(frame(fields))
        session.sent += 1
        try:
            await session.writer.drain()
        except (ConnectionError, OSError):
            self._close(session)

    def _close(self, session: Session) -> None:
        session.closed = True
        if session in self.sessions:
            self.sessions.remove(session)
        session.writer.close()

    # --- requests -------------------------------------------------------------------------------

    async def _handle(self, session: Session, fields: list[str]) -> None:
        try:
            kind = In(int(fields[0]))
        except ValueError:
            log.info("ibsim: ignoring message id %s", fields[:1])
            return
        handler = self._handlers().get(kind)
        if handler is not None:
            await handler(session, fields)

    def _handlers(self) -> dict[In, _Handler]:
        return {
            In.PLACE_ORDER: self._place_order,
            In.CANCEL_ORDER: self._cancel_order,
            In.REQ_IDS: self._req_ids,
            In.REQ_OPEN_ORDERS: self._open_orders,
            In.REQ_ALL_OPEN_ORDERS: self._open_orders,
            In.REQ_AUTO_OPEN_ORDERS: _ignore,
            In.REQ_EXECUTIONS: self._executions,
            In.REQ_POSITIONS: self._positions,
            In.REQ_COMPLETED_ORDERS: self._completed_orders,
            In.REQ_ACCOUNT_UPDATES: self._account_updates,
            In.REQ_ACCOUNT_UPDATES_MULTI: self._account_updates_multi,
            In.REQ_MKT_DATA: self._market_data,
            In.CANCEL_MKT_DATA: self._cancel_market_data,
            In.REQ_MARKET_DATA_TYPE: self._market_data_type,
            In.REQ_MANAGED_ACCTS: self._managed_accounts,
            In.REQ_CONTRACT_DETAILS: self._contract_details,
            In.REQ_TICK_BY_TICK: self._tick_by_tick,
            In.CANCEL_TICK_BY_TICK: self._cancel_tick_by_tick,
        }

    async def _place_order(self, session: Session, fields: list[str]) -> None:
        request = msg.PlaceOrder.parse(fields)
        code = self.faults.refuse_modify
        if code is not None and request.order_id in self.book.orders:
            await self._send(session, msg.error(request.order_id, code, "Order modify refused"))
            return
        try:
            order, _modified = self.book.place(request, session.client_id)
        except OrderRefused as refused:
            await self._send(session, msg.error(request.order_id, refused.code, refused.message))
            return
        if self.faults.silent:
            return
        if self.faults.reject_code is not None:
            self.book.reject(order)
            code = self.faults.reject_code
            await self._send(
                session, msg.error(request.order_id, code, f"Order rejected - code {code}")
            )
            await self._send(session, msg.order_status(order.view()))
            return
        opened = [msg.open_order(order.view()), msg.order_status(order.view())]
        execution = None if self.faults.hold_fills else self.book.fill_if_marketable(order)
        for message in opened:
            await self._send(session, message)
        await self._fill(order, execution)

    async def _fill(self, order: SimOrder, execution: msg.Execution | None) -> None:
        if execution is None:
            return
        for session in self._owners(order):
            details = [msg.exec_details(-1, execution)]
            if self.faults.repeat_exec_id:
                details.append(details[0])
            report = msg.commission_report(execution.exec_id, execution.commission)
            status = [msg.open_order(order.view()), msg.order_status(order.view())]
            ordered = (
                [*details, report, *status]
                if self.faults.exec_before_status
                else [*status, *details, report]
            )
            for fields in ordered:
                await self._send(session, fields)
        price = self.faults.correct_price
        if price is not None:
            await self.correct(execution.exec_id, price, self.faults.correct_commission)

    def _owners(self, order: SimOrder) -> list[Session]:
        return [s for s in self.sessions if s.client_id in (order.client_id, 0)]

    async def _cancel_order(self, session: Session, fields: list[str]) -> None:
        order_id = int(fields[2])
        try:
            order = self.book.cancel(order_id)
        except OrderRefused as refused:
            await self._send(session, msg.error(order_id, refused.code, refused.message))
            return
        await self._send(session, msg.order_status(order.view()))
        await self._send(session, msg.error(order_id, 202, "Order Canceled - reason:"))

    async def _req_ids(self, session: Session, fields: list[str]) -> None:
        await self._send(session, msg.next_valid_id(self.book.next_order_id))

    async def _open_orders(self, session: Session, fields: list[str]) -> None:
        for order in self.book.working():
            await self._send(session, msg.open_order(order.view()))
            await self._send(session, msg.order_status(order.view()))
        await self._send(session, msg.open_order_end())

    async def _executions(self, session: Session, fields: list[str]) -> None:
        req_id = int(fields[2])
        for execution in self.book.executions:
            await self._send(session, msg.exec_details(req_id, execution))
            await self._send(
                session, msg.commission_report(execution.exec_id, execution.commission)
            )
        await self._send(session, msg.exec_details_end(req_id))

    async def _positions(self, session: Session, fields: list[str]) -> None:
        for (account, symbol), (qty, cost) in self.book.positions.items():
            contract = self.book.contract(symbol)
            await self._send(session, msg.position(account, contract, qty, cost))
        await self._send(session, msg.position_end())

    async def _completed_orders(self, session: Session, fields: list[str]) -> None:
        await self._send(session, msg.completed_orders_end())

    async def _account_updates(self, session: Session, fields: list[str]) -> None:
        account = fields[3] if len(fields) > 3 and fields[3] else self.book.accounts[0]
        await self._send(session, msg.account_download_end(account))

    async def _account_updates_multi(self, session: Session, fields: list[str]) -> None:
        await self._send(session, msg.account_update_multi_end(int(fields[2])))

    async def _contract_details(self, session: Session, fields: list[str]) -> None:
        """reqContractDetails v8: reqId, then the contract (conId, symbol, secType, ...)."""
        req_id, con_id, symbol = int(fields[2]), int(fields[3] or 0), fields[4]
        if not symbol and not con_id:
            await self._send(session, msg.error(req_id, 200, "No security definition found"))
            return
        known = next((c for c in self.book.contracts.values() if c.con_id == con_id), None)
        contract = known if con_id and known else self.book.contract(symbol, con_id)
        await self._send(session, msg.contract_details(req_id, contract))
        await self._send(session, msg.contract_details_end(req_id))

    async def _managed_accounts(self, session: Session, fields: list[str]) -> None:
        await self._send(session, msg.managed_accounts(self.book.accounts))

    async def _market_data(self, session: Session, fields: list[str]) -> None:
        """reqMktData v11: version, reqId, then the contract (conId, symbol, ...)."""
        req_id, symbol = int(fields[2]), fields[4]
        session.market_data[req_id] = symbol
        await self._send_quote(session, req_id, symbol)

    async def _tick_by_tick(self, session: Session, fields: list[str]) -> None:
        """reqTickByTickData: reqId, then the contract (conId, symbol, ...), the tick type."""
        session.tick_by_tick[int(fields[1])] = fields[3]

    async def _cancel_tick_by_tick(self, session: Session, fields: list[str]) -> None:
        session.tick_by_tick.pop(int(fields[1]), None)

    async def _cancel_market_data(self, session: Session, fields: list[str]) -> None:
        session.market_data.pop(int(fields[2]), None)

    async def _market_data_type(self, session: Session, fields: list[str]) -> None:
        await self._send(session, msg.market_data_type(-1, int(fields[2])))

    async def _send_quote(
        self, session: Session, req_id: int, symbol: str, *, with_last: bool = True
    ) -> None:
        """The touch; the last print too on a new subscription (a snapshot), not on every
        quote change (a print is ``print_trade``'s)."""
        quote = self.book.quote(symbol)
        await self._send(session, msg.tick_price(req_id, BID, quote.bid, quote.bid_size))
        await self._send(session, msg.tick_price(req_id, ASK, quote.ask, quote.ask_size))
        if with_last and quote.last is not None:
            await self._send(session, msg.tick_price(req_id, LAST, quote.last, quote.last_size))


async def _ignore(session: Session, fields: list[str]) -> None:
    del session, fields
