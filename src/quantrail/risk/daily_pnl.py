"""An account's daily P&L, as docs/chain.md "Daily P&L" defines it (pure, exact decimals).

* Start of day: the baseline positions (``risk.accounts[].baseline``) carried at their prior
  close, which is also their first mark; the start-of-day equity is ``risk.accounts[].equity``.
* Every fill moves the average cost (adding shares averages, reducing keeps the average and
  realizes ``(price - average) x shares`` on the closed side, crossing zero opens the new side
  at the fill price); its fee is added to the day's fees.
* Marks: the latest trade print (or tick), else the latest quote mid, else the prior close,
  else, for a symbol opened today with no market data yet, the average cost (unrealized 0).
* Daily P&L = realized + unrealized - fees; the % is over the start-of-day equity; equity =
  start-of-day equity + daily P&L; the high-water mark is the highest equity seen (from the
  start-of-day equity); the drawdown is (HWM - equity) / HWM in percent.
* A new day (``roll``) carries the positions at their last mark as the new prior close and the
  day's closing equity as the new start-of-day equity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from quantrail.money import ZERO
from quantrail.risk.baseline import BaselineRow
from quantrail.vocab import Bucket, Side

HUNDRED = Decimal(100)
_ANY_BUCKET = Bucket.LT  # a rolled-over row needs one; the bucket does not move P&L


@dataclass(slots=True)
class Holding:
    qty: int
    avg_cost: Decimal


@dataclass(frozen=True, slots=True)
class DailyFigures:
    """One reading of the day (money exact; percentages as exact decimals)."""

    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    pnl: Decimal
    pnl_pct: Decimal
    equity: Decimal
    high_water_mark: Decimal
    drawdown_pct: Decimal
    open_positions: int
    gross_exposure_pct: Decimal


class DailyPnl:
    """One account's day. Feed fills and market data; read ``figures()``."""

    def __init__(
        self, account: str, start_equity: Decimal, baseline: Iterable[BaselineRow] = ()
    ) -> None:
        if not start_equity.is_finite() or start_equity <= 0:
            raise ValueError(f"equity: must be > 0 for account {account!r}, got {start_equity}")
        self.account = account
        self.start_equity = start_equity
        self.holdings: dict[str, Holding] = {}
        self.prior_close: dict[str, Decimal] = {}
        self._prints: dict[str, Decimal] = {}
        self._mids: dict[str, Decimal] = {}
        self.realized = ZERO
        self.fees = ZERO
        self.revision = 0  # moves whenever a figure may have (a fill, a held symbol's mark)
        self.booked = 0  # moves with every fill booked (and correction): not with a mark
        for row in baseline:
            self.holdings[row.symbol] = Holding(row.qty, row.prior_close)
            self.prior_close[row.symbol] = row.prior_close
        self.high_water_mark = start_equity

    # -- inputs ---------------------------------------------------------------------------------

    def on_fill(self, symbol: str, side: Side, qty: int, price: Decimal, fee: Decimal) -> None:
        self._book(symbol, side, qty, price, fee)
        self._observe()

    def on_correction(
        self,
        symbol: str,
        side: Side,
        was: tuple[int, Decimal, Decimal],
        now: tuple[int, Decimal, Decimal],
    ) -> None:
        """A venue corrected a fill (qty, price, fee): the fill as booked is taken back (the
        other side at its price, its fee returned) and the corrected one booked, then the day
        observed once. The day's P&L (realized + unrealized - fees) comes out as if the fill had
        been right from the start; only its split between realized and unrealized may not."""
        back = Side.SELL if side is Side.BUY else Side.BUY
        self._book(symbol, back, was[0], was[1], -was[2])
        self._book(symbol, side, *now)
        self._observe()

    def _book(self, symbol: str, side: Side, qty: int, price: Decimal, fee: Decimal) -> None:
        if qty <= 0 or not price.is_finite() or price <= 0:
            raise ValueError(f"fill: qty must be > 0 and price > 0, got {qty} @ {price}")
        held = self.holdings.setdefault(symbol, Holding(0, ZERO))
        self.revision += 1
        self.booked += 1
        old, new = held.qty, held.qty + side.sign * qty
        if old != 0 and (old > 0) != (side.sign > 0):  # reduces (maybe through zero)
            closed = min(qty, abs(old))
            self.realized += (price - held.avg_cost) * closed * (1 if old > 0 else -1)
        if new == 0:
            held.avg_cost = ZERO
        elif old == 0 or (old > 0) != (new > 0):
            held.avg_cost = price  # opened, or crossed zero: the new side starts here
        elif abs(new) > abs(old):
            held.avg_cost = (abs(old) * held.avg_cost + qty * price) / abs(new)
        held.qty = new
        self.fees += fee

    def marked_by_prints(self, symbol: str) -> bool:
        """Whether ``symbol`` is marked at its last print (its quote mids then move nothing)."""
        return symbol in self._prints

    def on_print(self, symbol: str, price: Decimal) -> None:
        if price.is_finite() and price > 0:
            self._prints[symbol] = price
            self._moved(symbol)
            self._observe()

    @staticmethod
    def usable_quote(bid: Decimal, ask: Decimal) -> bool:
        """A quote whose mid ``on_quote`` keeps as a mark."""
        return bid > 0 and ask > 0 and bid.is_finite() and ask.is_finite()

    def on_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        if self.usable_quote(bid, ask):
            self._mids[symbol] = (bid + ask) / 2
            self._moved(symbol)
            self._observe()

    # -- figures --------------------------------------------------------------------------------

    def mark(self, symbol: str) -> Decimal:
        held = self.holdings.get(symbol)
        fallback = held.avg_cost if held is not None else ZERO
        for source in (self._prints, self._mids, self.prior_close):
            if symbol in source:
                return source[symbol]
        return fallback

    def unrealized(self) -> Decimal:
        return sum(
            ((self.mark(s) - h.avg_cost) * h.qty for s, h in self.holdings.items() if h.qty),
            ZERO,
        )

    def pnl(self) -> Decimal:
        return self.realized + self.unrealized() - self.fees

    def pnl_pct_with(self, prints: Mapping[str, Decimal]) -> Decimal:
        """``figures().pnl_pct`` as it would be after ``on_print`` of each of ``prints``
        (usable prices), figured the same way; nothing is kept."""
        unrealized = sum(
            (
                ((prints[s] if s in prints else self.mark(s)) - h.avg_cost) * h.qty
                for s, h in self.holdings.items()
                if h.qty
            ),
            ZERO,
        )
        pnl = self.realized + unrealized - self.fees
        return pnl / self.start_equity * HUNDRED

    def figures(self) -> DailyFigures:
        unrealized = self.unrealized()
        pnl = self.realized + unrealized - self.fees
        equity = self.start_equity + pnl
        hwm = max(self.high_water_mark, equity)
        gross = sum((abs(h.qty) * self.mark(s) for s, h in self.holdings.items()), ZERO)
        return DailyFigures(
            realized=self.realized,
            unrealized=unrealized,
            fees=self.fees,
            pnl=pnl,
            pnl_pct=pnl / self.start_equity * HUNDRED,
            equity=equity,
            high_water_mark=hwm,
            drawdown_pct=(hwm - equity) / hwm * HUNDRED if hwm > 0 else ZERO,
            open_positions=sum(1 for h in self.holdings.values() if h.qty),
            gross_exposure_pct=gross / equity * HUNDRED if equity > 0 else ZERO,
        )

    def roll(self) -> DailyPnl:
        """The next day: positions at their last mark as prior close, today's equity carried."""
        rows = [
            BaselineRow(symbol, held.qty, _ANY_BUCKET, self.mark(symbol))
            for symbol, held in sorted(self.holdings.items())
            if held.qty
        ]
        return DailyPnl(self.account, self.figures().equity, rows)

    def _moved(self, symbol: str) -> None:
        held = self.holdings.get(symbol)
        if held is not None and held.qty:
            self.revision += 1

    def _observe(self) -> None:
        self.high_water_mark = max(self.high_water_mark, self.start_equity + self.pnl())


def budget_remaining(pnl_pct: Decimal, limit_pct: Decimal) -> Decimal:
    """Percent of the daily loss budget still unused (100 with no loss, 0 at the limit)."""
    loss = max(-pnl_pct, ZERO)
    return max(HUNDRED - loss / abs(limit_pct) * HUNDRED, ZERO)


def breached(pnl_pct: Decimal, limit_pct: Decimal) -> bool:
    """The kill switch's trigger: the day's P&L % at or below the (negative) limit."""
    return pnl_pct <= limit_pct
