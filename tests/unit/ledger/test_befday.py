"""Where a BefDay snapshot comes from: a position file, or the ledger's previous day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from kit.ledger import DAY, OPEN_NS, baseline, example_snapshot, fill, snapshot
from quantrail.ledger.befday import carried_forward, ensure_snapshot, snapshot_from_file
from quantrail.ledger.booking import Booker
from quantrail.ledger.marks import MarkSource
from quantrail.ledger.store import LedgerStore, SnapshotStatus, StoreError
from quantrail.risk.baseline import BaselineFileError
from quantrail.vocab import Bucket, Side

NEXT_DAY = dt.date(2025, 3, 4)


def test_a_position_file_becomes_the_snapshot_and_flat_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    path.write_text(
        "symbol,qty,bucket,prior_close\nXYZ,1000,LT,25.00\nOLD,0,LT,3.00\nABC,-500,LT,40.00\n"
    )

    taken = snapshot_from_file("HAMMER", DAY, path, OPEN_NS - 3600 * 10**9)

    assert taken == example_snapshot()


def test_a_bad_position_file_names_line_column_and_value(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    path.write_text("symbol,qty,bucket,prior_close\nXYZ,1000,LT,25.00\nABC,-500,LT,free\n")

    with pytest.raises(BaselineFileError, match=r"line 3, column 'prior_close'.*'free'"):
        snapshot_from_file("HAMMER", DAY, path, OPEN_NS)


def test_the_previous_day_is_carried_forward_with_its_closing_marks(store: LedgerStore) -> None:
    start = snapshot(
        baseline("XYZ", 1000, "25.00"), baseline("ABC", -500, "40.00"), baseline("KEEP", 50, "7.00")
    )
    store.save_snapshot(start)
    booker = Booker(store, timezone="America/New_York")
    booker.book(fill("f1", Side.SELL, 400, "25.30"))  # XYZ 1000 -> 600, last trade 25.30
    booker.book(fill("x1", Side.BUY, 800, "39.50", symbol="ABC"))  # ABC -500 -> +300
    booker.book(fill("m1", Side.BUY, 100, "5.00", symbol="MMQ", bucket=Bucket.MM_PURE))

    carried = carried_forward(store, "HAMMER", NEXT_DAY, OPEN_NS, {"XYZ": Decimal("25.55")})

    assert carried.from_day == DAY
    assert [(p.symbol, p.qty, p.bucket, p.prior_close) for p in carried.snapshot.positions] == [
        ("ABC", 300, Bucket.LT, Decimal("39.50")),  # the last fill: nothing given
        ("KEEP", 50, Bucket.LT, Decimal("7.00")),  # untouched: its own prior close
        ("MMQ", 100, Bucket.MM_PURE, Decimal("5.00")),
        ("XYZ", 600, Bucket.LT, Decimal("25.55")),  # the given close wins
    ]
    assert {s: m.source for s, m in carried.marks.items()} == {
        "ABC": MarkSource.LAST_FILL,
        "KEEP": MarkSource.PRIOR_CLOSE,
        "MMQ": MarkSource.LAST_FILL,
        "XYZ": MarkSource.GIVEN,
    }


def test_carrying_forward_needs_an_earlier_day(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot(day=NEXT_DAY))

    with pytest.raises(StoreError, match="no day before 2025-03-04 to carry forward"):
        carried_forward(store, "HAMMER", NEXT_DAY, OPEN_NS)


def test_ensure_snapshot_keeps_an_existing_one(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())

    outcome = ensure_snapshot(store, "HAMMER", DAY, None, OPEN_NS)

    assert outcome.status is SnapshotStatus.EXISTING
    assert outcome.snapshot == example_snapshot()
    assert store.journal.audit_records() == []
