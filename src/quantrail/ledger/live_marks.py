"""The latest live mark per symbol and exchange-local day: the quote mid the ledger last saw.

The ledger service feeds it from ``market.quote``; the EOD report marks an open position at it
when it is later than the symbol's last fill (``marks.closing_marks``). One row per
(day, symbol), replaced by a later quote only: a late, older quote never moves the mark back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from quantrail.ledger.sql import Backend


@dataclass(frozen=True, slots=True)
class LiveMark:
    symbol: str
    ts_ns: int
    price: Decimal


class LiveMarks:
    def __init__(self, backend: Backend) -> None:
        self._db = backend

    def record(self, day: dt.date, mark: LiveMark) -> bool:
        """Keep ``mark`` unless a later one is stored; False when it was older."""
        with self._db.transaction() as tx:
            held = tx.select("live_marks", "ts_ns", "day = ? AND symbol = ?",
                             day.isoformat(), mark.symbol)  # fmt: skip
            if not held:
                row = {"day": day.isoformat(), "symbol": mark.symbol, "ts_ns": mark.ts_ns,
                       "price": str(mark.price)}  # fmt: skip
                tx.insert("live_marks", row)
                return True
            if mark.ts_ns < int(held[0][0]):
                return False
            tx.run(
                "UPDATE live_marks SET ts_ns = ?, price = ? WHERE day = ? AND symbol = ?",
                (mark.ts_ns, str(mark.price), day.isoformat(), mark.symbol),
            )
        return True

    def for_day(self, day: dt.date) -> dict[str, LiveMark]:
        with self._db.transaction() as tx:
            rows = tx.select("live_marks", "symbol, ts_ns, price", "day = ?", day.isoformat())
        return {str(s): LiveMark(str(s), int(ts), Decimal(str(p))) for s, ts, p in rows}


def quote_mid(bid: Decimal, ask: Decimal) -> Decimal | None:
    """The mid of a two-sided quote; one side when the other is missing (0); None when empty."""
    if bid > 0 and ask > 0:
        return (bid + ask) / 2
    side = bid if bid > 0 else ask
    return side if side > 0 else None
