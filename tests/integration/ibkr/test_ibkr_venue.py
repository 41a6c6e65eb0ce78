"""The IB venue against the gateway simulator over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from kit.orders import T0, new_order
from kit.poll import eventually
from quantrail.execution.order import Order
from quantrail.execution.venues import VenueAccepted, VenueCanceled, VenueFill, VenueRejected
from quantrail.execution.venues.base import FillRecord, VenueReport
from quantrail.execution.venues.ibkr import IbkrVenue, IdStore
from quantrail.ibkr.config import IbkrConfig
from quantrail.ibkr.ibsim import IbGatewaySimulator
from quantrail.vocab import OrderType, Side

ACCOUNT = "DU0000001"


def order(**fields: Any) -> Order:
    """A day order of the HAMMER account (mapped to the simulator's IB account)."""
    return new_order(account="HAMMER", **fields)


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    yield simulator
    await simulator.stop()


async def _venue(
    ibsim: IbGatewaySimulator, ids: IdStore | None = None, client_id: int = 1
) -> IbkrVenue:
    config = IbkrConfig(port=ibsim.port, client_id=client_id, accounts={"HAMMER": ACCOUNT})
    venue = IbkrVenue(config, ids=ids)
    await venue.connect()
    venue.start_sending()
    return venue


class Reports:
    def __init__(self, venue: IbkrVenue) -> None:
        self.venue, self.seen = venue, list[VenueReport]()

    def poll(self) -> list[VenueReport]:
        self.seen.extend(self.venue.advance(T0))
        return self.seen

    def of(self, kind: type) -> list[VenueReport]:
        return [report for report in self.seen if isinstance(report, kind)]


async def test_an_order_goes_out_with_our_id_in_order_ref_and_fills_with_ibs_commission(
    ibsim: IbGatewaySimulator,
) -> None:
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        market = order(
            order_id="Oabc", symbol="AAPL", qty=300, order_type=OrderType.MARKET, limit_price=None
        )
        venue.submit(market, T0)
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        accepted, fill = reports.of(VenueAccepted)[0], reports.of(VenueFill)[0]
        assert isinstance(fill, VenueFill) and isinstance(accepted, VenueAccepted)
        sim_order = ibsim.book.orders[int(accepted.venue_order_id)]
        assert sim_order.request.order_ref == "Oabc"
        assert sim_order.request.account == ACCOUNT
        assert (fill.order_id, fill.qty, fill.side) == ("Oabc", 300, Side.BUY)
        assert fill.fee == Decimal("1.50")  # 300 x 0.005, IB's commission report
        assert fill.fill_id == ibsim.book.executions[0].exec_id
    finally:
        await venue.close()


async def test_a_partial_fill_then_a_cancel_keeps_the_fill(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.hold_fills = True
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        venue.submit(order(order_id="Opart", symbol="MSFT", qty=500, limit_price=Decimal("10")), T0)
        await eventually(lambda: reports.poll() and reports.of(VenueAccepted))
        ib_id = int(reports.of(VenueAccepted)[0].venue_order_id)  # type: ignore[attr-defined]
        await ibsim.fill(ib_id, 200, Decimal("10.00"))
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        venue.cancel("Opart", T0)
        await eventually(lambda: reports.poll() and reports.of(VenueCanceled))
        kinds = [type(r).__name__ for r in reports.seen]
        assert kinds == ["VenueAccepted", "VenueFill", "VenueCanceled"]
    finally:
        await venue.close()


async def test_a_rejection_carries_ibs_code(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.reject_code = 201
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        venue.submit(order(order_id="Orej", symbol="MSFT"), T0)
        await eventually(lambda: reports.poll() and reports.of(VenueRejected))
        rejected = reports.of(VenueRejected)[0]
        assert isinstance(rejected, VenueRejected) and rejected.reason.startswith("IB 201")
    finally:
        await venue.close()


async def test_the_same_exec_id_twice_is_booked_once(ibsim: IbGatewaySimulator) -> None:
    ibsim.faults.repeat_exec_id = True
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        venue.submit(
            order(order_id="Odup", symbol="MSFT", order_type=OrderType.MARKET, limit_price=None), T0
        )
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        await ibsim.set_quote("MSFT", Decimal("9.99"), Decimal("10.01"))  # more traffic after it
        assert len([r for r in reports.poll() if isinstance(r, VenueFill)]) == 1
    finally:
        await venue.close()


async def test_the_venue_keeps_a_record_of_the_fills_it_handed_out(
    ibsim: IbGatewaySimulator,
) -> None:
    """``fills()`` (the reconciliation after Redis lost its memory): every fill ``advance``
    handed out, as reported, and a repeated exec id still once."""
    ibsim.faults.repeat_exec_id = True
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        assert isinstance(venue, FillRecord) and venue.fills() == []
        venue.submit(
            order(order_id="Orec", symbol="MSFT", order_type=OrderType.MARKET, limit_price=None), T0
        )
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        await ibsim.set_quote("MSFT", Decimal("9.99"), Decimal("10.01"))
        reports.poll()
        assert venue.fills() == reports.of(VenueFill) and len(venue.fills()) == 1
    finally:
        await venue.close()


async def test_ids_are_never_reused_across_a_restart(ibsim: IbGatewaySimulator) -> None:
    ids = IdStore()
    first = await _venue(ibsim, ids)
    reports = Reports(first)
    first.submit(
        order(order_id="O1", symbol="MSFT", order_type=OrderType.MARKET, limit_price=None), T0
    )
    await eventually(lambda: reports.poll() and reports.of(VenueFill))
    await first.close()
    ibsim.book.next_order_id = 1  # a gateway that rolled its nextValidId back
    second = await _venue(ibsim, ids)
    reports = Reports(second)
    try:
        second.submit(
            order(order_id="O2", symbol="MSFT", order_type=OrderType.MARKET, limit_price=None), T0
        )
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        used = [order.request.order_id for order in ibsim.book.orders.values()]
        assert len(set(used)) == 2
    finally:
        await second.close()


async def test_two_hundred_orders_go_out_at_most_fifty_a_second_none_lost(
    ibsim: IbGatewaySimulator,
) -> None:
    ibsim.faults.hold_fills = True
    venue = await _venue(ibsim)

    def arrivals() -> list[float]:
        return [at for at, fields in ibsim.received if fields[0] == "3"]

    try:
        for n in range(200):
            venue.submit(order(order_id=f"Op{n}", symbol="MSFT", qty=100), T0)
        await eventually(lambda: len(arrivals()) == 200, within=15)
        times = arrivals()
        busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        assert busiest <= 50
        assert len(ibsim.book.orders) == 200
    finally:
        await venue.close()


async def test_an_account_without_an_ib_account_is_refused_before_ib_sees_it(
    ibsim: IbGatewaySimulator,
) -> None:
    venue = await _venue(ibsim)
    try:
        venue.submit(new_order(order_id="Onoacct", account="ELSEWHERE"), T0)
        rejected = [r for r in venue.advance(T0) if isinstance(r, VenueRejected)]
        assert rejected[0].reason == "account 'ELSEWHERE' has no IB account in ibkr.accounts"
        assert ibsim.book.orders == {}
    finally:
        await venue.close()


async def test_a_fill_made_while_disconnected_is_found_after_the_reconnect_and_booked_once(
    ibsim: IbGatewaySimulator,
) -> None:
    config = IbkrConfig(
        port=ibsim.port,
        accounts={"HAMMER": ACCOUNT},
        reconnect_backoff_s=[0.05],
        connect_timeout_s=0.5,
    )
    venue = IbkrVenue(config)
    await venue.connect()
    venue.start_sending()
    reports = Reports(venue)
    try:
        venue.submit(order(order_id="Oaway", symbol="MSFT", qty=100, limit_price=Decimal("5")), T0)
        await eventually(lambda: reports.poll() and reports.of(VenueAccepted))
        ibsim.refusing = True  # the gateway goes down...
        await ibsim.drop_all()
        await eventually(lambda: any(n.key == "connect" for n in venue.notices))  # retrying
        await ibsim.set_quote("MSFT", Decimal("4.98"), Decimal("4.99"))  # ...the order fills
        venue.submit(order(order_id="Oheld", symbol="MSFT", qty=100, limit_price=Decimal("1")), T0)
        assert reports.poll() == reports.of(VenueAccepted)  # nothing new while away
        ibsim.refusing = False
        await eventually(lambda: reports.poll() and reports.of(VenueFill), within=10)
        await eventually(
            lambda: any(o.request.order_ref == "Oheld" for o in ibsim.book.orders.values())
        )
        reports.poll()
        fills = reports.of(VenueFill)
        assert [f.order_id for f in fills] == ["Oaway"]  # type: ignore[attr-defined]
        assert {n.key for n in venue.notices} >= {"disconnected", "reconnected"}
    finally:
        await venue.close()


async def test_an_order_placed_by_hand_at_the_gateway_is_raised_as_external(
    ibsim: IbGatewaySimulator,
) -> None:
    await ibsim.place_manual(ACCOUNT, "MSFT", "SELL", 300, Decimal("400.00"))
    venue = await _venue(ibsim)
    try:
        result = await venue.reconcile()
        assert [o.symbol for o in result.external_orders] == ["MSFT"]
        assert any(n.key.startswith("external_order:") for n in venue.notices)
    finally:
        await venue.close()


@pytest.mark.parametrize("exec_first", [True, False])
async def test_an_execution_before_or_after_its_status_is_booked_once(
    ibsim: IbGatewaySimulator, exec_first: bool
) -> None:
    ibsim.faults.exec_before_status = exec_first
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        market = order(
            order_id="Oseq", symbol="MSFT", order_type=OrderType.MARKET, limit_price=None
        )
        venue.submit(market, T0)
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        await ibsim.set_quote("MSFT", Decimal("9.99"), Decimal("10.01"))  # later traffic
        reports.poll()
        kinds = [type(r).__name__ for r in reports.seen]
        assert kinds == ["VenueAccepted", "VenueFill"]  # accepted first, whatever IB's order
    finally:
        await venue.close()


async def test_a_modify_keeps_the_ib_order_and_its_successor_takes_the_fills(
    ibsim: IbGatewaySimulator,
) -> None:
    ibsim.faults.hold_fills = True
    venue = await _venue(ibsim)
    reports = Reports(venue)
    try:
        resting = order(order_id="Omod", symbol="MSFT", qty=500, limit_price=Decimal("5.00"))
        venue.submit(resting, T0)
        await eventually(lambda: reports.poll() and reports.of(VenueAccepted))
        assert venue.modify("Omod", 300, Decimal("5.25"), T0)
        await eventually(lambda: reports.poll() and reports.of(VenueCanceled))
        ib_id = int(reports.of(VenueAccepted)[0].venue_order_id)  # type: ignore[attr-defined]
        sim_order = ibsim.book.orders[ib_id]
        assert (sim_order.request.total_quantity, sim_order.request.lmt_price) == (
            300,
            Decimal("5.25"),
        )
        successor = order(
            order_id="Omod-2", symbol="MSFT", qty=300, limit_price=Decimal("5.25"),
            replaces_order_id="Omod",
        )  # fmt: skip
        venue.submit(successor, T0)
        await ibsim.fill(ib_id, 300, Decimal("5.25"))
        await eventually(lambda: reports.poll() and reports.of(VenueFill))
        kinds = [(type(r).__name__, r.order_id) for r in reports.seen]
        assert kinds == [
            ("VenueAccepted", "Omod"), ("VenueCanceled", "Omod"),
            ("VenueAccepted", "Omod-2"), ("VenueFill", "Omod-2"),
        ]  # fmt: skip
        placed = [fields[1] for _at, fields in ibsim.received if fields[0] == "3"]
        assert placed == [str(ib_id), str(ib_id)]  # one IB order, placed then modified
        assert not [fields for _at, fields in ibsim.received if fields[0] == "4"]  # no cancel
    finally:
        await venue.close()
