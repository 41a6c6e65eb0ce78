"""The 8-way classification of a fill: {MM, LT} x {LONG, SHORT} x {INCREASE, DECREASE}.

The class is read off the account's position in the symbol just before the fill. A fill that
crosses zero (long 100, sell 300) is split into two legs: a DECREASE to flat, then an INCREASE
on the other side, so every share of every fill lands in exactly one class.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from quantrail.vocab import Bucket, Direction, Effect, Side


class FillClass(enum.StrEnum):
    """The eight classes, spelled ``<book>_<direction>_<effect>``."""

    LT_LONG_INCREASE = "LT_LONG_INCREASE"
    LT_LONG_DECREASE = "LT_LONG_DECREASE"
    LT_SHORT_INCREASE = "LT_SHORT_INCREASE"
    LT_SHORT_DECREASE = "LT_SHORT_DECREASE"
    MM_LONG_INCREASE = "MM_LONG_INCREASE"
    MM_LONG_DECREASE = "MM_LONG_DECREASE"
    MM_SHORT_INCREASE = "MM_SHORT_INCREASE"
    MM_SHORT_DECREASE = "MM_SHORT_DECREASE"


# The book prefix of a class: the MM_PURE bucket reports as "MM".
_BOOK: dict[Bucket, str] = {Bucket.LT: "LT", Bucket.MM_PURE: "MM"}


@dataclass(frozen=True, slots=True)
class ClassifiedLeg:
    """One classified piece of a fill: ``qty`` shares (positive) of one class."""

    fill_class: FillClass
    qty: int
    direction: Direction
    effect: Effect

    @property
    def name(self) -> str:
        return self.fill_class.value

    @property
    def signed_qty(self) -> int:
        """The leg's change to the position: LONG INCREASE and SHORT DECREASE are buys."""
        buying = (self.direction is Direction.LONG) == (self.effect is Effect.INCREASE)
        return self.qty if buying else -self.qty


def class_of(bucket: Bucket, direction: Direction, effect: Effect) -> FillClass:
    if direction is Direction.FLAT:
        raise ValueError("direction: a class needs LONG or SHORT (value: FLAT)")
    return FillClass(f"{_BOOK[Bucket(bucket)]}_{direction.value}_{effect.value}")


def classify(bucket: Bucket, position_before: int, side: Side, qty: int) -> list[ClassifiedLeg]:
    """Classify a fill of ``qty`` shares on ``side`` against the signed ``position_before``.

    Returns one leg, or two when the fill crosses zero (DECREASE to flat, then INCREASE).
    """
    _check_int("position_before", position_before, allow_zero=True)
    _check_int("qty", qty, allow_zero=False)
    bucket, side = Bucket(bucket), Side(side)
    signed = side.sign * qty
    if position_before == 0 or (position_before > 0) == (signed > 0):
        return [_leg(bucket, _direction_of(signed), Effect.INCREASE, qty)]
    held = _direction_of(position_before)
    closing = min(qty, abs(position_before))
    legs = [_leg(bucket, held, Effect.DECREASE, closing)]
    if qty > closing:
        legs.append(_leg(bucket, _direction_of(signed), Effect.INCREASE, qty - closing))
    return legs


def _leg(bucket: Bucket, direction: Direction, effect: Effect, qty: int) -> ClassifiedLeg:
    return ClassifiedLeg(class_of(bucket, direction, effect), qty, direction, effect)


def _direction_of(signed_qty: int) -> Direction:
    return Direction.LONG if signed_qty > 0 else Direction.SHORT


def _check_int(field: str, value: object, *, allow_zero: bool) -> None:
    # bool is an int subclass: True shares would silently book as 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{field}: must be integer shares (value: {value!r})")
    if not allow_zero and value <= 0:
        raise ValueError(f"{field}: must be a positive number of shares (value: {value!r})")


def class_label(legs: list[ClassifiedLeg] | tuple[ClassifiedLeg, ...]) -> str:
    """The classification of a whole fill as one string: its legs' classes joined with ``+``.

    ``LT_LONG_INCREASE`` for a one-leg fill, ``LT_LONG_DECREASE+LT_SHORT_INCREASE`` for a fill
    that crosses zero. This is what ``OrderFill.classification`` carries when a producer fills it.
    """
    return "+".join(leg.name for leg in legs)
