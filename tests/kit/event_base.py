"""The generic event builder for tests and the story every default tells.

Every domain builder (``kit.market_events``, ``kit.order_events``, ...) takes ``**overrides``
for any field. Money fields accept ``"25.01"`` strings (or ints) as well as Decimals, so tests
read like the numbers they check. The defaults describe one coherent story: account ``ACC1``
buys 100 ACME in the LT book at 25.01 on 2024-03-15.
"""

from __future__ import annotations

import types
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec

from quantrail.money import to_money

T0 = 1_710_509_400_000_000_000
"""2024-03-15 13:30:00 UTC (09:30 New York, the open): the default ``ts_event``."""
SESSION_CLOSE_NS = 1_710_532_800_000_000_000
"""2024-03-15 20:00:00 UTC (16:00 New York, the close)."""
ACCOUNT = "ACC1"
SYMBOL = "ACME"
PRICE = "25.01"

MoneyLike = Decimal | str | int
S = TypeVar("S", bound=msgspec.Struct)


def build(struct_type: type[S], defaults: dict[str, Any], overrides: dict[str, Any]) -> S:
    """``struct_type(**defaults | overrides)`` with money strings turned into Decimals."""
    values = {**defaults, **overrides}
    money = _money_fields(struct_type)
    for name, value in values.items():
        if name in money and isinstance(value, str | int) and not isinstance(value, bool):
            values[name] = to_money(value)
    return struct_type(**values)


def envelope(**fields: Any) -> dict[str, Any]:
    """``fields`` with the envelope every default event shares: at ``T0``, from ``test``."""
    return {"ts_event": T0, "source": "test", **fields}


@cache
def _money_fields(struct_type: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(
        field.name for field in msgspec.structs.fields(struct_type) if _is_money(field.type)
    )


def _is_money(annotation: Any) -> bool:
    if annotation is Decimal:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return Decimal in get_args(annotation)
    return False
