"""The ledger's SQL store: fills, lots, BefDay snapshots, audit, mode changes, exposure samples.

Two backends behind one small interface, chosen by URL: SQLite (``sqlite:///path.sqlite``,
``sqlite:///:memory:``) and PostgreSQL (``postgresql://...``). Every write is one transaction;
a fill and the lot changes it caused commit together or not at all. The venue fill id is the
idempotency key: ``record_fill`` returns False for a fill id the account already has.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

from quantrail.ledger.books import (
    AccountDay,
    BaselinePosition,
    BefDaySnapshot,
    BookingResult,
    Fill,
    FillConflictError,
)
from quantrail.ledger.lots import Lot, LotClose, Origin, baseline_lot_id
from quantrail.ledger.migrations import (
    Backend,
    Tx,
    apply_migrations,
    connect,
    current_version,
)
from quantrail.ledger.migrations import money as _money
from quantrail.vocab import Bucket, Mode, Side


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
class AuditRecord:
    ts_ns: int
    account: str | None
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModeChange:
    ts_ns: int
    mode: Mode
    reason: str
    account: str | None = None


@dataclass(frozen=True, slots=True)
class ExposureSample:
    """One exposure reading; percentages are of equity (gross = |long| + |short|)."""

    ts_ns: int
    equity: Decimal
    long_notional: Decimal
    short_notional: Decimal
    gross_pct: Decimal
    net_pct: Decimal
    account: str | None = None


_FILL_COLUMNS = "fill_id, account, ts_ns, symbol, side, qty, price, fee, bucket, order_id"
_LOT_COLUMNS = "lot_id, symbol, origin, bucket, qty_open, price, opened_ts_ns"
_DAY = "account = ? AND day = ?"


class LedgerStore:
    """The ledger's durable state. One thread at a time; open one per process and reuse it."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

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

    def save_snapshot(self, snapshot: BefDaySnapshot, *, force: bool = False) -> SnapshotOutcome:
        """Freeze the baseline: the existing snapshot wins unless ``force`` (audited replace).

        A forced replace after fills were booked rebuilds the day's lots and classes by
        replaying those fills onto the new baseline, in the same transaction.
        """
        with self._db.transaction() as tx:
            existing = _select_snapshot(tx, snapshot.account, snapshot.day)
            if existing is None:
                _insert_snapshot(tx, snapshot)
                return SnapshotOutcome(SnapshotStatus.CREATED, snapshot)
            if not force:
                return SnapshotOutcome(SnapshotStatus.EXISTING, existing)
            rebooked = _replace_snapshot(tx, existing, snapshot)
            _insert_audit(tx, _replace_audit(existing, snapshot, rebooked))
            return SnapshotOutcome(SnapshotStatus.REPLACED, snapshot)

    def load_snapshot(self, account: str, day: dt.date) -> BefDaySnapshot | None:
        with self._db.transaction() as tx:
            return _select_snapshot(tx, account, day)

    # -- fills and lots -----------------------------------------------------------------------

    def record_fill(self, result: BookingResult) -> bool:
        """Persist a booked fill, its legs and lot changes atomically; False for a duplicate.

        Raises ``FillConflictError`` when the fill id is stored with different content, and
        ``StoreError`` when the stored lots are not the ones the books closed (then nothing is
        written: reload the day with ``load_day``).
        """
        if result.duplicate:
            return False
        fill = result.fill
        with self._db.transaction() as tx:
            if _select_snapshot(tx, fill.account, result.day) is None:
                raise StoreError(
                    f"fill {fill.fill_id!r}: no befday snapshot stored for account "
                    f"{fill.account!r} on {result.day.isoformat()}; save it first"
                )
            seq = _insert_fill(tx, result)
            if seq is None:
                _check_same_fill(tx, fill)
                return False
            _write_booking(tx, result, seq)
        return True

    def has_fill(self, account: str, fill_id: str) -> bool:
        with self._db.transaction() as tx:
            return bool(tx.select("fills", "1", "account = ? AND fill_id = ?", account, fill_id))

    def load_fills(self, account: str, day: dt.date) -> list[Fill]:
        """The day's fills in booking order."""
        with self._db.transaction() as tx:
            return [fill for _seq, fill in _select_fills(tx, account, day)]

    def open_lots(self, account: str, day: dt.date) -> list[Lot]:
        """Open lots as stored, by symbol then opening order (as ``AccountDay.open_lots``)."""
        with self._db.transaction() as tx:
            return _select_open_lots(tx, account, day)

    def fill_classes(self, account: str, day: dt.date) -> list[tuple[str, str, int]]:
        """(fill_id, class name, shares) per leg in booking order: the input of reports."""
        source = "fill_legs l JOIN fills f ON f.account = l.account AND f.fill_id = l.fill_id"
        where = "l.account = ? AND l.day = ? ORDER BY f.seq, l.leg_no"
        with self._db.transaction() as tx:
            rows = tx.select(source, "l.fill_id, l.fill_class, l.qty", where, account, str(day))
        return [(str(fill_id), str(name), int(qty)) for fill_id, name, qty in rows]

    def load_day(self, account: str, day: dt.date) -> AccountDay:
        """Rebuild the books by replaying the stored fills onto the stored snapshot.

        Read in one transaction. The replayed open lots must equal the stored lots; a
        difference raises ``StoreError``.
        """
        with self._db.transaction() as tx:
            snapshot = _select_snapshot(tx, account, day)
            if snapshot is None:
                raise StoreError(f"account {account!r}: no befday snapshot for {day.isoformat()}")
            fills, stored = _select_fills(tx, account, day), _select_open_lots(tx, account, day)
        books = AccountDay(snapshot)
        for _seq, fill in fills:
            books.book_fill(fill)
        if list(books.open_lots()) != stored:
            raise StoreError(
                f"account {account!r} {day.isoformat()}: stored lots differ from the replayed "
                f"fills (stored: {stored!r}, replayed: {list(books.open_lots())!r})"
            )
        return books

    # -- audit, modes, exposure (kept for the reports) ----------------------------------------

    def audit_records(self, account: str | None = None) -> list[AuditRecord]:
        rows = self._journal("audit", "ts_ns, account, action, detail", account)
        return [AuditRecord(int(ts), acc, str(act), json.loads(det)) for ts, acc, act, det in rows]

    def record_mode_change(self, change: ModeChange) -> None:
        with self._db.transaction() as tx:
            tx.insert("mode_changes", _fields(change))

    def mode_changes(self, account: str | None = None) -> list[ModeChange]:
        rows = self._journal("mode_changes", "ts_ns, mode, reason, account", account)
        return [ModeChange(int(ts), Mode(mode), str(why), acc) for ts, mode, why, acc in rows]

    def record_exposure(self, sample: ExposureSample) -> None:
        with self._db.transaction() as tx:
            tx.insert("exposure_samples", _fields(sample))

    def exposure_samples(self, account: str | None = None) -> list[ExposureSample]:
        columns = "ts_ns, equity, long_notional, short_notional, gross_pct, net_pct, account"
        rows = self._journal("exposure_samples", columns, account)
        return [_exposure(row) for row in rows]

    def _journal(self, table: str, columns: str, account: str | None) -> list[tuple[Any, ...]]:
        where, params = ("account = ?", (account,)) if account is not None else ("1 = 1", ())
        with self._db.transaction() as tx:
            return tx.select(table, columns, f"{where} ORDER BY seq", *params)


# -- helpers: SQL in one open transaction -----------------------------------------------------


def _fields(record: ModeChange | ExposureSample | AuditRecord) -> dict[str, object]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _select_snapshot(tx: Tx, account: str, day: dt.date) -> BefDaySnapshot | None:
    key = (account, day.isoformat())
    head = tx.select("befday_snapshots", "taken_ts_ns", _DAY, *key)
    if not head:
        return None
    columns = "symbol, qty, bucket, prior_close"
    rows = tx.select("befday_positions", columns, f"{_DAY} ORDER BY symbol", *key)
    positions = tuple(
        BaselinePosition(str(symbol), int(qty), Bucket(bucket), _money(close))
        for symbol, qty, bucket, close in rows
    )
    return BefDaySnapshot(account, day, positions, int(head[0][0]))


def _insert_snapshot(tx: Tx, snapshot: BefDaySnapshot) -> None:
    key = {"account": snapshot.account, "day": snapshot.day.isoformat()}
    tx.insert("befday_snapshots", {**key, "taken_ts_ns": snapshot.taken_ts_ns})
    _insert_positions(tx, snapshot)


def _insert_positions(tx: Tx, snapshot: BefDaySnapshot) -> None:
    key = {"account": snapshot.account, "day": snapshot.day.isoformat()}
    for p in snapshot.positions:
        row = {"symbol": p.symbol, "qty": p.qty, "bucket": p.bucket, "prior_close": p.prior_close}
        tx.insert("befday_positions", {**key, **row})
        lot = Lot(
            baseline_lot_id(p.symbol), p.symbol, Origin.BASELINE, p.bucket, p.qty,
            p.prior_close, snapshot.taken_ts_ns,
        )  # fmt: skip
        _insert_lot(tx, snapshot.account, snapshot.day, lot, seq=0)


def _replace_snapshot(tx: Tx, old: BefDaySnapshot, new: BefDaySnapshot) -> int:
    """Swap the baseline and rebuild the day's derived rows; returns the fills re-booked."""
    key = (new.account, new.day.isoformat())
    for table in ("fill_legs", "lot_closes", "lots", "befday_positions"):
        tx.run(f"DELETE FROM {table} WHERE {_DAY}", key)
    tx.run(f"UPDATE befday_snapshots SET taken_ts_ns = ? WHERE {_DAY}", (new.taken_ts_ns, *key))
    _insert_positions(tx, new)
    books = AccountDay(new)
    fills = _select_fills(tx, new.account, new.day)
    for seq, fill in fills:
        result = books.book_fill(fill)
        tx.run(
            "UPDATE fills SET position_before = ?, position_after = ? "
            "WHERE account = ? AND fill_id = ?",
            (result.position_before, result.position_after, fill.account, fill.fill_id),
        )
        _write_booking(tx, result, seq)
    return len(fills)


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


def _insert_audit(tx: Tx, record: AuditRecord) -> None:
    row = _fields(record)
    tx.insert("audit", {**row, "detail": json.dumps(record.detail, sort_keys=True)})


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


def _fields_of_fill(fill: Fill) -> dict[str, object]:
    return {name: getattr(fill, name) for name in _FILL_COLUMNS.split(", ")}


def _check_same_fill(tx: Tx, fill: Fill) -> None:
    where = "account = ? AND fill_id = ?"
    stored = _fill(tx.select("fills", _FILL_COLUMNS, where, fill.account, fill.fill_id)[0])
    if stored != fill:
        raise FillConflictError(
            f"fill {fill.fill_id!r}: already stored with different content "
            f"(value: {fill!r}, stored: {stored!r})"
        )


def _select_fills(tx: Tx, account: str, day: dt.date) -> list[tuple[int, Fill]]:
    where = f"{_DAY} ORDER BY seq"
    rows = tx.select("fills", f"seq, {_FILL_COLUMNS}", where, account, day.isoformat())
    return [(int(row[0]), _fill(row[1:])) for row in rows]


def _fill(row: Sequence[Any]) -> Fill:
    fill_id, account, ts_ns, symbol, side, qty, price, fee, bucket, order_id = row
    return Fill(
        str(fill_id), str(account), int(ts_ns), str(symbol), Side(side), int(qty),
        _money(price), _money(fee), Bucket(bucket), str(order_id),
    )  # fmt: skip


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
            f"UPDATE lots SET qty_open = ? WHERE {_DAY} AND lot_id = ? AND qty_open = ?",
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


def _exposure(row: Sequence[Any]) -> ExposureSample:
    ts_ns, equity, long_notional, short_notional, gross, net, account = row
    money = _money
    return ExposureSample(
        int(ts_ns), money(equity), money(long_notional), money(short_notional), money(gross),
        money(net), account,
    )  # fmt: skip


def _select_open_lots(tx: Tx, account: str, day: dt.date) -> list[Lot]:
    where = f"{_DAY} AND qty_open <> 0 ORDER BY symbol, seq"
    return [_lot(row) for row in tx.select("lots", _LOT_COLUMNS, where, account, day.isoformat())]


def _lot(row: Sequence[Any]) -> Lot:
    lot_id, symbol, origin, bucket, qty, price, ts_ns = row
    return Lot(
        str(lot_id), str(symbol), Origin(origin), Bucket(bucket), int(qty), _money(price),
        int(ts_ns),
    )  # fmt: skip
