"""The booking path shared by the service and fill files; the fill-file reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from kit.ledger import DAY, OPEN_NS, example_snapshot, fill, fill_event, hand_fills, money
from quantrail.ledger.booking import (
    CLASS_MISMATCH_ACTION,
    Booker,
    FillFileError,
    fill_from_event,
    read_fill_file,
    session_day,
)
from quantrail.ledger.books import LedgerInputError
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Side

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NY = "America/New_York"
HEADER = "fill_id,account,ts,symbol,side,qty,price,fee,bucket"
GOOD_ROW = "f1,HAMMER,2025-03-03T09:40:00-05:00,XYZ,BUY,300,25.10,0.35,LT"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "fills.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_example_fill_file_reads_as_the_hand_day() -> None:
    rows = read_fill_file(EXAMPLES / "fills_HAMMER.csv")

    assert [row.line for row in rows] == [2, 3, 4, 5, 6]
    # The file has no order ids; everything else is the kit's HAMMER day, to the nanosecond.
    assert [row.fill for row in rows] == [
        dataclasses.replace(each, order_id="") for each in hand_fills("HAMMER")
    ]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("ts", "2025-03-03T09:40:00", "ts needs a zone"),
        ("ts", "yesterday", "ISO 8601"),
        ("side", "buy", "side must be one of ['BUY', 'SELL']"),
        ("qty", "1.5", "whole number of shares"),
        ("qty", "0", "whole number of shares > 0"),
        ("price", "abc", "price must be a decimal number"),
        ("price", "0", "price must be > 0"),
        ("fee", "abc", "fee must be a decimal number"),
        ("fee", "NaN", "fee must be a finite decimal number"),
        ("bucket", "MM", "bucket must be one of ['LT', 'MM_PURE']"),
        ("account", "", "account must be a non-empty word"),
    ],
)
def test_a_bad_value_names_file_line_column_and_value(
    tmp_path: Path, column: str, value: str, reason: str
) -> None:
    values = dict(zip(HEADER.split(","), GOOD_ROW.split(","), strict=True))
    values[column] = value
    path = write(tmp_path, HEADER, GOOD_ROW.replace("f1", "f0"), ",".join(values.values()))

    with pytest.raises(FillFileError) as caught:
        read_fill_file(path)

    assert str(caught.value).startswith(f"{path}, line 3, column {column!r}: ")
    assert (caught.value.line, caught.value.column, caught.value.value) == (3, column, value)
    assert reason in str(caught.value) and f"(value: {value!r})" in str(caught.value)


def test_a_header_without_a_column_or_with_an_unknown_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FillFileError, match=r"line 1, column 'bucket': missing column"):
        read_fill_file(write(tmp_path, HEADER.replace(",bucket", ""), GOOD_ROW))
    with pytest.raises(FillFileError, match=r"line 1, column 'venue': unknown column"):
        read_fill_file(write(tmp_path, HEADER + ",venue", GOOD_ROW + ",X"))


def test_the_day_of_a_fill_is_the_exchange_local_date() -> None:
    # 23:30 in New York on 3 March is already 4 March in UTC.
    late = int(dt.datetime(2025, 3, 4, 4, 30, tzinfo=dt.UTC).timestamp()) * 10**9
    assert session_day(late, NY) == dt.date(2025, 3, 3)
    # After the switch to summer time (9 March), 00:30 EDT is 04:30 UTC: already the 10th.
    summer = int(dt.datetime(2025, 3, 10, 4, 30, tzinfo=dt.UTC).timestamp()) * 10**9
    assert session_day(summer, NY) == dt.date(2025, 3, 10)


def test_a_day_without_snapshot_starts_from_the_configured_file_and_is_audited(
    store: LedgerStore,
) -> None:
    files = {"HAMMER": str(EXAMPLES / "befday_HAMMER.csv")}
    booker = Booker(store, timezone=NY, baseline_files=files)

    booked = booker.book(fill("f1", Side.BUY, 300, "25.10", at_s=10))

    assert booked.stored and booked.day == DAY
    assert store.load_snapshot("HAMMER", DAY) == dataclasses.replace(
        example_snapshot(), taken_ts_ns=OPEN_NS + 10 * 10**9
    )
    [audit] = store.journal.audit_records("HAMMER")
    assert audit.action == "befday.snapshot.auto"
    assert audit.detail["source"].endswith("befday_HAMMER.csv")
    assert store.load_day("HAMMER", DAY).positions() == {"ABC": -500, "XYZ": 1300}


def test_an_account_without_a_file_starts_its_day_empty(store: LedgerStore) -> None:
    booker = Booker(store, timezone=NY)

    booker.book(fill("g1", Side.SELL, 100, "19.80", symbol="BBB", account="IBKR_GUN"))

    assert store.load_snapshot("IBKR_GUN", DAY).positions == ()
    [audit] = store.journal.audit_records("IBKR_GUN")
    assert (audit.action, audit.detail["source"]) == ("befday.snapshot.auto", "empty")
    assert store.load_day("IBKR_GUN", DAY).positions() == {"BBB": -100}


def test_a_fill_booked_twice_is_stored_once_even_across_a_restart(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    first = Booker(store, timezone=NY)
    f1 = fill("f1", Side.BUY, 300, "25.10")

    assert first.book(f1).stored is True
    assert first.book(f1).stored is False
    restarted = Booker(store, timezone=NY)  # fresh memory: the day is reloaded from the store
    assert restarted.book(f1).stored is False
    assert restarted.book(fill("f2", Side.SELL, 800, "25.30")).stored is True

    assert store.count_fills("HAMMER") == 2
    assert store.load_day("HAMMER", DAY).totals().realized_intraday == money("60.00")


def test_books_that_missed_another_writers_fill_are_reloaded(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    writer_a, writer_b = Booker(store, timezone=NY), Booker(store, timezone=NY)
    writer_b.books_for("HAMMER", DAY, OPEN_NS)  # B holds the day before A books f1
    writer_a.book(fill("f1", Side.BUY, 300, "25.10"))

    # B's memory would close the baseline lot only; the store refuses, B reloads and re-books.
    booked = writer_b.book(fill("f2", Side.SELL, 800, "25.30"))

    assert booked.stored
    assert [(c.lot_id, c.qty) for c in booked.result.closes] == [("F:f1", 300), ("B:XYZ", 500)]
    books = store.load_day("HAMMER", DAY)
    assert books.totals().realized_intraday == money("60.00")  # (25.30 - 25.10) x 300
    assert books.totals().baseline_reduction == money("150.00")  # (25.30 - 25.00) x 500


def test_a_producer_class_that_differs_from_the_ledgers_is_audited(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    booker = Booker(store, timezone=NY)

    booker.book(fill("f1", Side.BUY, 300, "25.10"), claimed_class="LT_LONG_INCREASE")
    booker.book(fill("x1", Side.BUY, 800, "39.50", symbol="ABC"), claimed_class="LT_LONG_INCREASE")

    [audit] = store.journal.audit_records("HAMMER")
    assert audit.action == CLASS_MISMATCH_ACTION
    assert audit.detail == {
        "day": "2025-03-03",
        "fill_id": "x1",
        "claimed": "LT_LONG_INCREASE",
        "booked": "LT_SHORT_DECREASE+LT_LONG_INCREASE",  # short 500 + buy 800 crosses zero
    }


def test_a_fill_event_becomes_the_ledgers_fill() -> None:
    each = fill("f1", Side.BUY, 300, "25.10", fee="0.0035", at_s=5)

    assert fill_from_event(fill_event(each)) == each
    assert fill_from_event(fill_event(each)).price == Decimal("25.10")


def test_a_fill_event_without_an_account_is_refused_by_name() -> None:
    event = fill_event(fill("f1", Side.BUY, 300, "25.10"))
    orphan = type(event)(
        **{**{f: getattr(event, f) for f in event.__struct_fields__}, "account": None}
    )

    with pytest.raises(LedgerInputError, match=r"fill 'f1': account must name the account"):
        fill_from_event(orphan)
