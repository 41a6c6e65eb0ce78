"""``LedgerStore.transaction``: several writes kept together or not at all; inner ones nest."""

from __future__ import annotations

import pytest

from kit.ledger import DAY, example_snapshot, fill
from quantrail.ledger.books import AccountDay
from quantrail.ledger.store import LedgerStore, StoreError
from quantrail.vocab import Side


def test_a_failure_inside_the_outer_transaction_keeps_none_of_its_writes(
    store: LedgerStore,
) -> None:
    store.save_snapshot(example_snapshot())
    books = AccountDay(example_snapshot())
    first = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))
    second = books.book_fill(fill("f2", Side.BUY, 100, "25.20", at_s=1))
    with pytest.raises(RuntimeError, match="a later row failed"), store.transaction():
        assert store.record_fill(first) and store.record_fill(second)
        raise RuntimeError("a later row failed")
    assert store.count_fills() == 0


def test_a_failed_inner_write_rolls_back_alone_and_the_outer_goes_on(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    books = AccountDay(example_snapshot())
    opened = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))
    closing = books.book_fill(fill("f2", Side.SELL, 800, "25.30"))
    with store.transaction():
        with pytest.raises(StoreError):
            store.record_fill(closing)  # before its open: refused, its savepoint rolled back
        assert store.record_fill(opened) and store.record_fill(closing)
    assert store.count_fills() == 2
    assert store.load_day("HAMMER", DAY).positions() == {"ABC": -500, "XYZ": 500}
