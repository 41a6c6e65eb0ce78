"""The end-of-day report of one account-day, built from the store.

``report_eod`` reads the day in one transaction (snapshot, fills, classified legs, open lots),
replays the fills through ``AccountDay`` and checks, before anything is reported:

* per symbol, start + fills = end, where start is the stored BefDay snapshot, fills the stored
  fills and end the stored open lots (``ReconciliationError`` names each symbol that is off);
* every fill's stored legs add up to the fill, on the fill's side, and are the classes the
  replay gives (same error);
* the replayed books hold exactly the stored lots.

Figures are exact inside; a report rounds each money figure once, to the cent (half-even).
``net_realized_pnl`` is the sum of the rounded figures shown, so the report adds up on its face.
Fees of a fill split over two classes (it crossed zero) are shared pro rata by shares, rounded to
the cent, the remainder on the last leg, so class fees add up to the day's fees exactly.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from quantrail.ledger.books import AccountDay, BookingResult, PnlSplit
from quantrail.ledger.classify import FillClass
from quantrail.ledger.journal import ExposureSample, ModeChange
from quantrail.ledger.lots import Lot, Origin
from quantrail.ledger.marks import Mark, closing_marks
from quantrail.ledger.store import LedgerStore, StoredDay
from quantrail.money import ZERO, cents
from quantrail.session.phases import to_utc_ns
from quantrail.vocab import Side

CLASS_NAMES = tuple(fill_class.value for fill_class in FillClass)
RECONCILE_RULE = "start + fills = end, per symbol"


class ReconciliationError(RuntimeError):
    """The stored day does not add up; the message names each symbol or fill and the figures."""


@dataclass(frozen=True, slots=True)
class ClassFigures:
    """One class's legs: how many, their shares, notional (shares x price) and fees."""

    count: int = 0
    shares: int = 0
    notional: Decimal = ZERO
    fees: Decimal = ZERO

    def plus(self, shares: int, notional: Decimal, fees: Decimal) -> ClassFigures:
        return ClassFigures(
            self.count + 1, self.shares + shares, self.notional + notional, self.fees + fees
        )


@dataclass(frozen=True, slots=True)
class SymbolLine:
    """One symbol of the day: positions, and the baseline and intraday ledgers side by side.

    ``baseline_open`` / ``intraday_open`` are signed shares still open in each ledger.
    """

    symbol: str
    start: int
    filled: int
    end: int
    bought: int
    sold: int
    prior_close: Decimal | None
    baseline_closed: int
    baseline_open: int
    intraday_open: int
    realized_intraday: Decimal
    baseline_realized: Decimal
    fees: Decimal
    unrealized_baseline: Decimal
    unrealized_intraday: Decimal
    mark: Mark


@dataclass(frozen=True, slots=True)
class PnlPoint:
    """Realized P&L net of fees, cumulated over the day's fills up to ``fill_id``."""

    ts_ns: int
    fill_id: str
    cumulative_net: Decimal


@dataclass(frozen=True, slots=True)
class EodReport:
    """An account's day. Money is exact here; the renderings round it to the cent."""

    account: str
    day: dt.date
    timezone: str
    dual: bool
    fill_count: int
    realized_intraday: Decimal
    baseline_realized: Decimal
    fees: Decimal
    unrealized_baseline: Decimal
    unrealized_intraday: Decimal
    by_class: Mapping[str, ClassFigures]
    symbols: tuple[SymbolLine, ...]
    pnl_points: tuple[PnlPoint, ...] = ()
    exposure: tuple[ExposureSample, ...] = ()
    mode_changes: tuple[ModeChange, ...] = ()
    limits: tuple[tuple[str, Decimal], ...] = ()  # gross % limits drawn on the exposure chart

    @property
    def unrealized(self) -> Decimal:
        return self.unrealized_baseline + self.unrealized_intraday

    @property
    def total_pnl(self) -> Decimal:
        """Net realized plus unrealized: again the sum of the rounded figures shown."""
        return self.net_realized + cents(self.unrealized)

    @property
    def net_realized(self) -> Decimal:
        """The sum of the rounded figures the report shows (see the module docstring)."""
        return cents(self.realized_intraday) + cents(self.baseline_realized) - cents(self.fees)

    @property
    def positions_start(self) -> dict[str, int]:
        return {line.symbol: line.start for line in self.symbols}

    @property
    def fills_net(self) -> dict[str, int]:
        return {line.symbol: line.filled for line in self.symbols}

    @property
    def positions_end(self) -> dict[str, int]:
        return {line.symbol: line.end for line in self.symbols}

    @property
    def exposure_close(self) -> ExposureSample | None:
        return self.exposure[-1] if self.exposure else None

    def to_dict(self) -> dict[str, object]:
        from quantrail.ledger.report_formats import report_dict

        return report_dict(self)

    def to_json(self) -> str:
        from quantrail.ledger.report_formats import report_json

        return report_json(self)

    def to_csv(self) -> str:
        from quantrail.ledger.report_formats import report_csv

        return report_csv(self)

    def to_html(self) -> str:
        from quantrail.ledger.report_html import report_html

        return report_html(self)


def report_eod(
    store: LedgerStore,
    account: str,
    day: dt.date,
    dual: bool = False,
    *,
    marks: Mapping[str, Decimal] | None = None,
    timezone: str = "America/New_York",
    limits: Sequence[tuple[str, Decimal]] = (),
) -> EodReport:
    """The report of ``account`` on ``day`` from the store; ``marks`` are closing prices;
    ``limits`` (label, gross %) are drawn on the exposure chart."""
    stored = store.read_day(account, day)
    books = _replayed(stored)
    reconcile_day(stored, books)
    live = {m.symbol: (m.ts_ns, m.price) for m in store.live_marks.for_day(day).values()}
    report = build_report(books, marks, timezone=timezone, dual=dual, live=live)
    since, until = day_window(day, timezone)
    exposure = store.journal.exposure_samples(account, since, until)
    modes = store.journal.mode_changes(account, since, until, with_global=True)
    return replace(
        report, exposure=tuple(exposure), mode_changes=tuple(modes), limits=tuple(limits)
    )


def build_report(
    books: AccountDay,
    marks: Mapping[str, Decimal] | None = None,
    *,
    timezone: str = "America/New_York",
    dual: bool = False,
    live: Mapping[str, tuple[int, Decimal]] | None = None,
) -> EodReport:
    """The report's figures from an account-day's books (no journal: no exposure, no modes);
    ``live``: the day's last quote per symbol (ts_ns, mid)."""
    chosen = closing_marks(books, marks, live)
    totals = books.totals()
    unrealized = books.unrealized({symbol: mark.price for symbol, mark in chosen.items()})
    return EodReport(
        account=books.account,
        day=books.day,
        timezone=timezone,
        dual=dual,
        fill_count=len(books.results()),
        realized_intraday=totals.realized_intraday,
        baseline_realized=totals.baseline_reduction,
        fees=totals.fees,
        unrealized_baseline=unrealized.baseline,
        unrealized_intraday=unrealized.intraday,
        by_class=class_figures(books.results()),
        symbols=tuple(
            _symbol_line(books, symbol, mark, unrealized.by_symbol.get(symbol, PnlSplit()))
            for symbol, mark in chosen.items()
        ),
        pnl_points=tuple(_pnl_points(books.results())),
    )


def reconcile_day(stored: StoredDay, books: AccountDay) -> None:
    """Fail loudly unless start + fills = end per symbol and every fill's legs add up."""
    start = {p.symbol: p.qty for p in stored.snapshot.positions}
    filled: dict[str, int] = {}
    for fill in stored.fills:
        filled[fill.symbol] = filled.get(fill.symbol, 0) + fill.signed_qty
    reconcile_positions(f"{stored.snapshot.account} {stored.snapshot.day}", start, filled,
                        _positions(stored.open_lots))  # fmt: skip
    _reconcile_legs(stored)
    replayed = tuple((r.fill.fill_id, leg.name, leg.qty) for r in books.results() for leg in r.legs)
    if replayed != stored.legs:
        raise ReconciliationError(
            f"{stored.snapshot.account} {stored.snapshot.day}: the stored classes differ from "
            f"the fills replayed on the snapshot (stored: {stored.legs!r}, replayed: {replayed!r})"
        )
    if books.open_lots() != stored.open_lots:
        raise ReconciliationError(
            f"{stored.snapshot.account} {stored.snapshot.day}: the stored lots differ from the "
            f"fills replayed on the snapshot (stored: {stored.open_lots!r}, "
            f"replayed: {books.open_lots()!r})"
        )


def reconcile_positions(
    where: str, start: Mapping[str, int], filled: Mapping[str, int], end: Mapping[str, int]
) -> list[str]:
    """Check start + fills = end for every symbol; returns the symbols checked, sorted."""
    symbols = sorted(start.keys() | filled.keys() | end.keys())
    off = [
        f"{symbol}: start {start.get(symbol, 0)} + fills {filled.get(symbol, 0)} = "
        f"{start.get(symbol, 0) + filled.get(symbol, 0)}, but end is {end.get(symbol, 0)}"
        for symbol in symbols
        if start.get(symbol, 0) + filled.get(symbol, 0) != end.get(symbol, 0)
    ]
    if off:
        raise ReconciliationError(f"{where}: positions do not reconcile; " + "; ".join(off))
    return symbols


def _reconcile_legs(stored: StoredDay) -> None:
    legs: dict[str, int] = {}
    for fill_id, name, qty in stored.legs:
        legs[fill_id] = legs.get(fill_id, 0) + _signed_leg(name, qty)
    for fill in stored.fills:
        if legs.pop(fill.fill_id, 0) != fill.signed_qty:
            raise ReconciliationError(
                f"{fill.account} fill {fill.fill_id!r}: its classified legs do not add up to "
                f"the fill ({fill.side.value} {fill.qty}) in the store"
            )
    if legs:
        raise ReconciliationError(f"{stored.snapshot.account}: legs without a fill: {legs!r}")


def _signed_leg(name: str, qty: int) -> int:
    _book, direction, effect = FillClass(name).value.split("_")
    buying = (direction == "LONG") == (effect == "INCREASE")
    return qty if buying else -qty


def class_figures(results: tuple[BookingResult, ...]) -> dict[str, ClassFigures]:
    """All eight classes (zeros included), from the booked legs."""
    figures = {name: ClassFigures() for name in CLASS_NAMES}
    for result in results:
        fill = result.fill
        fees = split_fee(fill.fee, [leg.qty for leg in result.legs])
        for leg, fee in zip(result.legs, fees, strict=True):
            figures[leg.name] = figures[leg.name].plus(leg.qty, leg.qty * fill.price, fee)
    return figures


def split_fee(fee: Decimal, shares: list[int]) -> list[Decimal]:
    """A fill's fee over its legs, pro rata by shares: cents each, the remainder on the last."""
    total = sum(shares)
    parts = [cents(fee * qty / total) for qty in shares[:-1]]
    return [*parts, fee - sum(parts, ZERO)]


def day_window(day: dt.date, timezone: str) -> tuple[int, int]:
    """The exchange-local calendar day as ``[since_ns, until_ns)`` UTC."""
    zone = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return to_utc_ns(start), to_utc_ns(end)


def _replayed(stored: StoredDay) -> AccountDay:
    books = AccountDay(stored.snapshot)
    for fill in stored.fills:
        books.book_fill(fill)
    return books


def _positions(lots: tuple[Lot, ...]) -> dict[str, int]:
    held: dict[str, int] = {}
    for lot in lots:
        held[lot.symbol] = held.get(lot.symbol, 0) + lot.qty
    return held


def _symbol_line(books: AccountDay, symbol: str, mark: Mark, unrealized: PnlSplit) -> SymbolLine:
    results = [r for r in books.results() if r.fill.symbol == symbol]
    closes = [close for r in results for close in r.closes]
    lots = books.open_lots(symbol)
    totals = books.totals(symbol)
    baseline = books.snapshot.by_symbol().get(symbol)
    return SymbolLine(
        symbol=symbol,
        start=books.start_positions().get(symbol, 0),
        filled=books.filled_qty().get(symbol, 0),
        end=books.position(symbol),
        bought=sum(r.fill.qty for r in results if r.fill.side is Side.BUY),
        sold=sum(r.fill.qty for r in results if r.fill.side is Side.SELL),
        prior_close=baseline.prior_close if baseline is not None else None,
        baseline_closed=sum(c.qty for c in closes if c.origin is Origin.BASELINE),
        baseline_open=sum(lot.qty for lot in lots if lot.origin is Origin.BASELINE),
        intraday_open=sum(lot.qty for lot in lots if lot.origin is Origin.INTRADAY),
        realized_intraday=totals.realized_intraday,
        baseline_realized=totals.baseline_reduction,
        fees=totals.fees,
        unrealized_baseline=unrealized.baseline,
        unrealized_intraday=unrealized.intraday,
        mark=mark,
    )


def _pnl_points(results: tuple[BookingResult, ...]) -> list[PnlPoint]:
    points, running = [], ZERO
    for result in results:
        running += result.realized_intraday + result.baseline_reduction - result.fill.fee
        points.append(PnlPoint(result.fill.ts_ns, result.fill.fill_id, running))
    return points
