"""The simulator speaks the TWS protocol: IB's own client and ib_async trade through it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock
from ibapi.client import EClient
from ibapi.contract import Contract as IbapiContract
from ibapi.order import Order as IbapiOrder
from ibapi.wrapper import EWrapper

from kit.poll import eventually
from quantrail.ibkr.ibsim import IbGatewaySimulator


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    yield simulator
    await simulator.stop()


async def test_ib_async_connects_and_a_market_order_fills_with_our_order_ref(
    ibsim: IbGatewaySimulator,
) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", ibsim.port, clientId=1, timeout=5)
    try:
        assert ib.managedAccounts() == ["DU0000001"]
        trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), MarketOrder("BUY", 100, orderRef="O1"))
        await eventually(lambda: trade.isDone() and len(trade.fills) == 1)
        fill = trade.fills[0]
        assert trade.orderStatus.status == "Filled"
        assert fill.execution.orderRef == "O1"
        assert fill.execution.shares == 100
        assert fill.commissionReport.commission == 1.0  # the $1.00 minimum
        executions = await ib.reqExecutionsAsync()
        assert [e.execution.execId for e in executions] == [fill.execution.execId]
    finally:
        ib.disconnect()


async def test_ib_async_rests_modifies_and_cancels_a_limit_order(ibsim: IbGatewaySimulator) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", ibsim.port, clientId=2, timeout=5)
    try:
        order = LimitOrder("BUY", 200, 1.00, orderRef="O2")
        trade = ib.placeOrder(Stock("MSFT", "SMART", "USD"), order)
        await eventually(lambda: trade.orderStatus.status == "Submitted")
        order.lmtPrice = 1.50  # IB modifies by placing the same order id again
        ib.placeOrder(Stock("MSFT", "SMART", "USD"), order)
        await eventually(
            lambda: ibsim.book.orders[order.orderId].request.lmt_price == Decimal("1.5")
        )
        ib.cancelOrder(order)
        await eventually(lambda: trade.orderStatus.status == "Cancelled")
        assert trade.fills == []
    finally:
        ib.disconnect()


async def test_a_rejection_carries_ibs_error_code(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.reject_code = 201
    ib = IB()
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, *rest: errors.append(code)
    await ib.connectAsync("127.0.0.1", ibsim.port, clientId=3, timeout=5)
    try:
        trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), MarketOrder("SELL", 100))
        await eventually(lambda: trade.orderStatus.status == "Inactive")
        assert 201 in errors
        assert trade.fills == []
    finally:
        ib.disconnect()


class _IbapiApp(EWrapper, EClient):  # type: ignore[misc]
    def __init__(self) -> None:
        EClient.__init__(self, self)
        self.next_id: int | None = None
        self.seen: list[tuple[Any, ...]] = []

    def nextValidId(self, orderId: int) -> None:
        self.next_id = orderId

    def openOrder(self, orderId: int, contract: Any, order: Any, state: Any) -> None:
        self.seen.append(("openOrder", orderId, contract.symbol, order.orderRef, state.status))

    def orderStatus(self, orderId: int, status: str, filled: float, *rest: Any) -> None:
        self.seen.append(("orderStatus", orderId, status, filled))

    def execDetails(self, reqId: int, contract: Any, execution: Any) -> None:
        self.seen.append(("execDetails", execution.orderRef, execution.shares))

    def commissionReport(self, report: Any) -> None:
        self.seen.append(("commissionReport", report.commission))


async def test_ibs_own_python_client_places_an_order_and_sees_it_filled(
    ibsim: IbGatewaySimulator,
) -> None:
    app = _IbapiApp()
    # ibapi's connect blocks on the handshake: off the loop the simulator runs on.
    await asyncio.to_thread(app.connect, "127.0.0.1", ibsim.port, 7)
    reader = threading.Thread(target=app.run, daemon=True)
    reader.start()
    try:
        await eventually(lambda: app.next_id is not None)
        contract = IbapiContract()
        contract.symbol, contract.secType, contract.exchange, contract.currency = (
            "MSFT", "STK", "SMART", "USD",
        )  # fmt: skip
        order = IbapiOrder()
        order.action, order.totalQuantity, order.orderType, order.orderRef = (
            "BUY",
            200,
            "MKT",
            "Oabc",
        )
        assert app.next_id is not None
        app.placeOrder(app.next_id, contract, order)
        await eventually(lambda: ("commissionReport", 1.0) in app.seen)
        assert ("openOrder", app.next_id, "MSFT", "Oabc", "Submitted") in app.seen
        assert ("orderStatus", app.next_id, "Filled", 200.0) in app.seen
        assert ("execDetails", "Oabc", 200.0) in app.seen
    finally:
        await asyncio.to_thread(app.disconnect)
        await asyncio.to_thread(reader.join, 5)
