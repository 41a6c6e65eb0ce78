"""Where a BefDay snapshot comes from: a position file, the ledger's previous day, or nothing.

* ``snapshot_from_file``: a broker position file, ``symbol,qty,bucket,prior_close`` (CSV or
  YAML, read by ``quantrail.risk.baseline.load_baseline``); flat rows (qty 0) are skipped.
* ``carried_forward``: the end positions of the latest earlier day the ledger holds for the
  account, marked at that day's closing marks (``ledger/marks.py``).
* ``ensure_snapshot``: the service's rule for a fill on a day without a snapshot: the account's
  baseline file from the config when it has one, else an empty baseline. Audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from quantrail.ledger.books import BaselinePosition, BefDaySnapshot
from quantrail.ledger.journal import AuditRecord
from quantrail.ledger.lots import Lot
from quantrail.ledger.marks import Mark, closing_marks
from quantrail.ledger.store import LedgerStore, SnapshotOutcome, SnapshotStatus, StoreError
from quantrail.risk.baseline import BaselineRow, load_baseline
from quantrail.vocab import Bucket

AUTO_SNAPSHOT_ACTION = "befday.snapshot.auto"


@dataclass(frozen=True, slots=True)
class CarriedSnapshot:
    """A snapshot carried from ``from_day``, with the mark each position was given."""

    snapshot: BefDaySnapshot
    from_day: dt.date
    marks: Mapping[str, Mark]


def snapshot_from_rows(
    account: str, day: dt.date, rows: Iterable[BaselineRow], taken_ts_ns: int
) -> BefDaySnapshot:
    positions = tuple(
        BaselinePosition(row.symbol, row.qty, row.bucket, row.prior_close)
        for row in rows
        if row.qty != 0  # a flat line in a broker file is no baseline position
    )
    return BefDaySnapshot(account, day, positions, taken_ts_ns)


def snapshot_from_file(
    account: str, day: dt.date, path: str | Path, taken_ts_ns: int
) -> BefDaySnapshot:
    return snapshot_from_rows(account, day, load_baseline(path), taken_ts_ns)


def carried_forward(
    store: LedgerStore,
    account: str,
    day: dt.date,
    taken_ts_ns: int,
    given_marks: Mapping[str, Decimal] | None = None,
) -> CarriedSnapshot:
    """The latest earlier day's end positions as the baseline of ``day``."""
    earlier = [d for d in store.snapshot_days(account) if d < day]
    if not earlier:
        raise StoreError(
            f"account {account!r}: the ledger holds no day before {day.isoformat()} to carry "
            "forward; give a position file (--from FILE.csv) or a baseline file in the config"
        )
    books = store.load_day(account, earlier[-1])
    marks = closing_marks(books, given_marks)
    by_symbol: dict[str, list[Lot]] = {}
    for lot in books.open_lots():
        by_symbol.setdefault(lot.symbol, []).append(lot)
    positions = tuple(
        BaselinePosition(symbol, sum(lot.qty for lot in lots), _main_bucket(lots),
                         marks[symbol].price)
        for symbol, lots in sorted(by_symbol.items())
    )  # fmt: skip
    used = {symbol: marks[symbol] for symbol in by_symbol}
    return CarriedSnapshot(BefDaySnapshot(account, day, positions, taken_ts_ns), earlier[-1], used)


def _main_bucket(lots: list[Lot]) -> Bucket:
    """The bucket holding most of the symbol's open shares (the earliest lot's on a tie)."""
    shares: dict[Bucket, int] = {}
    for lot in lots:
        shares[lot.bucket] = shares.get(lot.bucket, 0) + abs(lot.qty)
    return max(shares, key=lambda bucket: shares[bucket])  # dicts keep first-seen order on ties


def ensure_snapshot(
    store: LedgerStore,
    account: str,
    day: dt.date,
    baseline_file: str | Path | None,
    taken_ts_ns: int,
) -> SnapshotOutcome:
    """The day's snapshot, saved from ``baseline_file`` (or empty) when there is none yet.

    A snapshot made here is audited (``befday.snapshot.auto``) with where it came from, so an
    operator sees which days started without ``quantrail snapshot befday``.
    """
    existing = store.load_snapshot(account, day)
    if existing is not None:
        return SnapshotOutcome(SnapshotStatus.EXISTING, existing)
    if baseline_file is not None:
        snapshot = snapshot_from_file(account, day, baseline_file, taken_ts_ns)
    else:
        snapshot = BefDaySnapshot(account, day, (), taken_ts_ns)
    detail = {
        "day": day.isoformat(),
        "source": str(baseline_file) if baseline_file is not None else "empty",
        "positions": [[p.symbol, p.qty, p.bucket.value, str(p.prior_close)]
                      for p in snapshot.positions],
    }  # fmt: skip
    audit = AuditRecord(taken_ts_ns, account, AUTO_SNAPSHOT_ACTION, detail)
    return store.save_snapshot(snapshot, audit=audit)
