"""Unrealized P&L is marked to the latest live quote, not the prior close, when quotes flowed.

The ledger service keeps the latest quote mid per symbol and day (``market.quote``), written at
most once a minute per symbol and on stop; the report marks an open position at the later of
the last quote and the last fill, before falling back to the prior close.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from kit.bus import make_bus
from kit.ledger import hand_accounts, running
from kit.poll import eventually
from quantrail.events.market import QuoteUpdated
from quantrail.ledger.booking import session_day
from quantrail.ledger.marks import MarkSource
from quantrail.ledger.report import report_eod
from quantrail.ledger.service import LedgerService
from quantrail.ledger.store import LedgerStore

NY = "America/New_York"


def quote(symbol: str, bid: str, ask: str, ts_ns: int) -> QuoteUpdated:
    return QuoteUpdated(ts_event=ts_ns, symbol=symbol, bid=Decimal(bid), ask=Decimal(ask),
                        bid_size=100, ask_size=100)  # fmt: skip


async def test_the_report_marks_to_the_latest_quote(store_url: str, tmp_path: Path) -> None:
    bus = make_bus("memory", None)
    service = LedgerService(store_url, hand_accounts(tmp_path), timezone=NY)
    now = time.time_ns()
    async with running(bus, service):
        await bus.publish_batch([
            quote("XYZ", "25.40", "25.44", now),
            quote("XYZ", "25.60", "25.70", now + 1_000_000_000),  # the latest: mid 25.65
            quote("ABC", "38.90", "39.10", now),  # mid 39.00
        ])  # fmt: skip
        await eventually(lambda: service.quotes_seen, lambda n: n == 3)
    day = session_day(now, NY)
    with LedgerStore.open(store_url) as store:
        report = report_eod(store, "HAMMER", day, timezone=NY)
    marks = {line.symbol: line.mark for line in report.symbols}
    assert (marks["XYZ"].price, marks["XYZ"].source) == (Decimal("25.65"), MarkSource.LAST_QUOTE)
    assert marks["ABC"].price == Decimal("39.00")
    # baseline XYZ 1000 @ 25.00 -> +650.00; ABC -500 @ 40.00 -> +500.00
    assert report.unrealized == Decimal("1150.00")
