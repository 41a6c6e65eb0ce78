"""Store tests: every test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from kit.ledger import (
    DAY,
    OPEN_NS,
    baseline,
    example_fills,
    example_snapshot,
    fill,
    money,
    snapshot,
)
from kit.secrets import fake_secret, masked_url, url_with_password
from quantrail.ledger.books import AccountDay, FillConflictError
from quantrail.ledger.journal import ExposureSample, ModeChange
from quantrail.ledger.migrations import latest_version
from quantrail.ledger.sql import connect
from quantrail.ledger.store import LedgerStore, SnapshotStatus, StoreError
from quantrail.vocab import Bucket, Mode, Side

MARKS = {"XYZ": money("25.50"), "ABC": money("39.00")}


def book_and_record(store: LedgerStore, books: AccountDay, *fills_: object) -> list[bool]:
    return [store.record_fill(books.book_fill(each)) for each in fills_]  # type: ignore[arg-type]


def test_migrations_apply_once_and_rerun_as_no_op(store_url: str) -> None:
    with LedgerStore.open(store_url, migrate=False) as fresh:
        assert fresh.schema_version() == 0
        assert fresh.migrate() == [1, 2, 3, 4, 5]
        assert fresh.migrate() == []
        assert fresh.schema_version() == latest_version() == 5
    with LedgerStore.open(store_url) as reopened:
        assert reopened.migrate() == []
        assert reopened.schema_version() == 5


def test_a_database_newer_than_the_code_is_refused(store_url: str) -> None:
    LedgerStore.open(store_url).close()
    later_release = connect(store_url)
    with later_release.transaction() as tx:
        tx.run("INSERT INTO schema_version (version, name) VALUES (?, ?)", (99, "from the future"))
    later_release.close()

    with pytest.raises(RuntimeError, match="at version 99, newer than this code"):
        LedgerStore.open(store_url)


def test_fill_is_stored_once_and_a_duplicate_returns_false(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    books = AccountDay(example_snapshot())
    first = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))

    assert store.record_fill(first) is True
    assert store.record_fill(first) is False  # re-delivery of the same booking
    assert store.record_fill(books.book_fill(fill("f1", Side.BUY, 300, "25.10"))) is False
    # A restarted service whose fresh books book the fill again still gets False.
    assert store.record_fill(AccountDay(example_snapshot()).book_fill(first.fill)) is False
    assert [f.fill_id for f in store.load_fills("HAMMER", DAY)] == ["f1"]
    assert store.has_fill("HAMMER", "f1") and not store.has_fill("IBKR_GUN", "f1")


def test_same_fill_id_with_other_content_is_a_conflict(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    store.record_fill(AccountDay(example_snapshot()).book_fill(fill("f1", Side.BUY, 300, "25.10")))
    other = AccountDay(example_snapshot()).book_fill(fill("f1", Side.BUY, 300, "25.20"))

    with pytest.raises(FillConflictError, match="already stored with different content"):
        store.record_fill(other)


def test_reload_from_store_equals_live_books(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    live = AccountDay(example_snapshot())
    assert book_and_record(store, live, *example_fills()) == [True, True]
    book_and_record(store, live, fill("x1", Side.BUY, 800, "39.50", symbol="ABC", at_s=30))

    reloaded = store.load_day("HAMMER", DAY)

    assert reloaded.open_lots() == live.open_lots()
    assert store.open_lots("HAMMER", DAY) == list(live.open_lots())
    assert reloaded.positions() == live.positions() == {"ABC": 300, "XYZ": 500}
    assert reloaded.totals() == live.totals()
    assert reloaded.totals().realized_intraday == money("60.00")
    assert reloaded.totals().baseline_reduction == money("400.00")  # 150.00 + 250.00
    assert reloaded.totals().net == money("458.95")  # 60.00 + 400.00 - 1.05
    assert reloaded.unrealized(MARKS).total == money("100.00")  # 250.00 - 150.00
    assert [r.legs for r in reloaded.results()] == [r.legs for r in live.results()]
    assert store.fill_classes("HAMMER", DAY) == [
        ("f1", "LT_LONG_INCREASE", 300),
        ("f2", "LT_LONG_DECREASE", 800),
        ("x1", "LT_SHORT_DECREASE", 500),
        ("x1", "LT_LONG_INCREASE", 300),
    ]


def test_money_round_trips_exactly(store: LedgerStore) -> None:
    store.save_snapshot(snapshot(baseline("XYZ", 100, "25.1000")))
    books = AccountDay(snapshot(baseline("XYZ", 100, "25.1000")))
    book_and_record(store, books, fill("p1", Side.BUY, 7, "25.0037", fee="0.0035"))

    stored = store.load_fills("HAMMER", DAY)[0]
    assert (str(stored.price), str(stored.fee)) == ("25.0037", "0.0035")
    prior_close = store.load_snapshot("HAMMER", DAY).positions[0].prior_close  # type: ignore[union-attr]
    assert str(prior_close) == "25.1000"


def test_a_rebate_round_trips_as_a_negative_fee(store: LedgerStore) -> None:
    store.save_snapshot(snapshot(baseline("XYZ", 100, "25.00")))
    books = AccountDay(snapshot(baseline("XYZ", 100, "25.00")))
    book_and_record(store, books, fill("m1", Side.SELL, 100, "25.01", fee="-0.2000"))

    assert str(store.load_fills("HAMMER", DAY)[0].fee) == "-0.2000"


def test_lot_changes_roll_back_with_the_fill(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    books = AccountDay(example_snapshot())
    opened = books.book_fill(fill("f1", Side.BUY, 300, "25.10"))
    closing = books.book_fill(fill("f2", Side.SELL, 800, "25.30"))

    # Recording the close before the open: the store does not hold lot F:f1, so nothing of f2
    # may be written.
    with pytest.raises(StoreError, match="lot 'F:f1' is not open with 300 shares"):
        store.record_fill(closing)
    assert not store.has_fill("HAMMER", "f2")
    assert store.open_lots("HAMMER", DAY)[-1].qty == 1000  # B:XYZ untouched
    assert store.record_fill(opened) and store.record_fill(closing)
    assert store.load_day("HAMMER", DAY).positions() == {"ABC": -500, "XYZ": 500}


def test_fill_without_a_stored_snapshot_is_refused(store: LedgerStore) -> None:
    result = AccountDay(example_snapshot()).book_fill(fill("f1", Side.BUY, 300, "25.10"))

    with pytest.raises(StoreError, match="no befday snapshot stored for account 'HAMMER'"):
        store.record_fill(result)
    with pytest.raises(StoreError, match="no befday snapshot"):
        store.load_day("HAMMER", DAY)


def test_accounts_are_kept_apart(store: LedgerStore) -> None:
    for account in ("HAMMER", "IBKR_GUN", "IBKR_PED"):
        store.save_snapshot(example_snapshot(account))
    gun = AccountDay(example_snapshot("IBKR_GUN"))
    book_and_record(store, gun, *example_fills("IBKR_GUN"))
    # The same venue fill id on another account is another fill.
    ped = AccountDay(example_snapshot("IBKR_PED"))
    assert book_and_record(store, ped, fill("f1", Side.SELL, 100, "25.40", account="IBKR_PED"))

    assert store.load_day("HAMMER", DAY).positions() == {"ABC": -500, "XYZ": 1000}
    assert store.load_day("IBKR_GUN", DAY).totals().net == money("209.30")
    assert store.load_day("IBKR_PED", DAY).totals().baseline_reduction == money("40.00")


def test_befday_snapshot_is_idempotent_for_the_day(store: LedgerStore) -> None:
    first = store.save_snapshot(example_snapshot())
    other = snapshot(baseline("XYZ", 2000, "26.00"), taken_ts_ns=OPEN_NS)
    second = store.save_snapshot(other)

    assert first.status is SnapshotStatus.CREATED
    assert second.status is SnapshotStatus.EXISTING
    assert second.snapshot == example_snapshot()  # the existing one is reported, not replaced
    assert store.load_snapshot("HAMMER", DAY) == example_snapshot()
    assert store.journal.audit_records() == []


def test_forced_snapshot_replaces_it_with_an_audit_row_and_rebooks_fills(
    store: LedgerStore,
) -> None:
    store.save_snapshot(example_snapshot())
    book_and_record(store, AccountDay(example_snapshot()), *example_fills())
    corrected = snapshot(baseline("XYZ", 400, "25.20"), taken_ts_ns=OPEN_NS + 60 * 10**9)

    outcome = store.save_snapshot(corrected, force=True)

    assert outcome.status is SnapshotStatus.REPLACED
    assert store.load_snapshot("HAMMER", DAY) == corrected
    [audit] = store.journal.audit_records("HAMMER")
    assert (audit.ts_ns, audit.action) == (corrected.taken_ts_ns, "befday.snapshot.replaced")
    assert audit.detail["old_positions"] == [
        ["ABC", -500, "LT", "40.00"],
        ["XYZ", 1000, "LT", "25.00"],
    ]
    assert audit.detail["new_positions"] == [["XYZ", 400, "LT", "25.20"]]
    assert audit.detail["fills_rebooked"] == 2
    # 400 + 300 - 800 = -100: the sell now closes F:f1 (300), the baseline (400), opens -100.
    books = store.load_day("HAMMER", DAY)
    assert books.positions() == {"XYZ": -100}
    assert books.totals().realized_intraday == money("60.00")  # (25.30 - 25.10) x 300
    assert books.totals().baseline_reduction == money("40.00")  # (25.30 - 25.20) x 400
    assert [c[1:] for c in store.fill_classes("HAMMER", DAY)] == [
        ("LT_LONG_INCREASE", 300),
        ("LT_LONG_DECREASE", 700),
        ("LT_SHORT_INCREASE", 100),
    ]


def test_mode_changes_and_exposure_samples_round_trip(store: LedgerStore) -> None:
    change = ModeChange(OPEN_NS, Mode.SOFT_DERISK, "gross 121.5% > soft 120%", "HAMMER")
    sample = ExposureSample(
        ts_ns=OPEN_NS,
        equity=Decimal("1000000.00"),
        long_notional=Decimal("800000.00"),
        short_notional=Decimal("415000.00"),
        gross_pct=Decimal("121.5"),
        net_pct=Decimal("38.5"),
        account="HAMMER",
    )
    store.journal.record_mode_change(change)
    store.journal.record_mode_change(ModeChange(OPEN_NS + 1, Mode.NORMAL, "all clear"))
    store.journal.record_exposure(sample)

    assert store.journal.mode_changes("HAMMER") == [change]
    assert [c.mode for c in store.journal.mode_changes()] == [Mode.SOFT_DERISK, Mode.NORMAL]
    assert store.journal.exposure_samples() == [sample]
    assert store.journal.exposure_samples("IBKR_GUN") == []


def test_bad_urls_are_refused_without_showing_the_password() -> None:
    secret = fake_secret()
    with pytest.raises(ValueError, match=re.escape(masked_url("db/x", "me", "mysql"))) as caught:
        LedgerStore.open(url_with_password(secret, "db/x", "me", "mysql"))
    assert secret not in str(caught.value)
    with pytest.raises(ValueError, match="sqlite:/// needs a path"):
        LedgerStore.open("sqlite:///")


def test_sqlite_memory_store_works() -> None:
    with LedgerStore.open("sqlite:///:memory:") as memory:
        assert memory.save_snapshot(example_snapshot()).status is SnapshotStatus.CREATED
        assert memory.load_day("HAMMER", DAY).positions() == {"ABC": -500, "XYZ": 1000}
        assert memory.dialect == "sqlite"


def test_bucket_is_kept_on_lots(store: LedgerStore) -> None:
    store.save_snapshot(example_snapshot())
    books = AccountDay(example_snapshot())
    book_and_record(
        store, books, fill("m1", Side.BUY, 100, "5.00", symbol="MMQ", bucket=Bucket.MM_PURE)
    )

    [lot] = [x for x in store.open_lots("HAMMER", DAY) if x.symbol == "MMQ"]
    assert (lot.bucket, lot.qty, lot.price) == (Bucket.MM_PURE, 100, money("5.00"))


def test_stored_lots_that_disagree_with_the_fills_fail_the_reload(store_url: str) -> None:
    with LedgerStore.open(store_url) as store:
        store.save_snapshot(example_snapshot())
        book_and_record(store, AccountDay(example_snapshot()), *example_fills())
    tampered = connect(store_url)
    with tampered.transaction() as tx:
        tx.run("UPDATE lots SET qty_open = ? WHERE lot_id = ?", (499, "B:XYZ"))
    tampered.close()

    with LedgerStore.open(store_url) as store, pytest.raises(StoreError, match="lots differ"):
        store.load_day("HAMMER", DAY)


def test_concurrent_openers_migrate_exactly_once(store_url: str) -> None:
    def open_and_migrate() -> list[int]:
        with LedgerStore.open(store_url, migrate=False) as opener:
            return opener.migrate()

    with ThreadPoolExecutor(max_workers=4) as pool:
        applied = list(pool.map(lambda _: open_and_migrate(), range(4)))

    assert sorted(applied) == [[], [], [], [1, 2, 3, 4, 5]]
