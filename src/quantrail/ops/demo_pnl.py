"""The demo's P&L: its fills booked by the real ledger (in memory) against the opening book.

Selling baseline shares books realized P&L against their prior close (``baseline_realized``):
what the de-risking cost or earned versus holding at yesterday's prices; fees come on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from quantrail.events.orders import OrderFill
from quantrail.ledger.befday import snapshot_from_file
from quantrail.ledger.booking import Booker, fill_from_event
from quantrail.ledger.store import LedgerStore


@dataclass(frozen=True, slots=True)
class DemoPnl:
    baseline_realized: Decimal  # de-risk sales against the prior close
    intraday_realized: Decimal  # shares bought and sold the same day
    fees: Decimal

    @property
    def net(self) -> Decimal:
        return self.baseline_realized + self.intraday_realized - self.fees


def book_demo_fills(
    account: str, day: dt.date, baseline: Path, fills: Sequence[OrderFill], timezone: str
) -> DemoPnl:
    """Book ``fills`` on ``baseline`` in a throwaway SQLite ledger; the day's realized P&L."""
    with LedgerStore.open("sqlite:///:memory:") as store:
        first_ts = min((fill.ts_event for fill in fills), default=0)
        store.save_snapshot(snapshot_from_file(account, day, baseline, first_ts))
        booker = Booker(store, timezone=timezone)
        for event in fills:
            booker.book(fill_from_event(event))
        totals = store.load_day(account, day).totals()
    return DemoPnl(totals.baseline_reduction, totals.realized_intraday, totals.fees)
