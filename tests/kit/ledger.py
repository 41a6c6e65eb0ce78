"""Builders for ledger tests: fills, baseline positions, snapshots and the worked example.

The worked example (also in docs/ledger.md): HAMMER starts 2025-03-03 long 1,000 XYZ at the
prior close 25.00 and short 500 ABC at 40.00; it buys 300 XYZ at 25.10, then sells 800 XYZ at
25.30, fees 0.35 a fill.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from quantrail.ledger.books import AccountDay, BaselinePosition, BefDaySnapshot, Fill
from quantrail.vocab import Bucket, Side

ACCOUNT = "HAMMER"
DAY = dt.date(2025, 3, 3)
# 2025-03-03 14:30:00 UTC (the US open) in ns; fills are stamped seconds after it.
OPEN_NS = 1_741_012_200_000_000_000
SECOND_NS = 1_000_000_000


def fill(
    fill_id: str,
    side: Side,
    qty: int,
    price: str,
    *,
    symbol: str = "XYZ",
    fee: str = "0.35",
    bucket: Bucket = Bucket.LT,
    account: str = ACCOUNT,
    at_s: int = 0,
) -> Fill:
    return Fill(
        fill_id=fill_id,
        account=account,
        ts_ns=OPEN_NS + at_s * SECOND_NS,
        symbol=symbol,
        side=side,
        qty=qty,
        price=Decimal(price),
        fee=Decimal(fee),
        bucket=bucket,
        order_id=f"ord-{fill_id}",
    )


def baseline(
    symbol: str, qty: int, prior_close: str, bucket: Bucket = Bucket.LT
) -> BaselinePosition:
    return BaselinePosition(symbol, qty, bucket, Decimal(prior_close))


def snapshot(
    *positions: BaselinePosition,
    account: str = ACCOUNT,
    day: dt.date = DAY,
    taken_ts_ns: int = OPEN_NS - 3600 * SECOND_NS,
) -> BefDaySnapshot:
    return BefDaySnapshot(account, day, tuple(positions), taken_ts_ns)


def example_snapshot(account: str = ACCOUNT, day: dt.date = DAY) -> BefDaySnapshot:
    """Long 1,000 XYZ at 25.00 and short 500 ABC at 40.00 (prior closes)."""
    return snapshot(baseline("XYZ", 1000, "25.00"), baseline("ABC", -500, "40.00"),
                    account=account, day=day)  # fmt: skip


def example_fills(account: str = ACCOUNT) -> list[Fill]:
    """Buy 300 XYZ at 25.10, then sell 800 XYZ at 25.30; fees 0.35 each."""
    return [
        fill("f1", Side.BUY, 300, "25.10", account=account, at_s=10),
        fill("f2", Side.SELL, 800, "25.30", account=account, at_s=20),
    ]


def example_day(account: str = ACCOUNT) -> AccountDay:
    """The worked example's books after both fills."""
    books = AccountDay(example_snapshot(account))
    for each in example_fills(account):
        books.book_fill(each)
    return books


def money(text: str) -> Decimal:
    return Decimal(text)
