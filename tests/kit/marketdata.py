"""Builders for market-data values: short to call, explicit where it matters."""

from __future__ import annotations

from decimal import Decimal

from quantrail.marketdata.types import Print, Quote

T0_NS = 1_700_000_000_000_000_000
"""2023-11-14T22:13:20Z: a readable base time for tests."""


def quote(
    bid: str | Decimal = "24.99",
    ask: str | Decimal = "25.01",
    *,
    symbol: str = "PFA",
    bid_size: int = 500,
    ask_size: int = 300,
    ts_ns: int = T0_NS,
    venue: str = "",
) -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), bid_size, ask_size, ts_ns, venue)


def prt(
    price: str | Decimal = "25.00",
    size: int = 100,
    *,
    symbol: str = "PFA",
    ts_ns: int = T0_NS,
    venue: str = "NYSE",
    conditions: tuple[str, ...] = (),
) -> Print:
    return Print(symbol, Decimal(price), size, ts_ns, venue, conditions)


def prints_at(prices_and_sizes: list[tuple[str, int]], *, symbol: str = "PFA") -> list[Print]:
    """Prints one second apart from T0, in the order given."""
    return [
        prt(price, size, symbol=symbol, ts_ns=T0_NS + i * 1_000_000_000)
        for i, (price, size) in enumerate(prices_and_sizes)
    ]
