"""Which event objects the in-process bus may hand to readers instead of decoding their entry.

The rule: only when decoding the event's encoding gives back an equal object of the same types
field by field, and the event holds nothing mutable (``events/sharing.py``).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from kit.event_base import T0
from kit.market_events import candle, feature, price_tick, quote, session_clock, trade_print
from kit.order_events import intent, order_filled, submit_order
from quantrail.events.base import Event
from quantrail.events.catalog import ALL_EVENTS
from quantrail.events.codec import Codec, default_codec
from quantrail.events.market import QuoteUpdated
from quantrail.events.sharing import never, share_check
from quantrail.vocab import Side

CODEC = default_codec()


class Loud(enum.StrEnum):
    ACME = "ACME"


def _same_as_decoded(event: Event) -> bool:
    decoded = CODEC.from_fields(CODEC.to_fields(event))
    types = [type(v) for v in msgspec.structs.astuple(event)]
    return decoded == event and types == [type(v) for v in msgspec.structs.astuple(decoded)]


@pytest.mark.parametrize(
    "event",
    [quote(), price_tick(), candle(), session_clock(), intent(), submit_order(), order_filled()],
    ids=lambda e: e.kind,
)
def test_events_built_by_the_kit_are_shared_and_equal_their_decoding(event: Event) -> None:
    assert CODEC.shareable(event)
    assert _same_as_decoded(event)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bid", 25),  # decode would give Decimal("25")
        ("bid", 25.0),  # a float: decode would give a Decimal
        ("bid_size", True),  # a bool in an int field: decode refuses it
        ("bid_size", 500.0),  # a float in an int field: decode refuses it
        ("symbol", Loud.ACME),  # a StrEnum member in a str field: decode gives a plain str
        ("account", 7),  # neither str nor None
        ("ts_exchange_ns", "0"),  # a str in an int field
    ],
)
def test_a_field_decode_would_change_or_refuse_is_not_shared(field: str, value: Any) -> None:
    assert not CODEC.shareable(msgspec.structs.replace(quote(), **{field: value}))


def test_an_enum_field_holding_its_value_is_not_shared() -> None:
    assert CODEC.shareable(intent(side=Side.SELL))
    assert not CODEC.shareable(msgspec.structs.replace(intent(), side="SELL"))  # Side.SELL decoded


def test_literal_fields_are_shared_only_with_one_of_their_values() -> None:
    assert CODEC.shareable(intent(urgency="HIGH"))
    assert not CODEC.shareable(intent(urgency="SOON"))  # decode refuses it


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_float_that_is_not_finite_is_not_shared(value: float) -> None:
    assert CODEC.shareable(session_clock(minutes_to_close=12.5))
    assert not CODEC.shareable(session_clock(minutes_to_close=value))  # encoded as null


def test_events_with_containers_are_never_shared() -> None:
    """A reader that decodes gets its own list or dict; a shared one could be changed."""
    assert not CODEC.shareable(trade_print())  # conditions: list[str], even empty
    assert not CODEC.shareable(trade_print(conditions=["@", "T"]))
    assert not CODEC.shareable(feature())  # details: dict


def test_kinds_without_containers_are_the_ones_shared() -> None:
    containers = (msgspec.inspect.ListType, msgspec.inspect.DictType, msgspec.inspect.StructType)
    for event_type in ALL_EVENTS:
        fields = msgspec.inspect.type_info(event_type).fields  # type: ignore[attr-defined]
        members = [m for f in fields for m in getattr(f.type, "types", (f.type,))]
        has_container = any(isinstance(m, containers) for m in members)
        assert (share_check(event_type, event_type) is never) == has_container, event_type


def test_a_class_the_codec_does_not_decode_to_is_not_shared() -> None:
    class Quote2(QuoteUpdated, frozen=True, kw_only=True, tag="market.quote.updated"):
        pass

    event = Quote2(ts_event=T0, symbol="ACME", bid=Decimal("1.00"), ask=Decimal("1.01"),
                   bid_size=1, ask_size=1)  # fmt: skip
    assert not CODEC.shareable(event)  # it decodes to a QuoteUpdated
    assert not Codec([e for e in ALL_EVENTS if e is not QuoteUpdated]).shareable(quote())


def test_a_string_that_does_not_encode_is_not_shared() -> None:
    """A kept event's fields are encoded when read: the publish must be the one that fails."""
    assert CODEC.shareable(quote(source="Zürich"))
    loose = quote(source="bad \udcff byte")
    assert not CODEC.shareable(loose)
    with pytest.raises(UnicodeEncodeError):
        CODEC.to_fields(loose)
