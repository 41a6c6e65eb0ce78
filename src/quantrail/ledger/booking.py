"""Booking fills: the one path from a fill to the store, for live fills and for fill files.

``Booker.book`` is what the ledger service calls for every fill event and what
``quantrail ledger book FILE.csv`` calls for every row, so a day replayed by hand is booked
exactly as it was live:

1. the fill's day is the exchange-local date of its timestamp (``session_day``);
2. the account's books for that day come from memory, or are reloaded from the store
   (``load_day``); a day with no BefDay snapshot gets one first (``befday.ensure_snapshot``:
   the account's baseline file from the config, else empty);
3. the fill is booked in memory (``AccountDay.book_fill``), then stored (``record_fill``) in one
   transaction. A fill id the store already has is not booked again (``stored`` is False).

If storing fails the in-memory books may be ahead of the store, so they are dropped and the
next fill reloads them; a ``StoreError`` (another writer moved the lots) is retried once on
freshly loaded books.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

from quantrail.events.orders import OrderFill
from quantrail.ledger.befday import ensure_snapshot
from quantrail.ledger.books import AccountDay, BookingResult, Fill, LedgerInputError
from quantrail.ledger.classify import class_label
from quantrail.ledger.corrections import FillCorrection
from quantrail.ledger.journal import AuditRecord
from quantrail.ledger.store import LedgerStore, StoreError
from quantrail.session.phases import exchange_time, to_utc_ns
from quantrail.vocab import Bucket, Side

CLASS_MISMATCH_ACTION = "fill.classification.mismatch"
FILL_FILE_COLUMNS = ("fill_id", "account", "ts", "symbol", "side", "qty", "price", "fee", "bucket")
_DAYS_KEPT = 3  # per account: today and late fills for the days just before


@dataclass(frozen=True, slots=True)
class Booked:
    """One fill through the booking path. ``stored`` is False for a fill already stored."""

    result: BookingResult
    stored: bool

    @property
    def day(self) -> dt.date:
        return self.result.day


def session_day(ts_ns: int, timezone: str) -> dt.date:
    """The exchange-local date of ``ts_ns``: the trading day a fill at that instant belongs to."""
    return exchange_time(ts_ns, timezone).date()


class Booker:
    """Books fills into a store through per-account, per-day books kept in memory.

    One owner at a time (not thread-safe). ``baseline_files`` maps an account to its position
    file from the config; an account without one starts an unsnapshotted day empty.
    """

    def __init__(
        self,
        store: LedgerStore,
        *,
        timezone: str,
        baseline_files: Mapping[str, str | None] | None = None,
    ) -> None:
        self.store = store
        self.timezone = timezone
        self._baseline_files = dict(baseline_files or {})
        self._books: dict[str, OrderedDict[dt.date, AccountDay]] = {}

    def book(self, fill: Fill, claimed_class: str = "") -> Booked:
        """Book ``fill``; ``claimed_class`` is the class its producer put on the event, if any.

        A claimed class that differs from the ledger's is audited (the ledger's is booked).
        """
        day = session_day(fill.ts_ns, self.timezone)
        try:
            booked = self._book_once(fill, day)
        except StoreError:
            self._drop(fill.account, day)
            booked = self._book_once(fill, day)
        if booked.stored and claimed_class and claimed_class != class_label(booked.result.legs):
            self._audit_mismatch(booked.result, claimed_class)
        return booked

    def correct(self, correction: FillCorrection) -> bool:
        """Store a venue's correction of a booked fill; its day is re-booked in the store and
        the day's books here are dropped, so the next fill reloads them as corrected. False
        for a correction already stored (a repeat: nothing changes)."""
        day, stored = self.store.record_correction(correction)
        self._drop(correction.account, day)
        return stored

    def books_for(self, account: str, day: dt.date, first_ts_ns: int) -> AccountDay:
        """The account's books for ``day``: from memory, else reloaded (snapshotting if none)."""
        days = self._books.setdefault(account, OrderedDict())
        books = days.get(day)
        if books is None:
            ensure_snapshot(self.store, account, day, self._baseline_files.get(account),
                            first_ts_ns)  # fmt: skip
            books = self.store.load_day(account, day)
            days[day] = books
            while len(days) > _DAYS_KEPT:
                days.popitem(last=False)
        days.move_to_end(day)
        return books

    def _book_once(self, fill: Fill, day: dt.date) -> Booked:
        books = self.books_for(fill.account, day, fill.ts_ns)
        result = books.book_fill(fill)
        if result.duplicate:
            return Booked(result, stored=False)
        try:
            stored = self.store.record_fill(result)
        except BaseException:
            self._drop(fill.account, day)  # memory now holds a fill the store does not
            raise
        if not stored:
            # Another writer stored it first: memory booked it in a different order; reload.
            self._drop(fill.account, day)
        return Booked(result, stored)

    def _drop(self, account: str, day: dt.date) -> None:
        self._books.get(account, OrderedDict()).pop(day, None)

    def _audit_mismatch(self, result: BookingResult, claimed: str) -> None:
        detail = {
            "day": result.day.isoformat(),
            "fill_id": result.fill.fill_id,
            "claimed": claimed,
            "booked": class_label(result.legs),
        }
        record = AuditRecord(result.fill.ts_ns, result.fill.account, CLASS_MISMATCH_ACTION, detail)
        self.store.journal.record_audit(record)


def fill_from_event(event: OrderFill) -> Fill:
    """The ledger's ``Fill`` for a fill event (``last_qty`` at ``last_price``, ``fees``)."""
    if not event.account:
        raise LedgerInputError(
            f"fill {event.fill_id!r}: account must name the account (value: {event.account!r})"
        )
    return Fill(
        fill_id=event.fill_id,
        account=event.account,
        ts_ns=event.ts_event,
        symbol=event.symbol,
        side=event.side,
        qty=event.last_qty,
        price=event.last_price,
        fee=event.fees,
        bucket=event.bucket,
        order_id=event.order_id,
    )


# -- fill files ----------------------------------------------------------------------------------


class FillFileError(ValueError):
    """A fill file that cannot be booked: names the file, the line, the column and the value."""

    def __init__(self, path: Path, line: int, column: str, value: object, reason: str) -> None:
        self.path, self.line, self.column, self.value = path, line, column, value
        super().__init__(f"{path}, line {line}, column {column!r}: {reason} (value: {value!r})")


_Fail = Callable[[str, str], FillFileError]
_E = TypeVar("_E", Side, Bucket)


@dataclass(frozen=True, slots=True)
class FileFill:
    """A fill read from a file, with the line it came from."""

    line: int
    fill: Fill


def read_fill_file(path: str | Path) -> list[FileFill]:
    """Every row of a fill file (header ``fill_id,account,ts,symbol,side,qty,price,fee,bucket``).

    The whole file is checked before anything is booked; the first bad value stops it.
    """
    file = Path(path)
    if not file.exists():
        raise FillFileError(file, 0, "<file>", str(file), "fill file not found")
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        _check_header(file, list(reader.fieldnames or []))
        return [FileFill(reader.line_num, _fill_row(file, reader.line_num, row)) for row in reader]


def _check_header(file: Path, header: list[str]) -> None:
    missing = [column for column in FILL_FILE_COLUMNS if column not in header]
    if missing:
        raise FillFileError(file, 1, missing[0], ",".join(header), "missing column in the header")
    extra = [column for column in header if column not in (*FILL_FILE_COLUMNS, "order_id")]
    if extra:
        raise FillFileError(file, 1, extra[0], ",".join(header), "unknown column in the header")


def _fill_row(file: Path, line: int, row: Mapping[str, str | None]) -> Fill:
    def fail(column: str, reason: str) -> FillFileError:
        return FillFileError(file, line, column, row.get(column), reason)

    text = {column: (row.get(column) or "").strip() for column in (*FILL_FILE_COLUMNS, "order_id")}
    for column in ("fill_id", "account", "symbol"):
        if not text[column] or " " in text[column]:
            raise fail(column, f"{column} must be a non-empty word")
    try:
        return Fill(
            fill_id=text["fill_id"],
            account=text["account"],
            ts_ns=_ts(text["ts"], fail),
            symbol=text["symbol"],
            side=_choice(Side, text["side"], "side", fail),
            qty=_shares(text["qty"], fail),
            price=_price(text["price"], fail),
            fee=_fee(text["fee"], fail),
            bucket=_choice(Bucket, text["bucket"], "bucket", fail),
            order_id=text["order_id"],
        )
    except LedgerInputError as exc:  # a rule of the books the column checks did not cover
        raise fail("fill_id", str(exc)) from None


def _fee(text: str, fail: _Fail) -> Decimal:
    """A cost, or a rebate when negative; the books check it against the fill's notional."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail("fee", "fee must be a decimal number") from None
    if not value.is_finite():
        raise fail("fee", "fee must be a finite decimal number")
    return value


def _ts(text: str, fail: _Fail) -> int:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise fail("ts", "ts must be an ISO 8601 time with a zone") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise fail("ts", "ts needs a zone (e.g. -05:00 or Z)")
    return to_utc_ns(moment)


def _choice(kind: type[_E], text: str, column: str, fail: _Fail) -> _E:
    try:
        return kind(text)
    except ValueError:
        raise fail(column, f"{column} must be one of {[m.value for m in kind]}") from None


def _shares(text: str, fail: _Fail) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise fail("qty", "qty must be a whole number of shares > 0")
    return int(text)


def _price(text: str, fail: _Fail) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail("price", "price must be a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise fail("price", "price must be > 0")
    return value
