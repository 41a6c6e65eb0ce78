"""Reading the books back from rows, inside the caller's open transaction.

Snapshots, fills, classified legs and open lots as the ledger's values; ``store.py`` writes
them. Kept apart so the store's module stays about what a write must guarantee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from quantrail.ledger.books import BaselinePosition, BefDaySnapshot, Fill
from quantrail.ledger.corrections import FillCorrection, effective_fills
from quantrail.ledger.lots import Lot, Origin
from quantrail.ledger.sql import Tx
from quantrail.ledger.sql import money as _money
from quantrail.vocab import Bucket, Side

FILL_COLUMNS = "fill_id, account, ts_ns, symbol, side, qty, price, fee, bucket, order_id"
LOT_COLUMNS = "lot_id, symbol, origin, bucket, qty_open, price, opened_ts_ns"
DAY = "account = ? AND day = ?"
CORRECTION_COLUMNS = "correction_id, fill_id, account, ts_ns, qty, price, fee"


def select_legs(tx: Tx, account: str, day: dt.date) -> list[tuple[str, str, int]]:
    source = "fill_legs l JOIN fills f ON f.account = l.account AND f.fill_id = l.fill_id"
    where = "l.account = ? AND l.day = ? ORDER BY f.seq, l.leg_no"
    rows = tx.select(source, "l.fill_id, l.fill_class, l.qty", where, account, day.isoformat())
    return [(str(fill_id), str(name), int(qty)) for fill_id, name, qty in rows]


def select_snapshot(tx: Tx, account: str, day: dt.date) -> BefDaySnapshot | None:
    key = (account, day.isoformat())
    head = tx.select("befday_snapshots", "taken_ts_ns", DAY, *key)
    if not head:
        return None
    columns = "symbol, qty, bucket, prior_close"
    rows = tx.select("befday_positions", columns, f"{DAY} ORDER BY symbol", *key)
    positions = tuple(
        BaselinePosition(str(symbol), int(qty), Bucket(bucket), _money(close))
        for symbol, qty, bucket, close in rows
    )
    return BefDaySnapshot(account, day, positions, int(head[0][0]))


def no_day_message(tx: Tx, account: str, day: dt.date) -> str:
    """Why ``account`` has no books on ``day``: an unknown account, or a day without data."""
    rows = tx.select("befday_snapshots", "day", "account = ? ORDER BY day", account)
    days = [str(each) for (each,) in rows]
    if not days:
        return (
            f"account {account!r} is unknown to the ledger: no befday snapshot on any day"
            " (check the name, or book its fills first)"
        )
    before = [each for each in days if each < day.isoformat()]
    after = [each for each in days if each > day.isoformat()]
    near = ", ".join(
        part for part in (
            f"last before: {before[-1]}" if before else "",
            f"first after: {after[0]}" if after else "",
        ) if part
    )  # fmt: skip
    return (
        f"account {account!r}: no data for {day.isoformat()} (no befday snapshot that day;"
        f" it has {len(days)} other days, {near})"
    )


def select_fills(tx: Tx, account: str, day: dt.date) -> list[tuple[int, Fill]]:
    where = f"{DAY} ORDER BY seq"
    rows = tx.select("fills", f"seq, {FILL_COLUMNS}", where, account, day.isoformat())
    return [(int(row[0]), fill_of_row(row[1:])) for row in rows]


def select_effective_fills(tx: Tx, account: str, day: dt.date) -> list[tuple[int, Fill, Fill]]:
    """(seq, the fill as received, the fill as booked now) in booking order: each fill with
    its latest correction applied (``ledger/corrections.py``)."""
    rows = select_fills(tx, account, day)
    pairs = effective_fills([fill for _seq, fill in rows], select_corrections(tx, account, day))
    seqs = [seq for seq, _fill in rows]
    return [(seq, got, now) for seq, (got, now) in zip(seqs, pairs, strict=True)]


def select_corrections(tx: Tx, account: str, day: dt.date) -> list[FillCorrection]:
    where = f"{DAY} ORDER BY seq"
    rows = tx.select("fill_corrections", CORRECTION_COLUMNS, where, account, day.isoformat())
    return [correction_of_row(row) for row in rows]


def correction_of_row(row: Sequence[Any]) -> FillCorrection:
    correction_id, fill_id, account, ts_ns, qty, price, fee = row
    return FillCorrection(
        str(correction_id), str(fill_id), str(account), int(ts_ns), int(qty), _money(price),
        _money(fee),
    )  # fmt: skip


def fill_of_row(row: Sequence[Any]) -> Fill:
    fill_id, account, ts_ns, symbol, side, qty, price, fee, bucket, order_id = row
    return Fill(
        str(fill_id), str(account), int(ts_ns), str(symbol), Side(side), int(qty),
        _money(price), _money(fee), Bucket(bucket), str(order_id),
    )  # fmt: skip


def select_open_lots(tx: Tx, account: str, day: dt.date) -> list[Lot]:
    where = f"{DAY} AND qty_open <> 0 ORDER BY symbol, seq"
    return [
        lot_of_row(row) for row in tx.select("lots", LOT_COLUMNS, where, account, day.isoformat())
    ]


def lot_of_row(row: Sequence[Any]) -> Lot:
    lot_id, symbol, origin, bucket, qty, price, ts_ns = row
    return Lot(
        str(lot_id), str(symbol), Origin(origin), Bucket(bucket), int(qty), _money(price),
        int(ts_ns),
    )  # fmt: skip
