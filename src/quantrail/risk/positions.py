"""Positions per account and symbol, and the fills that move them.

Quantities are signed integer shares (long > 0, short < 0). The average price is the cost of the
open quantity per share, kept as an exact-as-possible ``Decimal`` (28 significant digits, never
rounded to the cent: the ledger owns P&L and reports round). A fill that crosses zero closes the
old side and opens the new one at the fill price; nothing crosses zero silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from quantrail.bus.violation import RuleViolation
from quantrail.money import ZERO
from quantrail.vocab import Bucket, Side


class RiskInputError(ValueError, RuleViolation):
    """Bad input to risk logic; the message names the field and the value.

    Each module raises its own subclass; catch this one to catch them all. An event that raises
    it in a service's handler (the exposure service, the risk engine) breaks a rule: the bus
    dead-letters it at once with this message, and it never counts toward the breaker.
    """


class PositionError(RiskInputError):
    """A position or fill that cannot be applied."""


def require_shares(field: str, value: object, error: type[RiskInputError] = PositionError) -> int:
    """A positive integer share count, or an error naming ``field`` and ``value``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise error(f"{field} must be a positive integer number of shares, got {value!r}")
    return value


def require_price(
    field: str, value: object, error: type[RiskInputError] = PositionError
) -> Decimal:
    """A finite positive ``Decimal`` price, or an error naming ``field`` and ``value``."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise error(f"{field} must be a finite Decimal > 0, got {value!r}")
    return value


def require_name(field: str, value: object, error: type[RiskInputError] = PositionError) -> str:
    if not isinstance(value, str) or not value.strip():
        raise error(f"{field} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Position:
    account: str
    symbol: str
    qty: int
    bucket: Bucket
    avg_price: Decimal = ZERO

    def __post_init__(self) -> None:
        require_name("account", self.account)
        require_name("symbol", self.symbol)
        if isinstance(self.qty, bool) or not isinstance(self.qty, int):
            raise PositionError(f"qty must be an integer number of shares, got {self.qty!r}")
        if not isinstance(self.bucket, Bucket):
            raise PositionError(f"bucket must be a Bucket, got {self.bucket!r}")
        if self.qty == 0 and self.avg_price != ZERO:
            raise PositionError(f"avg_price of a flat position must be 0, got {self.avg_price!r}")
        if self.qty != 0:
            require_price("avg_price", self.avg_price)

    @property
    def is_flat(self) -> bool:
        return self.qty == 0


def apply_fill(position: Position, side: Side, qty: int, price: Decimal) -> Position:
    """The position after a fill of ``qty`` shares on ``side`` at ``price`` (pure)."""
    require_shares("qty", qty)
    require_price("price", price)
    if not isinstance(side, Side):
        raise PositionError(f"side must be a Side, got {side!r}")
    old, new = position.qty, position.qty + side.sign * qty
    if old == 0 or ((old > 0) == (new > 0) and abs(new) > abs(old)):
        # Opening or adding: the average moves to the weighted cost of the open shares.
        cost = abs(old) * position.avg_price + qty * price
        return replace(position, qty=new, avg_price=cost / abs(new))
    if new == 0:
        return replace(position, qty=0, avg_price=ZERO)
    if (old > 0) == (new > 0):
        return replace(position, qty=new)  # reducing keeps the average of what is left
    return replace(position, qty=new, avg_price=price)  # crossed: the new side opened here


class PositionBook:
    """One account's positions by symbol. Flat positions are kept so their bucket is known."""

    def __init__(self, account: str) -> None:
        self.account = require_name("account", account)
        self._positions: dict[str, Position] = {}

    @classmethod
    def from_positions(cls, account: str, baseline: Iterable[Position]) -> PositionBook:
        """A book loaded from a baseline (e.g. the start-of-day snapshot)."""
        book = cls(account)
        for position in baseline:
            if position.account != account:
                raise PositionError(
                    f"position account must be {account!r}, got {position.account!r} "
                    f"for {position.symbol}"
                )
            if position.symbol in book._positions:
                raise PositionError(f"symbol appears twice in the baseline: {position.symbol!r}")
            book._positions[position.symbol] = position
        return book

    def get(self, symbol: str) -> Position | None:
        return self._positions.get(symbol)

    def qty(self, symbol: str) -> int:
        position = self._positions.get(symbol)
        return 0 if position is None else position.qty

    def apply_fill(
        self, symbol: str, side: Side, qty: int, price: Decimal, bucket: Bucket | None = None
    ) -> Position:
        """Apply a fill and return the updated position.

        ``bucket`` is required to open a symbol the book has never held; on an open position
        it must match (a fill cannot move shares between books), on a flat one it re-books.
        """
        current = self._positions.get(symbol)
        if current is None:
            if bucket is None:
                raise PositionError(f"bucket is required for a first fill of {symbol!r}")
            current = Position(self.account, symbol, 0, bucket)
        elif bucket is not None and bucket != current.bucket:
            if not current.is_flat:
                raise PositionError(
                    f"bucket {bucket.value} does not match the open {current.bucket.value} "
                    f"position in {symbol!r}"
                )
            current = replace(current, bucket=bucket)
        updated = apply_fill(current, side, qty, price)
        self._positions[symbol] = updated
        return updated

    def positions(self) -> list[Position]:
        """All positions, flat ones included, sorted by symbol."""
        return [self._positions[s] for s in sorted(self._positions)]

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions() if not p.is_flat]

    def __iter__(self) -> Iterator[Position]:
        return iter(self.positions())

    def __len__(self) -> int:
        return len(self._positions)
