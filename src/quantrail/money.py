"""Money arithmetic: exact decimals, rounded to the cent only where a figure is reported."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


def to_money(value: Decimal | int | float | str) -> Decimal:
    """A Decimal from any input; floats go through ``str`` so 25.01 stays 25.01."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def cents(value: Decimal) -> Decimal:
    """Round to the cent (banker's rounding, as reports do)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
