"""The checks every order path runs before an order leaves: reduce-only, gate, LiquidityGuard.

``PreTrade`` holds what the checks need and the execution service keeps current: the risk mode
per account, the positions (start-of-day baseline plus the service's own fills) and the last
quote per symbol (displayed size); ADV per symbol comes from the ``liquidity`` config. ``check``
changes nothing; the caller records a submission with ``guard.record_submitted``. Denial codes:
the gate's (``DENIED_*``), the guard's (``BELOW_MIN``, ``RATE_LIMIT``, ``OPEN_ORDER_CAP``) and
``DENIED_REDUCE_ONLY_INCREASES``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from quantrail.config import AccountConfig
from quantrail.events import QuoteUpdated
from quantrail.execution.order import Order
from quantrail.money import ZERO
from quantrail.risk.baseline import load_baseline
from quantrail.risk.gate import PreTradeGate, order_effect
from quantrail.risk.liquidity import (
    GuardAction,
    GuardResult,
    LiquidityCode,
    LiquidityConfig,
    LiquidityGuard,
    LiquidityView,
    ProposedOrder,
)
from quantrail.risk.positions import Position, PositionBook
from quantrail.vocab import Effect, Mode, Side

REDUCE_ONLY_INCREASES = "DENIED_REDUCE_ONLY_INCREASES"

_GUARD_DENIALS = (LiquidityCode.BELOW_MIN, LiquidityCode.RATE_LIMIT, LiquidityCode.OPEN_ORDER_CAP)
_STRICTNESS = {mode: rank for rank, mode in enumerate(Mode)}  # Mode lists mildest first


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one order: allowed at ``qty`` (maybe resized), or denied with a code."""

    allowed: bool
    code: str
    reason: str
    qty: int = 0
    guard: GuardResult | None = None


class PreTrade:
    def __init__(self, liquidity: LiquidityConfig) -> None:
        self.guard = LiquidityGuard(liquidity)
        self.modes: dict[str | None, Mode] = {}  # None: the mode of every account
        self.quotes: dict[str, QuoteUpdated] = {}
        self.books: dict[str, PositionBook] = {}
        self._gate = PreTradeGate()

    # --- state ----------------------------------------------------------------------------

    def load_baselines(self, accounts: Iterable[AccountConfig]) -> None:
        for account in accounts:
            rows = load_baseline(account.baseline) if account.baseline else []
            held = [
                Position(account.name, r.symbol, r.qty, r.bucket, r.prior_close if r.qty else ZERO)
                for r in rows
            ]
            self.books[account.name] = PositionBook.from_positions(account.name, held)

    def book_fill(self, order: Order, qty: int, price: Decimal) -> None:
        book = self.books.setdefault(order.account, PositionBook(order.account))
        # The bucket only names a first position; a fill never moves shares between books.
        bucket = None if book.get(order.symbol) else order.bucket
        book.apply_fill(order.symbol, order.side, qty, price, bucket)

    def correct_fill(
        self, order: Order, was: tuple[int, Decimal], now: tuple[int, Decimal]
    ) -> None:
        """A corrected execution: the one booked is taken back, the corrected one booked (the
        position's shares come out exact; its average is only a pre-trade estimate)."""
        book = self.books.setdefault(order.account, PositionBook(order.account))
        back = Side.SELL if order.side is Side.BUY else Side.BUY
        book.apply_fill(order.symbol, back, was[0], was[1])
        book.apply_fill(order.symbol, order.side, now[0], now[1])

    def position(self, account: str, symbol: str) -> int:
        book = self.books.get(account)
        return 0 if book is None else book.qty(symbol)

    def mode(self, account: str, floor: Mode = Mode.NORMAL) -> Mode:
        """The strictest of the account's mode, the all-accounts mode and ``floor``."""
        known = (self.modes.get(account, Mode.NORMAL), self.modes.get(None, Mode.NORMAL), floor)
        return max(known, key=_STRICTNESS.__getitem__)

    # --- the checks -----------------------------------------------------------------------

    def check(
        self,
        order: Order,
        qty: int,
        at_venue: Iterable[Order],
        now_ns: int,
        *,
        killed: bool,
        skip: frozenset[str] = frozenset(),
    ) -> Verdict:
        """Judge ``qty`` shares of ``order`` against the orders already at the venue (those in
        ``skip`` left out: the order itself, the one it replaces)."""
        others = [o for o in at_venue if o.order_id not in skip and o.symbol == order.symbol]
        position = self.position(order.account, order.symbol)
        working = sum(
            o.unfilled_qty for o in others if (o.account, o.side) == (order.account, order.side)
        )
        effect, _crosses = order_effect(position + order.side.sign * working, order.side, qty)
        if order.reduce_only and effect is Effect.INCREASE:
            more = f" with {working} more working" if working else ""
            reason = f"reduce-only {order.side.value} {qty} against position {position}{more}"
            return Verdict(False, REDUCE_ONLY_INCREASES, f"{reason} would increase exposure")
        gate = self._gate.check(
            self.mode(order.account, order.mode),
            position,
            order.side,
            qty,
            kill_switch=killed,
            working_qty=working,
        )
        if not gate.allowed:
            return Verdict(False, gate.reason_code, gate.reason)
        proposed = ProposedOrder(
            symbol=order.symbol, side=order.side, qty=qty, reduce_only=order.reduce_only
        )
        guard = self.guard.check(proposed, self._view(order, others), now_ns)
        if guard.action is GuardAction.DENY:
            code = next(str(c) for c in guard.codes if c in _GUARD_DENIALS)
            return Verdict(False, code, reasons_text(guard), 0, guard)
        return Verdict(True, gate.reason_code, reasons_text(guard) or gate.reason, guard.qty, guard)

    def _view(self, order: Order, others: list[Order]) -> LiquidityView:
        """ADV from the config (the symbol's ``adv``, else ``default_adv``); displayed size
        from the last quote on the side the order would take (no quote yet: 0); open orders of
        the symbol and the latest one."""
        quote = self.quotes.get(order.symbol)
        shown = 0
        if quote is not None:
            shown = quote.ask_size if order.side is Side.BUY else quote.bid_size
        return LiquidityView(
            adv=self.guard.config.adv_for(order.symbol),
            displayed_size=shown,
            open_orders_for_symbol=len(others),
            last_order_ns=max((o.created_ns for o in others), default=None),
        )


def reasons_text(guard: GuardResult) -> str:
    return "; ".join(f"{reason.code}: {reason.text}" for reason in guard.reasons)
