"""Scripted faults, seen on the wire by a raw client (no library smoothing the order)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kit.ibkr import RawClient, place_order_fields
from quantrail.ibkr.ibsim import Faults, IbGatewaySimulator

OPEN_ORDER, ORDER_STATUS, EXEC_DETAILS, COMMISSION, ERROR = "5", "3", "11", "59", "4"


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator(faults=Faults()).start()
    yield simulator
    await simulator.stop()


async def _client(ibsim: IbGatewaySimulator, client_id: int = 1) -> RawClient:
    client = await RawClient.connect(ibsim.port, client_id)
    await client.until(lambda inbox: any(m[0] == "15" for m in inbox))  # managedAccounts
    client.inbox.clear()
    return client


def _filled(inbox: list[list[str]]) -> bool:
    return any(m[0] == COMMISSION for m in inbox) and any(
        m[0] == ORDER_STATUS and m[2] == "Filled" for m in inbox
    )


async def test_the_handshake_gives_version_157_then_next_valid_id_and_accounts(
    ibsim: IbGatewaySimulator,
) -> None:
    client = await RawClient.connect(ibsim.port)
    await client.until(lambda inbox: len(inbox) >= 2)
    assert client.server_version == 157
    assert client.inbox[:2] == [["9", "1", "1"], ["15", "1", "DU0000001"]]
    await client.close()


async def test_by_default_status_comes_before_the_execution(ibsim: IbGatewaySimulator) -> None:
    client = await _client(ibsim)
    await client.send(place_order_fields(1, "AAPL", "BUY", 100, order_ref="O1"))
    await client.until(_filled)
    ids = client.ids()
    assert ids.index(ORDER_STATUS) < ids.index(EXEC_DETAILS)


async def test_exec_details_can_come_before_order_status(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.exec_before_status = True
    client = await _client(ibsim)
    await client.send(place_order_fields(1, "AAPL", "BUY", 100, order_ref="O1"))
    await client.until(_filled)
    ids = client.ids()
    filled_at = next(
        i for i, m in enumerate(client.inbox) if m[0] == ORDER_STATUS and m[2] == "Filled"
    )
    assert ids.index(EXEC_DETAILS) < filled_at


async def test_an_exec_id_can_be_sent_twice(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.repeat_exec_id = True
    client = await _client(ibsim)
    await client.send(place_order_fields(1, "AAPL", "SELL", 100))
    await client.until(_filled)
    exec_ids = [m[14] for m in client.inbox if m[0] == EXEC_DETAILS]
    assert len(exec_ids) == 2 and exec_ids[0] == exec_ids[1]


async def test_an_execution_can_be_corrected_under_the_next_exec_id_revision(
    ibsim: IbGatewaySimulator,
) -> None:
    ibsim.faults.correct_price = Decimal("99.50")
    ibsim.faults.correct_commission = Decimal("1.25")
    client = await _client(ibsim)
    await client.send(place_order_fields(1, "AAPL", "BUY", 100, order_ref="O1"))
    await client.until(lambda inbox: sum(m[0] == COMMISSION for m in inbox) == 2)
    executions = [m for m in client.inbox if m[0] == EXEC_DETAILS]
    reports = [m for m in client.inbox if m[0] == COMMISSION]
    first, corrected = (m[14] for m in executions)
    assert first.endswith(".01") and corrected == first[:-2] + "02"
    assert executions[1][20] == "99.50" and executions[1][19] == executions[0][19]  # price, qty
    assert [(r[2], r[3]) for r in reports] == [(first, "1.00"), (corrected, "1.25")]
    assert [e.exec_id for e in ibsim.book.executions] == [first, corrected]


async def test_a_reused_order_id_is_refused_with_error_103(ibsim: IbGatewaySimulator) -> None:
    client = await _client(ibsim)
    await client.send(place_order_fields(5, "AAPL", "BUY", 100))
    await client.until(_filled)
    await client.send(place_order_fields(4, "AAPL", "BUY", 100))
    await client.until(lambda inbox: any(m[0] == ERROR for m in inbox))
    error = next(m for m in client.inbox if m[0] == ERROR)
    assert error[2:4] == ["4", "103"]


async def test_the_connection_drops_after_n_messages_and_the_book_survives(
    ibsim: IbGatewaySimulator,
) -> None:
    ibsim.faults.drop_after_messages = 3  # nextValidId, managedAccounts, openOrder
    client = await RawClient.connect(ibsim.port)
    await client.send(place_order_fields(1, "AAPL", "BUY", 100, order_ref="O1"))
    with pytest.raises((ConnectionError, EOFError, OSError)):
        await client.until(_filled)
    ibsim.faults.drop_after_messages = None
    again = await _client(ibsim, client_id=1)
    await again.send([7, 3, 9, 1, "", "", "", "", "", ""])  # reqExecutions, reqId 9
    await again.until(lambda inbox: any(m[0] == "55" for m in inbox))
    executions = [m for m in again.inbox if m[0] == EXEC_DETAILS]
    assert len(executions) == 1 and executions[0][1] == "9"
    assert executions[0][26] == "O1"  # orderRef carries our order id back


async def test_an_order_placed_by_hand_reaches_client_zero(ibsim: IbGatewaySimulator) -> None:
    client = await _client(ibsim, client_id=0)
    order = await ibsim.place_manual("DU0000001", "MSFT", "SELL", 300, Decimal("400.00"))
    await client.until(lambda inbox: any(m[0] == OPEN_ORDER for m in inbox))
    opened = next(m for m in client.inbox if m[0] == OPEN_ORDER)
    assert opened[1] == str(order.request.order_id) and opened[3] == "MSFT"
    await client.send([5, 1])  # reqOpenOrders lists it too
    await client.until(lambda inbox: any(m[0] == "53" for m in inbox))
