"""IB corrects an execution (the next execId revision, with its own commission report): the
execution service publishes one ``OrderFillCorrected`` and the ledger re-books the day with the
corrected price and fee, to the cent, once, also after a repeat and a restart of the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from kit.ledger import running
from kit.market_events import quote
from kit.order_events import intent
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.config import Config, config_from_mapping
from quantrail.events import AlertTriggered, Event, OrderFill, OrderFillCorrected
from quantrail.execution.order import order_id_for_intent
from quantrail.execution.services import build_execution_service
from quantrail.ibkr.ibsim import IbGatewaySimulator
from quantrail.ledger.books import AccountDay
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore
from quantrail.runtime.clock import WallClock
from quantrail.vocab import OrderType, Side

ACCOUNT, IB_ACCOUNT = "HAMMER", "DU0000001"
BID, ASK = Decimal("99.00"), Decimal("99.02")
CORRECTED_PRICE, CORRECTED_FEE = Decimal("98.97"), Decimal("1.75")


@pytest.fixture
async def ibsim() -> AsyncIterator[IbGatewaySimulator]:
    simulator = await IbGatewaySimulator().start()
    await simulator.set_quote("AAPL", BID, ASK)
    yield simulator
    await simulator.stop()


def _config(port: int, db_url: str) -> Config:
    return config_from_mapping({
        "execution": {"venue": "ibkr"},
        "ibkr": {"port": port, "accounts": {ACCOUNT: IB_ACCOUNT}, "reconnect_backoff_s": [0.1]},
        "risk": {"accounts": [{"name": ACCOUNT, "equity": "1000000"}]},
        "db": {"url": db_url},
        "liquidity": {"min_interval_s": 0},
    })  # fmt: skip


def _market(intent_id: str, side: Side, qty: int) -> Event:
    return intent(
        side=side, qty=qty, intent_id=intent_id, symbol="AAPL", account=ACCOUNT,
        order_type=OrderType.MARKET, limit_price=None,
    )  # fmt: skip


def _books(db_url: str) -> AccountDay:
    """The day's books rebuilt from SQL (``load_day`` checks them against the stored lots)."""
    with LedgerStore.open(db_url) as store:
        day = store.snapshot_days(ACCOUNT)[-1]
        return store.load_day(ACCOUNT, day)


def _figures(books: AccountDay) -> tuple[int, Decimal, Decimal, Decimal]:
    """Position, realized intraday P&L, fees, unrealized P&L at the mid 99.01."""
    totals = books.totals("AAPL")
    unrealized = books.unrealized({"AAPL": Decimal("99.01")}).total
    return books.position("AAPL"), totals.realized_intraday, totals.fees, unrealized


# Hand-computed: buy 300 @ 99.02 (commission 1.50), sell 100 @ 99.00 (commission 1.00); IB then
# corrects the buy to 300 @ 98.97 with commission 1.75. Booked as if bought at 98.97:
# realized (99.00 - 98.97) x 100 = 3.00; open 200 @ 98.97 marked at 99.01 = 8.00;
# fees 1.75 + 1.00 = 2.75. Before the correction: realized -2.00, unrealized -2.00, fees 2.50.
BEFORE = (200, Decimal("-2.00"), Decimal("2.50"), Decimal("-2.00"))
AFTER = (200, Decimal("3.00"), Decimal("2.75"), Decimal("8.00"))


async def test_ib_corrects_a_fill_and_the_ledger_rebooks_it_to_the_cent_once(
    ibsim: IbGatewaySimulator, bus: EventBus, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    config = _config(ibsim.port, db_url)
    execution = build_execution_service(config, bus, WallClock())
    ledger = LedgerService(db_url, config.risk.accounts)
    async with running(bus, ledger), running(bus, execution):
        await bus.publish(quote(symbol="AAPL", bid=str(BID), ask=str(ASK), bid_size=5000,
                                ask_size=5000))  # fmt: skip
        await eventually(lambda: "AAPL" in execution.pretrade.quotes)  # type: ignore[attr-defined]
        await bus.publish(_market("int-buy", Side.BUY, 300))
        await eventually(lambda: ledger.counts["booked"] == 1, what="the buy booked")
        await bus.publish(_market("int-sell", Side.SELL, 100))
        await eventually(lambda: ledger.counts["booked"] == 2, what="the sell booked")
        assert _figures(_books(db_url)) == BEFORE

        buy = ibsim.book.executions[0]
        corrected = await ibsim.correct(buy.exec_id, CORRECTED_PRICE, CORRECTED_FEE)
        assert corrected.exec_id == buy.exec_id[:-2] + "02"
        await eventually(lambda: ledger.counts["corrections"] == 1, what="the correction")
        assert _figures(_books(db_url)) == AFTER

        # IB sends the correction again, and the event is delivered again: one effect.
        await ibsim.send_execution(corrected)
        events = await bus.read_events("trades.order")
        correction = next(e for e in events if isinstance(e, OrderFillCorrected))
        await bus.publish(correction)  # the bus may drop it by its key; the ledger must too:
        assert await ledger.correct_event(correction) is False
        alerts = [e for e in await bus.read_events("system.alert")
                  if isinstance(e, AlertTriggered) and "corrected" in e.message]  # fmt: skip
    assert ledger.counts["corrections"] == 1 and ledger.counts["booked"] == 2
    assert _figures(_books(db_url)) == AFTER
    corrections = [e for e in await bus.read_events("trades.order")
                   if isinstance(e, OrderFillCorrected)]  # fmt: skip
    assert len({e.event_id for e in corrections}) == 1  # the repeat is the same event
    assert (correction.fill_id, correction.correction_id) == (buy.exec_id, corrected.exec_id)
    assert correction.order_id == order_id_for_intent("int-buy")
    assert (correction.last_qty, correction.last_price, correction.fees) == (
        300, CORRECTED_PRICE, CORRECTED_FEE)  # fmt: skip
    assert (correction.previous_price, correction.previous_fees) == (ASK, Decimal("1.50"))
    assert (correction.cum_qty, correction.avg_price) == (300, CORRECTED_PRICE)
    assert [a.severity for a in alerts] == ["WARNING"]  # a person looks at it

    # A restarted ledger rebuilds the corrected books from SQL and books nothing again when
    # the whole stream is handed to it once more (a replay).
    again = LedgerService(db_url, config.risk.accounts)
    replayed = [e for e in await bus.read_events("trades.order")
                if isinstance(e, OrderFill | OrderFillCorrected)]  # fmt: skip
    async with running(bus, again):
        for event in replayed:
            await again.on_order_event(event, None)  # type: ignore[arg-type]
    assert again.counts["booked"] == again.counts["corrections"] == 0
    assert again.counts["duplicates"] == len(replayed) >= 3
    assert _figures(_books(db_url)) == AFTER
    with LedgerStore.open(db_url) as store:
        assert store.count_fills(ACCOUNT) == 2
        day = store.snapshot_days(ACCOUNT)[-1]
        prices = [(f.qty, f.price, f.fee) for f in store.load_fills(ACCOUNT, day)]
    assert prices == [(300, CORRECTED_PRICE, CORRECTED_FEE), (100, BID, Decimal("1.00"))]


async def test_a_correction_made_while_execution_was_down_is_booked_after_its_restart(
    ibsim: IbGatewaySimulator, bus: EventBus, tmp_path: Path
) -> None:
    """The buy fills and execution stops; IB corrects it; the restarted execution service
    finds the correction in its reconciliation with IB and the ledger re-books it, once."""
    db_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    config = _config(ibsim.port, db_url)
    ledger = LedgerService(db_url, config.risk.accounts)
    async with running(bus, ledger):
        first = build_execution_service(config, bus, WallClock())
        async with running(bus, first):
            await bus.publish(quote(symbol="AAPL", bid=str(BID), ask=str(ASK), bid_size=5000,
                                    ask_size=5000))  # fmt: skip
            await eventually(lambda: "AAPL" in first.pretrade.quotes)  # type: ignore[attr-defined]
            await bus.publish(_market("int-buy", Side.BUY, 300))
            await eventually(lambda: ledger.counts["booked"] == 1, what="the buy booked")
        buy = ibsim.book.executions[0]
        await ibsim.correct(buy.exec_id, CORRECTED_PRICE, CORRECTED_FEE)  # nobody listens
        second = build_execution_service(config, bus, WallClock())
        async with running(bus, second):
            await eventually(lambda: ledger.counts["corrections"] == 1, what="the correction")
    books = _books(db_url)
    assert books.position("AAPL") == 300 and ledger.counts["booked"] == 1
    [lot] = books.open_lots("AAPL")
    assert (lot.price, books.totals("AAPL").fees) == (CORRECTED_PRICE, CORRECTED_FEE)
    assert books.unrealized({"AAPL": Decimal("99.01")}).total == Decimal("12.00")  # 0.04 x 300
