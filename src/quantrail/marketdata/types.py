"""Plain market-data values: a top-of-book quote and a trade print.

These are the pure counterparts of the bus events ``QuoteUpdated`` and ``TradePrinted``; the
field names are the same so a service converts one into the other field by field. Prices are
``Decimal`` (never float), sizes are integer shares, time is int nanoseconds UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def require_symbol(symbol: object) -> None:
    if not isinstance(symbol, str) or not symbol.strip() or symbol != symbol.strip():
        raise ValueError(f"symbol: must be a non-empty string without outer spaces, got {symbol!r}")


def require_price(field: str, value: object, *, positive: bool) -> None:
    """A finite Decimal; ``positive`` demands > 0, otherwise >= 0 (0 means 'no price')."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{field}: must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"{field}: must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{field}: must be {bound}, got {value}")


def require_shares(field: str, value: object, *, positive: bool) -> None:
    """Integer shares; ``bool`` is refused although Python counts it as an int."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{field}: must be an int number of shares, got {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{field}: must be {bound}, got {value}")


def require_ts(value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"ts_ns: must be a non-negative int of nanoseconds UTC, got {value!r}")


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book. A zero price or size means that side is empty.

    Locked or crossed quotes are accepted (live feeds do send them for a moment); ask
    ``crossed`` before trusting the spread.
    """

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    ts_ns: int
    venue: str = ""

    def __post_init__(self) -> None:
        require_symbol(self.symbol)
        require_price("bid", self.bid, positive=False)
        require_price("ask", self.ask, positive=False)
        require_shares("bid_size", self.bid_size, positive=False)
        require_shares("ask_size", self.ask_size, positive=False)
        require_ts(self.ts_ns)
        if not isinstance(self.venue, str):
            raise TypeError(f"venue: must be a string, got {self.venue!r}")

    @property
    def two_sided(self) -> bool:
        return self.bid > 0 and self.ask > 0

    @property
    def crossed(self) -> bool:
        """Both sides present and bid >= ask (locked or crossed)."""
        return self.two_sided and self.bid >= self.ask

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    @property
    def mid(self) -> Decimal:
        """Exact midpoint (may carry a half cent)."""
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Print:
    """One trade as reported by the tape: price, size, where and under which conditions."""

    symbol: str
    price: Decimal
    size: int
    ts_ns: int
    venue: str = ""
    conditions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require_symbol(self.symbol)
        require_price("price", self.price, positive=True)
        require_shares("size", self.size, positive=True)
        require_ts(self.ts_ns)
        if not isinstance(self.venue, str):
            raise TypeError(f"venue: must be a string, got {self.venue!r}")
        if not isinstance(self.conditions, tuple) or not all(
            isinstance(code, str) and code for code in self.conditions
        ):
            raise TypeError(
                f"conditions: must be a tuple of non-empty strings, got {self.conditions!r}"
            )


MarketEvent = Quote | Print
"""What the sources (synthetic, replay, live adapters) yield, in time order."""
