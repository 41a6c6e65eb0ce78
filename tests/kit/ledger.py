"""Builders for ledger tests: fills, baseline positions, snapshots and the worked example.

The worked example (also in docs/ledger.md): HAMMER starts 2025-03-03 long 1,000 XYZ at the
prior close 25.00 and short 500 ABC at 40.00; it buys 300 XYZ at 25.10, then sells 800 XYZ at
25.30, fees 0.35 a fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig, Config
from quantrail.events.orders import OrderFilled
from quantrail.ledger.books import AccountDay, BaselinePosition, BefDaySnapshot, Fill
from quantrail.runtime.runner import ServiceRunner
from quantrail.runtime.service import Service
from quantrail.vocab import Bucket, OrderType, Side

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


# -- the hand-computed days (figures in tests/unit/ledger/test_report.py) ----------------------

ACCOUNTS = ("HAMMER", "IBKR_GUN", "IBKR_PED")
MM = Bucket.MM_PURE


def hand_snapshot(account: str, day: dt.date = DAY) -> BefDaySnapshot:
    """Each account's baseline: longs and shorts, LT and MM."""
    positions = {
        "HAMMER": (baseline("XYZ", 1000, "25.00"), baseline("ABC", -500, "40.00")),
        "IBKR_GUN": (
            baseline("AAA", 400, "50.00"),
            baseline("BBB", -300, "20.00"),
            baseline("CCC", 200, "15.00", MM),
        ),
        "IBKR_PED": (baseline("ZZZ", -1000, "8.00"), baseline("YYY", 300, "100.00")),
    }[account]
    return snapshot(*positions, account=account, day=day)


def hand_fills(account: str) -> list[Fill]:
    """Each account's day: intraday round trips, baseline reductions, a fill crossing zero."""
    a = account
    days = {
        "HAMMER": [
            fill("f1", Side.BUY, 300, "25.10", account=a, at_s=600),
            fill("f2", Side.SELL, 800, "25.30", account=a, at_s=3600),
            fill("s1", Side.SELL, 200, "10.00", symbol="DEF", bucket=MM, account=a, at_s=7200),
            fill("s2", Side.BUY, 200, "9.90", symbol="DEF", bucket=MM, account=a, at_s=9000),
            fill("x1", Side.BUY, 800, "39.50", symbol="ABC", account=a, at_s=14400),
        ],
        "IBKR_GUN": [
            fill("g1", Side.SELL, 300, "19.80", symbol="BBB", fee="1.00", account=a, at_s=300),
            fill("g2", Side.BUY, 500, "19.50", symbol="BBB", fee="1.00", account=a, at_s=2400),
            fill("g3", Side.SELL, 600, "51.00", symbol="AAA", fee="1.25", account=a, at_s=5400),
            fill("g4", Side.BUY, 200, "50.60", symbol="AAA", fee="0.75", account=a, at_s=9600),
            fill("g5", Side.BUY, 100, "15.20", symbol="CCC", fee="0.10", bucket=MM, account=a,
                 at_s=12000),
            fill("g6", Side.SELL, 150, "15.10", symbol="CCC", fee="0.15", bucket=MM, account=a,
                 at_s=20000),
        ],
        "IBKR_PED": [
            fill("p1", Side.BUY, 1500, "7.90", symbol="ZZZ", fee="5.25", account=a, at_s=120),
            fill("p2", Side.SELL, 500, "7.95", symbol="ZZZ", fee="1.75", account=a, at_s=4000),
            fill("p3", Side.SELL, 100, "101.00375", symbol="YYY", account=a, at_s=8000),
            fill("p4", Side.SELL, 400, "100.50", symbol="YYY", fee="1.40", bucket=MM, account=a,
                 at_s=15000),
            fill("p5", Side.BUY, 200, "100.7525", symbol="YYY", fee="0.70", bucket=MM, account=a,
                 at_s=22000),
        ],
    }  # fmt: skip
    return days[account]


HAND_MARKS: dict[str, dict[str, Decimal]] = {
    "HAMMER": {"XYZ": Decimal("25.50"), "ABC": Decimal("39.00")},
    "IBKR_GUN": {"BBB": Decimal("19.40"), "CCC": Decimal("15.30")},
    "IBKR_PED": {},
}


def fill_event(each: Fill, classification: str = "", *, keyed: bool = True) -> OrderFilled:
    """The execution service's event for a fill that completed its order.

    ``keyed`` events carry ``fill:<account>:<fill_id>`` as idempotency key, so the bus itself
    skips a re-sent one while its marks last; an unkeyed re-send is a new event to the bus and
    only the ledger's own fill-id check stops it.
    """
    return OrderFilled(
        ts_event=each.ts_ns,
        account=each.account,
        idempotency_key=f"fill:{each.account}:{each.fill_id}" if keyed else "",
        source="test-venue",
        order_id=each.order_id or f"ord-{each.fill_id}",
        symbol=each.symbol,
        side=each.side,
        qty=each.qty,
        order_type=OrderType.MARKET,
        bucket=each.bucket,
        fill_id=each.fill_id,
        last_qty=each.qty,
        last_price=each.price,
        fees=each.fee,
        cum_qty=each.qty,
        leaves_qty=0,
        avg_price=each.price,
        classification=classification,
    )


def many_fills(account: str, count: int, *, prefix: str = "m") -> list[Fill]:
    """``count`` fills for the fault tests: round trips and zero crossings in two symbols.

    Deterministic: sizes and prices cycle, so the same call gives the same fills.
    """
    out = []
    for i in range(count):
        side = Side.BUY if (i // 3) % 2 == 0 else Side.SELL
        symbol = ("XYZ", "QQQ")[i % 2]
        price = Decimal("25.00") + Decimal(i % 17) / 100
        out.append(
            fill(f"{prefix}{i:05d}", side, 100 * (1 + i % 4), str(price), symbol=symbol,
                 fee="0.05", account=account, at_s=60 + i,
                 bucket=MM if i % 5 == 0 else Bucket.LT)
        )  # fmt: skip
    return out


def write_baseline(directory: Path, account: str, day: dt.date = DAY) -> Path:
    """The account's hand baseline as a position file ``symbol,qty,bucket,prior_close``."""
    path = directory / f"befday_{account}.csv"
    rows = [f"{p.symbol},{p.qty},{p.bucket.value},{p.prior_close}"
            for p in hand_snapshot(account, day).positions]  # fmt: skip
    path.write_text("\n".join(["symbol,qty,bucket,prior_close", *rows]) + "\n")
    return path


def hand_accounts(directory: Path) -> list[AccountConfig]:
    """The three accounts as configured, each with its baseline file written to ``directory``."""
    return [
        AccountConfig(name=account, equity=Decimal("1000000"),
                      baseline=str(write_baseline(directory, account)))
        for account in ACCOUNTS
    ]  # fmt: skip


def interleaved(*days: list[Fill]) -> list[Fill]:
    """Fills of several accounts in one stream, alternating (each account's order kept)."""
    out: list[Fill] = []
    for index in range(max(len(day) for day in days)):
        out.extend(day[index] for day in days if index < len(day))
    return out


@contextlib.asynccontextmanager
async def running(bus: EventBus, service: Service) -> AsyncIterator[ServiceRunner]:
    """``service`` hosted by a runner on ``bus`` until the block ends (then a graceful stop)."""
    runner = ServiceRunner(bus, [service], Config(), instance="t", heartbeats=False)
    task = asyncio.create_task(runner.run(install_signals=False))
    started = asyncio.create_task(runner.started.wait())
    await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # it failed to start: show why
        started.cancel()
        task.result()
        raise AssertionError("the runner stopped before it started")
    try:
        yield runner
    finally:
        runner.request_stop()
        assert await task == 0, "the runner did not stop cleanly"
