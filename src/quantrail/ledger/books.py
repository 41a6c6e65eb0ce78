"""An account's books for one day: the BefDay baseline and the intraday ledger, kept apart.

A reducing fill closes intraday-opened lots first (FIFO among them), then the baseline lot.
Realized intraday P&L counts only closes of intraday lots; closes of baseline lots are reported
separately as the baseline reduction, measured against the prior close. Fees are kept on their
own and netted in the totals. Every figure is exact ``Decimal``; round only when reporting.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from quantrail.bus.violation import RuleViolation
from quantrail.ledger.classify import ClassifiedLeg, classify
from quantrail.ledger.lots import (
    Lot,
    LotClose,
    Origin,
    baseline_lot_id,
    close_lots,
    intraday_lot_id,
    open_pnl,
)
from quantrail.money import ZERO
from quantrail.vocab import Bucket, Side


class LedgerInputError(ValueError, RuleViolation):
    """A fill or snapshot that cannot be booked; the message names the field and the value.

    A booking-rule failure, not a sick dependency: the ledger service's consumer dead-letters
    the fill at once with this message (it would fail the same way on every retry)."""


class FillConflictError(LedgerInputError):
    """A fill id seen before with different content: the venue or a producer is broken."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution as the ledger books it: ``qty`` positive shares on ``side``."""

    fill_id: str
    account: str
    ts_ns: int
    symbol: str
    side: Side
    qty: int
    price: Decimal
    fee: Decimal
    bucket: Bucket
    order_id: str = ""

    def __post_init__(self) -> None:
        where = f"fill {self.fill_id!r}"
        _check_name(where, "fill_id", self.fill_id)
        _check_name(where, "account", self.account)
        _check_name(where, "symbol", self.symbol)
        _check_int(where, "ts_ns", self.ts_ns, minimum=0)
        _check_int(where, "qty", self.qty, minimum=1)
        _check_money(where, "price", self.price, positive=True)
        _check_fee(where, self.fee, self.qty * self.price)
        _check_enum(where, "side", self.side, Side)
        _check_enum(where, "bucket", self.bucket, Bucket)

    @property
    def signed_qty(self) -> int:
        return self.side.sign * self.qty


@dataclass(frozen=True, slots=True)
class BaselinePosition:
    """One overnight position: signed ``qty`` in ``bucket``, marked at ``prior_close``."""

    symbol: str
    qty: int
    bucket: Bucket
    prior_close: Decimal

    def __post_init__(self) -> None:
        where = f"baseline position {self.symbol!r}"
        _check_name(where, "symbol", self.symbol)
        _check_int(where, "qty", self.qty, minimum=None)
        if self.qty == 0:
            raise LedgerInputError(f"{where}: qty must be non-zero (value: 0)")
        _check_money(where, "prior_close", self.prior_close, positive=True)
        _check_enum(where, "bucket", self.bucket, Bucket)


@dataclass(frozen=True, slots=True)
class BefDaySnapshot:
    """The account's baseline for ``day``, frozen before trading; one per account and day.

    ``positions`` are held sorted by symbol.
    """

    account: str
    day: dt.date
    positions: tuple[BaselinePosition, ...]
    taken_ts_ns: int

    def __post_init__(self) -> None:
        where = f"befday snapshot {self.account!r}"
        _check_name(where, "account", self.account)
        if not isinstance(self.day, dt.date) or isinstance(self.day, dt.datetime):
            raise LedgerInputError(f"{where}: day must be a datetime.date (value: {self.day!r})")
        _check_int(where, "taken_ts_ns", self.taken_ts_ns, minimum=0)
        symbols = [position.symbol for position in self.positions]
        repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
        if repeated:
            raise LedgerInputError(f"{where}: positions repeat symbols (value: {repeated!r})")
        # Kept sorted by symbol so two snapshots of the same positions compare equal.
        object.__setattr__(self, "positions", tuple(sorted(self.positions, key=_symbol)))

    def by_symbol(self) -> dict[str, BaselinePosition]:
        return {position.symbol: position for position in self.positions}


@dataclass(frozen=True, slots=True)
class BookingResult:
    """What booking one fill did. ``duplicate`` marks a re-delivery answered from memory."""

    fill: Fill
    day: dt.date
    legs: tuple[ClassifiedLeg, ...]
    closes: tuple[LotClose, ...]
    opened: Lot | None
    position_before: int
    position_after: int
    duplicate: bool = False

    @property
    def realized_intraday(self) -> Decimal:
        return _sum(close.realized for close in self.closes if close.origin is Origin.INTRADAY)

    @property
    def baseline_reduction(self) -> Decimal:
        return _sum(close.realized for close in self.closes if close.origin is Origin.BASELINE)


@dataclass(frozen=True, slots=True)
class PnlSplit:
    """A P&L figure split between the two ledgers."""

    baseline: Decimal = ZERO
    intraday: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.baseline + self.intraday


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Realized figures of the day. ``net`` = intraday + baseline reduction - fees."""

    realized_intraday: Decimal
    baseline_reduction: Decimal
    fees: Decimal

    @property
    def net(self) -> Decimal:
        return self.realized_intraday + self.baseline_reduction - self.fees


@dataclass(frozen=True, slots=True)
class Unrealized:
    """Open P&L at given marks, per symbol; baseline lots are measured from the prior close."""

    by_symbol: Mapping[str, PnlSplit] = field(default_factory=dict)

    @property
    def baseline(self) -> Decimal:
        return _sum(split.baseline for split in self.by_symbol.values())

    @property
    def intraday(self) -> Decimal:
        return _sum(split.intraday for split in self.by_symbol.values())

    @property
    def total(self) -> Decimal:
        return self.baseline + self.intraday


class AccountDay:
    """The books of one account for one day, built on its BefDay snapshot.

    Not thread-safe: one owner books fills in order. Idempotent on ``fill_id``.
    """

    def __init__(self, snapshot: BefDaySnapshot) -> None:
        self.snapshot = snapshot
        self._lots: dict[str, list[Lot]] = {
            p.symbol: [_baseline_lot(p, snapshot.taken_ts_ns)] for p in snapshot.positions
        }
        self._results: dict[str, BookingResult] = {}
        self._received: dict[str, Fill] = {}  # each fill as it came, before any correction

    @property
    def account(self) -> str:
        return self.snapshot.account

    @property
    def day(self) -> dt.date:
        return self.snapshot.day

    def book_fill(self, fill: Fill, corrected: Fill | None = None) -> BookingResult:
        """Classify and book ``fill``; a re-delivered fill returns its first result, marked.

        ``corrected`` is the fill as the venue has since corrected it (``ledger/corrections``):
        booked in its place, while a re-delivery of the fill as first received stays a
        duplicate."""
        if fill.account != self.account:
            raise LedgerInputError(
                f"fill {fill.fill_id!r}: account {fill.account!r} is not this book's "
                f"account (value: {self.account!r})"
            )
        seen = self._results.get(fill.fill_id)
        if seen is not None:
            received = self._received[fill.fill_id]
            return replace(seen, duplicate=True) if fill == received else _as_duplicate(seen, fill)
        result = self._apply(corrected or fill)
        self._results[fill.fill_id] = result
        self._received[fill.fill_id] = fill
        return result

    def has_fill(self, fill_id: str) -> bool:
        return fill_id in self._results

    def results(self) -> tuple[BookingResult, ...]:
        """Every fill booked, in booking order."""
        return tuple(self._results.values())

    def position(self, symbol: str) -> int:
        return sum(lot.qty for lot in self._lots.get(symbol, ()))

    def positions(self) -> dict[str, int]:
        """Non-flat positions now, by symbol."""
        now = {symbol: self.position(symbol) for symbol in self._lots}
        return {symbol: qty for symbol, qty in sorted(now.items()) if qty != 0}

    def start_positions(self) -> dict[str, int]:
        return {p.symbol: p.qty for p in self.snapshot.positions}

    def filled_qty(self) -> dict[str, int]:
        """Signed shares filled today by symbol: start + filled = positions now."""
        filled: dict[str, int] = {}
        for result in self._results.values():
            symbol = result.fill.symbol
            filled[symbol] = filled.get(symbol, 0) + result.fill.signed_qty
        return dict(sorted(filled.items()))

    def open_lots(self, symbol: str | None = None) -> tuple[Lot, ...]:
        """Open lots, by symbol then in opening order."""
        symbols = [symbol] if symbol is not None else sorted(self._lots)
        return tuple(lot for name in symbols for lot in self._lots.get(name, ()))

    def totals(self, symbol: str | None = None) -> DayTotals:
        """Realized totals of the day, for one symbol or the whole account."""
        chosen = [r for r in self._results.values() if symbol in (None, r.fill.symbol)]
        return DayTotals(
            realized_intraday=_sum(r.realized_intraday for r in chosen),
            baseline_reduction=_sum(r.baseline_reduction for r in chosen),
            fees=_sum(r.fill.fee for r in chosen),
        )

    def unrealized(self, marks: Mapping[str, Decimal]) -> Unrealized:
        """Open P&L of both ledgers marked at ``marks`` (last price by symbol)."""
        by_symbol: dict[str, PnlSplit] = {}
        for symbol, lots in sorted(self._lots.items()):
            if not lots:
                continue
            mark = marks.get(symbol)
            if mark is None:
                raise LedgerInputError(f"marks: no mark for open symbol (value: {symbol!r})")
            _check_money("marks", symbol, mark, positive=True)
            by_symbol[symbol] = PnlSplit(
                baseline=_open_pnl(lots, Origin.BASELINE, mark),
                intraday=_open_pnl(lots, Origin.INTRADAY, mark),
            )
        return Unrealized(by_symbol)

    def _apply(self, fill: Fill) -> BookingResult:
        lots = self._lots.get(fill.symbol, [])
        before = sum(lot.qty for lot in lots)
        legs = tuple(classify(fill.bucket, before, fill.side, fill.qty))
        closing = min(fill.qty, abs(before)) if before * fill.signed_qty < 0 else 0
        lots, closes = close_lots(lots, closing, fill.price)
        opened = None
        if fill.qty > closing:
            opened = _intraday_lot(fill, fill.side.sign * (fill.qty - closing))
            lots = [*lots, opened]
        self._lots[fill.symbol] = lots
        return BookingResult(
            fill=fill,
            day=self.day,
            legs=legs,
            closes=tuple(closes),
            opened=opened,
            position_before=before,
            position_after=before + fill.signed_qty,
        )


def _as_duplicate(seen: BookingResult, fill: Fill) -> BookingResult:
    if seen.fill != fill:
        raise FillConflictError(
            f"fill {fill.fill_id!r}: already booked with different content "
            f"(value: {fill!r}, booked: {seen.fill!r})"
        )
    return replace(seen, duplicate=True)


def _baseline_lot(position: BaselinePosition, ts_ns: int) -> Lot:
    return Lot(
        lot_id=baseline_lot_id(position.symbol),
        symbol=position.symbol,
        origin=Origin.BASELINE,
        bucket=position.bucket,
        qty=position.qty,
        price=position.prior_close,
        opened_ts_ns=ts_ns,
    )


def _intraday_lot(fill: Fill, qty: int) -> Lot:
    return Lot(
        lot_id=intraday_lot_id(fill.fill_id),
        symbol=fill.symbol,
        origin=Origin.INTRADAY,
        bucket=fill.bucket,
        qty=qty,
        price=fill.price,
        opened_ts_ns=fill.ts_ns,
    )


def _open_pnl(lots: Iterable[Lot], origin: Origin, mark: Decimal) -> Decimal:
    return _sum(open_pnl(lot.price, mark, lot.qty) for lot in lots if lot.origin is origin)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _symbol(position: BaselinePosition) -> str:
    return position.symbol


_NAME = re.compile(r"\S+")


def _check_name(where: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise LedgerInputError(f"{where}: {name} must be a non-empty word (value: {value!r})")


def _check_int(where: str, name: str, value: object, *, minimum: int | None) -> None:
    # bool is an int subclass: True would silently book as one share.
    if not isinstance(value, int) or isinstance(value, bool):
        raise LedgerInputError(f"{where}: {name} must be an integer (value: {value!r})")
    if minimum is not None and value < minimum:
        raise LedgerInputError(f"{where}: {name} must be >= {minimum} (value: {value!r})")


def _check_money(where: str, name: str, value: object, *, positive: bool) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise LedgerInputError(f"{where}: {name} must be a finite Decimal (value: {value!r})")
    if value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise LedgerInputError(f"{where}: {name} must be {bound} (value: {value!r})")


def _check_fee(where: str, fee: object, notional: Decimal) -> None:
    """A fee is a cost (> 0), nothing, or a rebate (< 0, e.g. a maker rebate). A rebate larger
    than the fill's notional cannot be a rebate: it is a sign or unit error upstream."""
    if not isinstance(fee, Decimal) or not fee.is_finite():
        raise LedgerInputError(f"{where}: fee must be a finite Decimal (value: {fee!r})")
    if fee < -notional:
        raise LedgerInputError(
            f"{where}: fee (a rebate when negative) must be >= -notional {-notional}"
            f" (value: {fee!r})"
        )


def _check_enum(where: str, name: str, value: object, kind: type[Side] | type[Bucket]) -> None:
    if not isinstance(value, kind):
        raise LedgerInputError(f"{where}: {name} must be a {kind.__name__} (value: {value!r})")
