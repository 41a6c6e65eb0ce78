"""The desk's P&L from the ledger's SQL: the dual books of the hand-computed HAMMER day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from kit.ledger import OPEN_NS, hand_fills, hand_snapshot
from quantrail.ledger.books import AccountDay
from quantrail.ledger.store import LedgerStore
from quantrail.ops.desk_ledger import ledger_reader
from quantrail.ops.desk_view import LedgerPnl

NY = "America/New_York"


def test_the_ledger_gives_intraday_baseline_unrealized_and_fees(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with LedgerStore.open(url) as store:
        store.save_snapshot(hand_snapshot("HAMMER"))
        books = AccountDay(hand_snapshot("HAMMER"))
        for each in hand_fills("HAMMER"):
            store.record_fill(books.book_fill(each))
    read = ledger_reader(url, NY, now_ns=lambda: OPEN_NS)
    marks = {"XYZ": Decimal("25.50"), "ABC": Decimal("39.00")}
    # Figures by hand in tests/unit/ledger/test_report.py (HAND["HAMMER"]).
    assert read("HAMMER", marks) == (
        LedgerPnl(Decimal("80.00"), Decimal("400.00"), Decimal("100.00"), Decimal("1.75")),
        "",
    )


def test_a_day_without_snapshot_says_so_instead_of_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    LedgerStore.open(url).close()
    figures, note = ledger_reader(url, NY, now_ns=lambda: OPEN_NS)("HAMMER", {})
    assert figures is None and note.startswith("ledger: account 'HAMMER' is unknown")


def test_a_database_without_ledger_tables_is_a_note_not_a_crash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    figures, note = ledger_reader(url, NY, now_ns=lambda: OPEN_NS)("HAMMER", {})
    assert figures is None and "no such table" in note
