"""A venue's correction of a booked fill: stored once beside the fill, and the day re-booked as
if the fill had been made at the corrected values (SQLite and PostgreSQL, see conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.ledger import DAY, OPEN_NS, example_snapshot, fill, snapshot
from quantrail.ledger.booking import Booker
from quantrail.ledger.books import AccountDay, FillConflictError
from quantrail.ledger.corrections import FillCorrection, UnknownFillError, effective_fills
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Side

D = Decimal
ACCOUNT = "HAMMER"


def _correction(qty: int = 300, price: str = "25.05", fee: str = "0.50",
                correction_id: str = "f1.02") -> FillCorrection:  # fmt: skip
    return FillCorrection(correction_id, "f1", ACCOUNT, OPEN_NS + 99, qty, D(price), D(fee))


def _booked(store: LedgerStore) -> Booker:
    """Baseline long 1,000 XYZ @ 25.00; buy 300 @ 25.10 (f1), sell 800 @ 25.30 (f2)."""
    store.save_snapshot(example_snapshot())
    booker = Booker(store, timezone="America/New_York")
    booker.book(fill("f1", Side.BUY, 300, "25.10", at_s=10))
    booker.book(fill("f2", Side.SELL, 800, "25.30", at_s=20))
    return booker


def test_a_price_correction_rebooks_the_later_close_to_the_cent(store: LedgerStore) -> None:
    booker = _booked(store)
    before = store.load_day(ACCOUNT, DAY).totals("XYZ")
    assert (before.realized_intraday, before.baseline_reduction) == (D("60.00"), D("150.00"))
    assert booker.correct(_correction()) is True
    books = store.load_day(ACCOUNT, DAY)  # rebuilt from SQL, checked against the stored lots
    totals = books.totals("XYZ")
    # the 300 bought at 25.05 close at 25.30: 75.00; the baseline reduction stays 150.00
    assert (totals.realized_intraday, totals.baseline_reduction) == (D("75.00"), D("150.00"))
    assert totals.fees == D("0.85")  # 0.50 + 0.35
    assert books.position("XYZ") == 500
    assert [f.price for f in store.load_fills(ACCOUNT, DAY)] == [D("25.05"), D("25.30")]
    assert store.read_day(ACCOUNT, DAY).fills[0].fee == D("0.50")
    assert booker.correct(_correction()) is False  # a repeat: nothing changes
    assert store.load_day(ACCOUNT, DAY).totals("XYZ") == totals


def test_the_fill_as_received_stays_a_duplicate_and_later_fills_book_on_the_corrected_day(
    store: LedgerStore,
) -> None:
    booker = _booked(store)
    booker.correct(_correction())
    assert booker.book(fill("f1", Side.BUY, 300, "25.10", at_s=10)).stored is False
    later = booker.book(fill("f3", Side.SELL, 500, "25.40", at_s=30))
    assert later.stored and later.result.position_after == 0
    assert store.count_fills(ACCOUNT) == 3


def test_a_quantity_correction_and_a_second_correction_replace_the_first(
    store: LedgerStore,
) -> None:
    store.save_snapshot(snapshot())
    booker = Booker(store, timezone="America/New_York")
    booker.book(fill("f1", Side.BUY, 300, "25.10", at_s=10))
    booker.book(fill("f2", Side.SELL, 100, "25.30", at_s=20))
    booker.correct(_correction(qty=250, price="25.00"))
    booker.correct(_correction(qty=250, price="24.90", correction_id="f1.03"))
    books = store.load_day(ACCOUNT, DAY)
    assert books.position("XYZ") == 150
    [lot] = books.open_lots("XYZ")
    assert (lot.qty, lot.price) == (150, D("24.90"))
    assert books.totals("XYZ").realized_intraday == D("40.00")  # (25.30 - 24.90) x 100
    assert books.unrealized({"XYZ": D("25.50")}).total == D("90.00")  # 0.60 x 150


def test_a_snapshot_replaced_later_keeps_the_correction(store: LedgerStore) -> None:
    booker = _booked(store)
    booker.correct(_correction())
    store.save_snapshot(snapshot(), force=True)  # no baseline: f2 sells 300 and goes short
    books = store.load_day(ACCOUNT, DAY)
    assert books.totals("XYZ").realized_intraday == D("75.00")
    assert books.position("XYZ") == -500


def test_a_correction_of_an_unknown_fill_or_with_other_content_is_refused(
    store: LedgerStore,
) -> None:
    with pytest.raises(UnknownFillError, match="'f1'"):
        store.record_correction(_correction())
    booker = _booked(store)
    booker.correct(_correction())
    with pytest.raises(FillConflictError, match=r"f1\.02"):
        store.record_correction(_correction(price="25.06"))


def test_effective_fills_apply_the_latest_correction_of_each_fill() -> None:
    f1, f2 = fill("f1", Side.BUY, 300, "25.10"), fill("f2", Side.SELL, 100, "25.30")
    pairs = effective_fills([f1, f2], [_correction(price="25.00"), _correction(price="24.90")])
    assert [(got.price, now.price) for got, now in pairs] == [
        (D("25.10"), D("24.90")), (D("25.30"), D("25.30")),
    ]  # fmt: skip
    books = AccountDay(snapshot())
    for got, now in pairs:
        books.book_fill(got, now)
    assert books.book_fill(f1).duplicate  # the fill as received is a duplicate, not a conflict
