"""The journal: audit rows, mode changes once per event, exposure thinned per minute."""

from __future__ import annotations

from decimal import Decimal

from kit.ledger import OPEN_NS, SECOND_NS
from quantrail.ledger.journal import AuditRecord, ExposureSample, ModeChange
from quantrail.ledger.store import LedgerStore
from quantrail.vocab import Mode

MINUTE_NS = 60 * SECOND_NS


def sample(at_s: int, gross: str, account: str = "HAMMER") -> ExposureSample:
    return ExposureSample(
        ts_ns=OPEN_NS + at_s * SECOND_NS,
        equity=Decimal("1000000.00"),
        long_notional=Decimal("600000.00"),
        short_notional=Decimal("400000.00"),
        gross_pct=Decimal(gross),
        net_pct=Decimal("20.0"),
        account=account,
    )


def test_exposure_keeps_the_latest_sample_of_each_minute(store: LedgerStore) -> None:
    journal = store.journal
    # OPEN_NS is 14:30:00 UTC, a whole minute: at_s 0..59 is one window, 60..119 the next.
    assert journal.record_exposure_sample(sample(0, "100.0"))
    assert journal.record_exposure_sample(sample(15, "101.0"))
    assert journal.record_exposure_sample(sample(45, "102.0"))
    assert journal.record_exposure_sample(sample(60, "103.0"))
    assert not journal.record_exposure_sample(sample(30, "99.0"))  # late and older: ignored
    assert journal.record_exposure_sample(sample(75, "104.0"))
    assert journal.record_exposure_sample(sample(5, "200.0", account="IBKR_GUN"))

    kept = journal.exposure_samples("HAMMER")

    assert [(s.ts_ns - OPEN_NS) // SECOND_NS for s in kept] == [45, 75]
    assert [s.gross_pct for s in kept] == [Decimal("102.0"), Decimal("104.0")]
    assert [s.gross_pct for s in journal.exposure_samples("IBKR_GUN")] == [Decimal("200.0")]


def test_exposure_samples_are_read_by_time_window(store: LedgerStore) -> None:
    for at_s in (0, 60, 120, 180):
        store.journal.record_exposure_sample(sample(at_s, "100.0"))

    window = store.journal.exposure_samples("HAMMER", OPEN_NS + MINUTE_NS, OPEN_NS + 3 * MINUTE_NS)

    assert [(s.ts_ns - OPEN_NS) // SECOND_NS for s in window] == [60, 120]


def test_a_mode_change_event_is_stored_once(store: LedgerStore) -> None:
    change = ModeChange(OPEN_NS, Mode.SOFT_DERISK, "gross 121% > 120%", "HAMMER", "ev-1")

    assert store.journal.record_mode_change(change) is True
    assert store.journal.record_mode_change(change) is False  # re-delivered
    assert store.journal.mode_changes("HAMMER") == [change]


def test_mode_changes_for_an_account_can_include_the_global_ones(store: LedgerStore) -> None:
    mine = ModeChange(OPEN_NS + 2, Mode.SOFT_DERISK, "gross high", "HAMMER", "ev-1")
    everyone = ModeChange(OPEN_NS + 1, Mode.THROTTLE_NEW_ORDERS, "late", None, "ev-2")
    other = ModeChange(OPEN_NS + 3, Mode.HARD_DERISK, "close", "IBKR_GUN", "ev-3")
    earlier = ModeChange(OPEN_NS - MINUTE_NS, Mode.NORMAL, "open", "HAMMER", "ev-4")
    for change in (mine, everyone, other, earlier):
        store.journal.record_mode_change(change)

    day = store.journal.mode_changes("HAMMER", OPEN_NS, OPEN_NS + MINUTE_NS, with_global=True)

    assert day == [everyone, mine]  # time order, IBKR_GUN's and the earlier one left out
    assert store.journal.mode_changes("HAMMER") == [earlier, mine]


def test_audit_rows_round_trip_their_detail(store: LedgerStore) -> None:
    record = AuditRecord(OPEN_NS, "HAMMER", "befday.snapshot.auto", {"source": "empty", "n": 0})
    store.journal.record_audit(record)

    assert store.journal.audit_records("HAMMER") == [record]
    assert store.journal.audit_records("IBKR_PED") == []
