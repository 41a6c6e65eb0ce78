"""The IB venue against the gateway simulator: an execution IB corrects (the next execId
revision) becomes one ``VenueFillCorrected`` of the fill as first booked, live or found by the
reconciliation after a restart, never a second fill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from kit.orders import T0, new_order
from kit.poll import eventually
from quantrail.execution.order import Order
from quantrail.execution.venues import VenueFill, VenueFillCorrected
from quantrail.execution.venues.base import VenueReport, apply_report
from quantrail.execution.venues.ibkr import IbkrVenue
from quantrail.ibkr.config import IbkrConfig
from quantrail.ibkr.ibsim import IbGatewaySimulator
from quantrail.vocab import OrderStatus, OrderType

ACCOUNT = "DU0000001"


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    await simulator.set_quote("AAPL", Decimal("99.00"), Decimal("99.02"))
    yield simulator
    await simulator.stop()


async def _venue(ibsim: IbGatewaySimulator) -> IbkrVenue:
    venue = IbkrVenue(IbkrConfig(port=ibsim.port, accounts={"HAMMER": ACCOUNT}))
    await venue.connect()
    venue.start_sending()
    return venue


def _market(order_id: str) -> Order:
    return new_order(
        account="HAMMER", order_id=order_id, symbol="AAPL", qty=300,
        order_type=OrderType.MARKET, limit_price=None,
    )  # fmt: skip


def _of(reports: list[VenueReport], kind: type) -> list[VenueReport]:
    return [report for report in reports if isinstance(report, kind)]


async def test_a_live_correction_is_reported_once_against_the_fill_with_its_values(
    ibsim: IbGatewaySimulator,
) -> None:
    ibsim.faults.correct_price = Decimal("98.97")
    ibsim.faults.correct_commission = Decimal("1.75")
    venue = await _venue(ibsim)
    seen: list[VenueReport] = []
    try:
        venue.submit(_market("Ocx"), T0)
        await eventually(lambda: seen.extend(venue.advance(T0)) or _of(seen, VenueFillCorrected))
        first, again = ibsim.book.executions
        await ibsim.send_execution(again)  # IB repeats the correction
        await eventually(lambda: venue.ib.wrapper.fills.get(again.exec_id))
        seen.extend(venue.advance(T0))
    finally:
        await venue.close()
    [fill], [correction] = _of(seen, VenueFill), _of(seen, VenueFillCorrected)
    assert isinstance(fill, VenueFill) and isinstance(correction, VenueFillCorrected)
    assert (correction.fill_id, correction.correction_id) == (first.exec_id, again.exec_id)
    assert correction.previous == fill  # what is replaced: the fill as it was booked
    now = correction.corrected
    assert (now.qty, now.price, now.fee, now.side) == (300, Decimal("98.97"), Decimal("1.75"),
                                                       fill.side)  # fmt: skip
    warned = [n for n in venue.notices if n.key == f"correction:{again.exec_id}"]
    assert [n.severity for n in warned] == ["WARNING"]


async def test_a_correction_made_while_we_were_down_is_found_by_the_reconciliation(
    ibsim: IbGatewaySimulator,
) -> None:
    venue = await _venue(ibsim)
    seen: list[VenueReport] = []
    try:
        venue.submit(_market("Orx"), T0)
        await eventually(lambda: seen.extend(venue.advance(T0)) or _of(seen, VenueFill))
    finally:
        await venue.close()
    [fill] = _of(seen, VenueFill)
    assert isinstance(fill, VenueFill)
    corrected = await ibsim.correct(fill.fill_id, Decimal("99.05"))  # nobody is connected
    ours = _market("Orx")  # the order as execution restores it after its restart
    ours.move_to(OrderStatus.SUBMITTED, T0)
    for report in seen:
        apply_report(ours, report)

    restarted = await _venue(ibsim)
    try:
        assert ours.status is OrderStatus.FILLED  # ended: remembered, not restored
        restarted.remember_fills(ours)
        result = await restarted.reconcile()
        after = restarted.advance(T0)
        await restarted.reconcile()  # a second reconciliation books nothing new
        later = restarted.advance(T0)
    finally:
        await restarted.close()
    # the order has ended: its executions are not reconciled, the revision is a correction
    assert not result.fills and not result.gone
    assert not _of(after, VenueFill)
    [correction] = _of(after, VenueFillCorrected)
    assert isinstance(correction, VenueFillCorrected)
    assert (correction.fill_id, correction.correction_id) == (fill.fill_id, corrected.exec_id)
    assert (correction.previous.price, correction.corrected.price) == (fill.price, Decimal("99.05"))
    assert not _of(later, VenueFill) and not _of(later, VenueFillCorrected)
