"""The ledger's SQL store: BefDay snapshots, fills, their classified legs and lots.

Two backends behind one small interface, chosen by URL (``ledger/sql.py``): SQLite
(``sqlite:///path.sqlite``, ``sqlite:///:memory:``) and PostgreSQL (``postgresql://...``). Every
write is one transaction; a fill and the lot changes it caused commit together or not at all.
The venue fill id is the idempotency key: ``record_fill`` returns False for a fill id the account
already has. Audit rows, mode changes and exposure samples are in ``store.journal``
(``ledger/journal.py``), in the same database.
"""

from __future__ import annotations

import datetime as dt
import enum
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType

from quantrail.ledger.books import (
    AccountDay,
    BefDaySnapshot,
    BookingResult,
    Fill,
    FillConflictError,
)
from quantrail.ledger.corrections import FillCorrection, UnknownFillError
from quantrail.ledger.journal import AuditRecord, Journal, insert_audit
from quantrail.ledger.live_marks import LiveMarks
from quantrail.ledger.lots import Lot, LotClose, Origin, baseline_lot_id
from quantrail.ledger.migrations import apply_migrations, current_version
from quantrail.ledger.sql import Backend, Tx, connect
from quantrail.ledger.store_reads import (
    CORRECTION_COLUMNS,
    DAY,
    FILL_COLUMNS,
    correction_of_row,
    fill_of_row,
    no_day_message,
    select_effective_fills,
    select_legs,
    select_open_lots,
    select_snapshot,
)


class StoreError(RuntimeError):
    """The store cannot do what was asked (missing snapshot, books and store disagree)."""


class SnapshotStatus(enum.StrEnum):
    CREATED = "CREATED"
    EXISTING = "EXISTING"
    REPLACED = "REPLACED"


@dataclass(frozen=True, slots=True)
class SnapshotOutcome:
    """What ``save_snapshot`` did, and the snapshot now in effect for the account and day."""

    status: SnapshotStatus
    snapshot: BefDaySnapshot


@dataclass(frozen=True, slots=True)
class StoredDay:
    """One account-day as stored, read in one transaction: the input of reports.

    ``legs`` are (fill_id, class name, shares) in booking order; ``open_lots`` by symbol then
    opening order.
    """

    snapshot: BefDaySnapshot
    fills: tuple[Fill, ...]
    legs: tuple[tuple[str, str, int], ...]
    open_lots: tuple[Lot, ...]


class LedgerStore:
    """The ledger's durable state. One thread at a time; open one per process and reuse it."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend
        self.journal = Journal(backend)
        self.live_marks = LiveMarks(backend)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> LedgerStore:
        store = cls(connect(url))
        if migrate:
            store.migrate()
        return store

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the pending schema migrations; returns the versions applied (none: [])."""
        return apply_migrations(self._db)

    def schema_version(self) -> int:
        with self._db.transaction() as tx:
            self._db.lock_schema(tx)
            return current_version(tx)

    # -- BefDay snapshots ---------------------------------------------------------------------

    def save_snapshot(
        self, snapshot: BefDaySnapshot, *, force: bool = False, audit: AuditRecord | None = None
    ) -> SnapshotOutcome:
        """Freeze the baseline: the existing snapshot wins unless ``force`` (audited replace).

        A forced replace after fills were booked rebuilds the day's lots and classes by
        replaying those fills onto the new baseline, in the same transaction. ``audit`` is
        written with a newly created snapshot, in the same transaction.
        """
        with self._db.transaction() as tx:
            existing = select_snapshot(tx, snapshot.account, snapshot.day)
            if existing is None:
                _insert_snapshot(tx, snapshot)
                if audit is not None:
                    insert_audit(tx, audit)
                return SnapshotOutcome(SnapshotStatus.CREATED, snapshot)
            if not force:
                return SnapshotOutcome(SnapshotStatus.EXISTING, existing)
            rebooked = _replace_snapshot(tx, existing, snapshot)
            insert_audit(tx, _replace_audit(existing, snapshot, rebooked))
            return SnapshotOutcome(SnapshotStatus.REPLACED, snapshot)

    def load_snapshot(self, account: str, day: dt.date) -> BefDaySnapshot | None:
        with self._db.transaction() as tx:
            return select_snapshot(tx, account, day)

    # -- fills and lots -----------------------------------------------------------------------

    def record_fill(self, result: BookingResult) -> bool:
        """Persist a booked fill, its legs and lot changes atomically; False for a duplicate.

        Raises ``FillConflictError`` when the fill id is stored with different content, and
        ``StoreError`` when the books were not booked on the stored state: the stored lots are
        not the ones the books closed, or the stored position does not come out at the fill's
        ``position_after`` (then nothing is written: reload the day with ``load_day``).
        """
        if result.duplicate:
            return False
        fill = result.fill
        with self._db.transaction() as tx:
            if select_snapshot(tx, fill.account, result.day) is None:
                raise StoreError(
                    f"fill {fill.fill_id!r}: no befday snapshot stored for account "
                    f"{fill.account!r} on {result.day.isoformat()}; save it first"
                )
            seq = _insert_fill(tx, result)
            if seq is None:
                _check_same_fill(tx, fill)
                return False
            _write_booking(tx, result, seq)
            _check_position_after(tx, result)
        return True

    def has_fill(self, account: str, fill_id: str) -> bool:
        with self._db.transaction() as tx:
            return bool(tx.select("fills", "1", "account = ? AND fill_id = ?", account, fill_id))

    def load_fills(self, account: str, day: dt.date) -> list[Fill]:
        """The day's fills in booking order, as booked now (their latest corrections applied)."""
        with self._db.transaction() as tx:
            return [fill for _seq, _received, fill in select_effective_fills(tx, account, day)]

    def record_correction(self, correction: FillCorrection) -> tuple[dt.date, bool]:
        """Store a venue's correction of a booked fill and re-book the fill's day with it, in
        one transaction: the correction is a row of its own (the fill's row keeps what was
        received), the day's legs, lots and closes are rebuilt from its fills as corrected.
        Returns the fill's day and False for a correction id already stored (nothing done).

        Raises ``UnknownFillError`` for a fill never booked and ``FillConflictError`` for a
        correction id stored with different content."""
        where = "account = ? AND fill_id = ?"
        with self._db.transaction() as tx:
            rows = tx.select("fills", f"day, {FILL_COLUMNS}", where, correction.account,
                             correction.fill_id)  # fmt: skip
            if not rows:
                raise UnknownFillError(
                    f"correction {correction.correction_id!r}: fill {correction.fill_id!r} of "
                    f"account {correction.account!r} is not booked (value: {correction!r})"
                )
            day, fill = dt.date.fromisoformat(str(rows[0][0])), fill_of_row(rows[0][1:])
            now = correction.applied_to(fill)  # checked as a fill before anything is written
            if not _insert_correction(tx, correction, day):
                _check_same_correction(tx, correction)
                return day, False
            snapshot = select_snapshot(tx, correction.account, day)
            assert snapshot is not None  # the fill's foreign key holds one
            _rebuild_day(tx, snapshot)
            insert_audit(tx, _correction_audit(correction, fill, now, day))
        return day, True

    def open_lots(self, account: str, day: dt.date) -> list[Lot]:
        """Open lots as stored, by symbol then opening order (as ``AccountDay.open_lots``)."""
        with self._db.transaction() as tx:
            return select_open_lots(tx, account, day)

    def fill_classes(self, account: str, day: dt.date) -> list[tuple[str, str, int]]:
        """(fill_id, class name, shares) per leg in booking order: the input of reports."""
        with self._db.transaction() as tx:
            return select_legs(tx, account, day)

    def count_fills(self, account: str | None = None) -> int:
        """Fills stored, for one account or all of them."""
        where, params = ("account = ?", (account,)) if account is not None else ("1 = 1", ())
        with self._db.transaction() as tx:
            return int(tx.select("fills", "COUNT(*)", where, *params)[0][0])

    def transaction(self) -> AbstractContextManager[Tx]:
        """One transaction around several of the store's writes (theirs nest inside it as
        savepoints): all of them are kept, or none (``quantrail ledger book`` of a file)."""
        return self._db.transaction()

    def snapshot_days(self, account: str) -> list[dt.date]:
        """The days the account has a BefDay snapshot for, oldest first."""
        with self._db.transaction() as tx:
            rows = tx.select("befday_snapshots", "day", "account = ? ORDER BY day", account)
        return [dt.date.fromisoformat(str(day)) for (day,) in rows]

    def read_day(self, account: str, day: dt.date) -> StoredDay:
        """Snapshot, fills, legs and open lots of a day, consistent with each other."""
        with self._db.transaction() as tx:
            snapshot = select_snapshot(tx, account, day)
            if snapshot is None:
                raise StoreError(no_day_message(tx, account, day))
            fills = tuple(fill for _seq, _got, fill in select_effective_fills(tx, account, day))
            legs = tuple(select_legs(tx, account, day))
            lots = tuple(select_open_lots(tx, account, day))
        return StoredDay(snapshot, fills, legs, lots)

    def load_day(self, account: str, day: dt.date) -> AccountDay:
        """Rebuild the books by replaying the stored fills (as corrected) onto the snapshot.

        Read in one transaction. The replayed open lots must equal the stored lots; a
        difference raises ``StoreError``.
        """
        with self._db.transaction() as tx:
            snapshot = select_snapshot(tx, account, day)
            if snapshot is None:
                raise StoreError(no_day_message(tx, account, day))
            fills = select_effective_fills(tx, account, day)
            stored = select_open_lots(tx, account, day)
        books = AccountDay(snapshot)
        for _seq, received, now in fills:
            books.book_fill(received, now)
        if list(books.open_lots()) != stored:
            raise StoreError(
                f"account {account!r} {day.isoformat()}: stored lots differ from the replayed "
                f"fills (stored: {stored!r}, replayed: {list(books.open_lots())!r})"
            )
        return books


# -- helpers: SQL in one open transaction -----------------------------------------------------


def _insert_snapshot(tx: Tx, snapshot: BefDaySnapshot) -> None:
    key = {"account": snapshot.account, "day": snapshot.day.isoformat()}
    tx.insert("befday_snapshots", {**key, "taken_ts_ns": snapshot.taken_ts_ns})
    _insert_positions(tx, snapshot)
    _insert_baseline_lots(tx, snapshot)


def _insert_positions(tx: Tx, snapshot: BefDaySnapshot) -> None:
    key = {"account": snapshot.account, "day": snapshot.day.isoformat()}
    for p in snapshot.positions:
        row = {"symbol": p.symbol, "qty": p.qty, "bucket": p.bucket, "prior_close": p.prior_close}
        tx.insert("befday_positions", {**key, **row})


def _insert_baseline_lots(tx: Tx, snapshot: BefDaySnapshot) -> None:
    for p in snapshot.positions:
        lot = Lot(
            baseline_lot_id(p.symbol), p.symbol, Origin.BASELINE, p.bucket, p.qty,
            p.prior_close, snapshot.taken_ts_ns,
        )  # fmt: skip
        _insert_lot(tx, snapshot.account, snapshot.day, lot, seq=0)


def _replace_snapshot(tx: Tx, old: BefDaySnapshot, new: BefDaySnapshot) -> int:
    """Swap the baseline and rebuild the day's derived rows; returns the fills re-booked."""
    key = (new.account, new.day.isoformat())
    tx.run(f"DELETE FROM befday_positions WHERE {DAY}", key)
    tx.run(f"UPDATE befday_snapshots SET taken_ts_ns = ? WHERE {DAY}", (new.taken_ts_ns, *key))
    _insert_positions(tx, new)
    return _rebuild_day(tx, new)


def _rebuild_day(tx: Tx, snapshot: BefDaySnapshot) -> int:
    """The day's derived rows (legs, lot closes, lots, each fill's positions before and after)
    booked again from the snapshot and the fills as corrected; returns the fills re-booked.
    The fills' own rows and the corrections are kept as they are."""
    key = (snapshot.account, snapshot.day.isoformat())
    for table in ("fill_legs", "lot_closes", "lots"):
        tx.run(f"DELETE FROM {table} WHERE {DAY}", key)
    _insert_baseline_lots(tx, snapshot)
    books = AccountDay(snapshot)
    fills = select_effective_fills(tx, snapshot.account, snapshot.day)
    for seq, received, now in fills:
        result = books.book_fill(received, now)
        tx.run(
            "UPDATE fills SET position_before = ?, position_after = ? "
            "WHERE account = ? AND fill_id = ?",
            (result.position_before, result.position_after, now.account, now.fill_id),
        )
        _write_booking(tx, result, seq)
    return len(fills)


def _insert_correction(tx: Tx, correction: FillCorrection, day: dt.date) -> bool:
    row = {name: getattr(correction, name) for name in CORRECTION_COLUMNS.split(", ")}
    suffix = " ON CONFLICT (account, correction_id) DO NOTHING RETURNING seq"
    return bool(tx.insert("fill_corrections", {**row, "day": day.isoformat()}, suffix))


def _check_same_correction(tx: Tx, correction: FillCorrection) -> None:
    where = "account = ? AND correction_id = ?"
    rows = tx.select("fill_corrections", CORRECTION_COLUMNS, where, correction.account,
                     correction.correction_id)  # fmt: skip
    stored = correction_of_row(rows[0])
    if stored != correction:
        raise FillConflictError(
            f"correction {correction.correction_id!r}: already stored with different content "
            f"(value: {correction!r}, stored: {stored!r})"
        )


def _correction_audit(
    correction: FillCorrection, fill: Fill, now: Fill, day: dt.date
) -> AuditRecord:
    def values(each: Fill) -> list[object]:
        return [each.qty, str(each.price), str(each.fee)]

    detail = {
        "day": day.isoformat(), "fill_id": fill.fill_id,
        "correction_id": correction.correction_id, "received": values(fill),
        "now": values(now),
    }  # fmt: skip
    return AuditRecord(correction.ts_ns, correction.account, "fill.corrected", detail)


def _replace_audit(old: BefDaySnapshot, new: BefDaySnapshot, rebooked: int) -> AuditRecord:
    def positions(snapshot: BefDaySnapshot) -> list[list[object]]:
        return [[p.symbol, p.qty, p.bucket.value, str(p.prior_close)] for p in snapshot.positions]

    detail = {
        "day": new.day.isoformat(),
        "old_taken_ts_ns": old.taken_ts_ns,
        "old_positions": positions(old),
        "new_positions": positions(new),
        "fills_rebooked": rebooked,
    }
    return AuditRecord(new.taken_ts_ns, new.account, "befday.snapshot.replaced", detail)


def _insert_fill(tx: Tx, result: BookingResult) -> int | None:
    """Insert the fill unless its id is taken: the new row's seq, or None for a duplicate."""
    booked = {
        "day": result.day.isoformat(),
        "position_before": result.position_before,
        "position_after": result.position_after,
    }
    suffix = " ON CONFLICT (account, fill_id) DO NOTHING RETURNING seq"
    rows = tx.insert("fills", {**_fields_of_fill(result.fill), **booked}, suffix)
    return int(rows[0][0]) if rows else None


def _check_position_after(tx: Tx, result: BookingResult) -> None:
    """The books that booked the fill must have seen every fill the store holds in the symbol.

    Checked after the lot updates, on the stored open lots: they must now add up to the
    position the books reached. Books that missed a fill (a second writer) fail here.
    """
    fill = result.fill
    where = f"{DAY} AND symbol = ?"
    rows = tx.select("lots", "COALESCE(SUM(qty_open), 0)", where, fill.account,
                     result.day.isoformat(), fill.symbol)  # fmt: skip
    stored = int(rows[0][0])
    if stored != result.position_after:
        raise StoreError(
            f"fill {fill.fill_id!r}: the books reach a {fill.symbol} position of "
            f"{result.position_after} but the store would hold {stored}; they missed a fill: "
            "reload the day"
        )


def _fields_of_fill(fill: Fill) -> dict[str, object]:
    return {name: getattr(fill, name) for name in FILL_COLUMNS.split(", ")}


def _check_same_fill(tx: Tx, fill: Fill) -> None:
    where = "account = ? AND fill_id = ?"
    stored = fill_of_row(tx.select("fills", FILL_COLUMNS, where, fill.account, fill.fill_id)[0])
    if stored != fill:
        raise FillConflictError(
            f"fill {fill.fill_id!r}: already stored with different content "
            f"(value: {fill!r}, stored: {stored!r})"
        )


def _write_booking(tx: Tx, result: BookingResult, seq: int) -> None:
    """The legs, lot closes and opened lot of one booked fill."""
    f = result.fill
    key = {"account": f.account, "fill_id": f.fill_id, "day": result.day.isoformat()}
    for leg_no, leg in enumerate(result.legs):
        row = {"leg_no": leg_no, "fill_class": leg.name, "direction": leg.direction,
               "effect": leg.effect, "qty": leg.qty}  # fmt: skip
        tx.insert("fill_legs", {**key, **row})
    for close_no, close in enumerate(result.closes):
        changed = tx.run(
            f"UPDATE lots SET qty_open = ? WHERE {DAY} AND lot_id = ? AND qty_open = ?",
            (close.qty_open_after, f.account, key["day"], close.lot_id, close.qty_open_before),
        )
        if changed != 1:
            raise StoreError(
                f"fill {f.fill_id!r}: lot {close.lot_id!r} is not open with "
                f"{close.qty_open_before} shares in the store; reload the day"
            )
        row = _fields_of_close(close)
        tx.insert("lot_closes", {**key, "close_no": close_no, **row})
    if result.opened is not None:
        _insert_lot(tx, f.account, result.day, result.opened, seq)


def _fields_of_close(close: LotClose) -> dict[str, object]:
    names = ("lot_id", "symbol", "origin", "qty", "open_price", "close_price", "realized")
    return {name: getattr(close, name) for name in names}


def _insert_lot(tx: Tx, account: str, day: dt.date, lot: Lot, seq: int) -> None:
    row = {"account": account, "day": day.isoformat(), "seq": seq}
    row |= {"qty_opened": lot.qty, "qty_open": lot.qty}
    tx.insert("lots", {**row, **{name: getattr(lot, name) for name in _LOT_NAMES}})


_LOT_NAMES = ("lot_id", "symbol", "origin", "bucket", "price", "opened_ts_ns")
