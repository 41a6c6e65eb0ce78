"""The domain's shared words: sides, books, modes, phases, order states.

StrEnums so they encode as their plain names on the wire and read well in logs and YAML.
"""

from __future__ import annotations

import enum


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Bucket(enum.StrEnum):
    """The book a position or order belongs to."""

    LT = "LT"
    MM_PURE = "MM_PURE"


class Mode(enum.StrEnum):
    """Risk modes of the policy decision table, mildest first."""

    NORMAL = "NORMAL"
    THROTTLE_NEW_ORDERS = "THROTTLE_NEW_ORDERS"
    SOFT_DERISK = "SOFT_DERISK"
    HARD_DERISK = "HARD_DERISK"


class Phase(enum.StrEnum):
    """Session phases from the exchange calendar."""

    CLOSED = "CLOSED"  # not a trading day (weekend, holiday)
    PRE = "PRE"
    OPEN = "OPEN"
    EARLY = "EARLY"
    MID = "MID"
    LATE = "LATE"
    CLOSE = "CLOSE"
    POST = "POST"


class OrderStatus(enum.StrEnum):
    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    WORKING = "WORKING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    PENDING_REPLACE = "PENDING_REPLACE"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    DENIED = "DENIED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.DENIED,
    }
)


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class TimeInForce(enum.StrEnum):
    DAY = "DAY"
    IOC = "IOC"
    GTC = "GTC"


class Direction(enum.StrEnum):
    """The direction of a position (or of the position a trade would create)."""

    LONG = "LONG"
    SHORT = "SHORT"
    FLAT = "FLAT"


class Effect(enum.StrEnum):
    """Whether a trade increases or decreases the absolute position."""

    INCREASE = "INCREASE"
    DECREASE = "DECREASE"
