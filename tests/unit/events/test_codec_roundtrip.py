"""Every kind survives the wire: encode/decode equal, Decimal exact, stream entry fields."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from kit.event_base import T0
from kit.events import one_of_each
from kit.order_events import order_filled, submit_order
from kit.position_events import exposure_snapshot
from quantrail.events import (
    ALL_EVENTS,
    Event,
    ExposureSnapshot,
    OrderFilled,
    PriceTicked,
    SubmitOrder,
    default_codec,
)

EVENTS = one_of_each()


def test_one_of_each_covers_the_whole_catalog() -> None:
    assert [type(e) for e in EVENTS] == list(ALL_EVENTS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_every_kind_round_trips_through_the_codec(event: Event) -> None:
    codec = default_codec()
    data = codec.encode(event)
    decoded = codec.decode(data)
    assert type(decoded) is type(event)
    assert decoded == event
    assert msgspec.json.decode(data)["kind"] == event.kind


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_stream_fields_are_plain_and_reverse(event: Event) -> None:
    codec = default_codec()
    fields = codec.to_fields(event)
    assert set(fields) == {b"kind", b"event_id", b"ts_event", b"key", b"payload"}
    assert fields[b"kind"] == event.kind.encode()
    assert fields[b"event_id"] == event.event_id.encode()
    assert fields[b"ts_event"] == str(T0).encode()
    assert fields[b"key"] == event.event_id.encode()  # no idempotency key: falls back to the id
    assert codec.from_fields(fields) == event


def test_to_fields_key_is_the_idempotency_key_when_set() -> None:
    fill = order_filled(idempotency_key="fill:SIM:fill-1")
    fields = default_codec().to_fields(fill)
    assert fields[b"key"] == b"fill:SIM:fill-1"


def test_money_is_a_string_on_the_wire_and_decodes_exactly() -> None:
    fill = order_filled(qty=300, price="25.01", fees="0.015")
    wire = msgspec.json.decode(default_codec().encode(fill))
    assert wire["last_price"] == "25.01"
    assert wire["fees"] == "0.015"
    decoded = default_codec().decode(default_codec().encode(fill))
    assert isinstance(decoded, OrderFilled)
    assert decoded.last_price == Decimal("25.01")
    assert str(decoded.last_price) == "25.01"
    # 300 x 25.01 = 7503.00 exactly; a float would give 7502.999999999999
    assert decoded.last_price * decoded.last_qty == Decimal("7503.00")


def test_money_trailing_zeros_survive() -> None:
    decoded = default_codec().decode(default_codec().encode(submit_order(limit_price="25.10")))
    assert isinstance(decoded, SubmitOrder)
    assert str(decoded.limit_price) == "25.10"


def test_money_as_json_number_decodes_exactly() -> None:
    data = (
        default_codec()
        .encode(order_filled())
        .replace(b'"last_price":"25.01"', b'"last_price":25.01')
    )
    decoded = default_codec().decode(data)
    assert isinstance(decoded, OrderFilled)
    assert decoded.last_price == Decimal("25.01")


def test_nested_structs_round_trip_with_exact_money() -> None:
    snap = exposure_snapshot()
    decoded = default_codec().decode(default_codec().encode(snap))
    assert decoded == snap
    assert isinstance(decoded, ExposureSnapshot)
    assert decoded.buckets["MM_PURE"].max == Decimal(300000)
    assert decoded.group_exposure["banks"].short_notional == Decimal(50000)


def test_envelope_fields_round_trip() -> None:
    fill = order_filled(
        idempotency_key="k1", correlation_id="sig-1", causation_id="ev-9", account="ACC2"
    )
    decoded = default_codec().decode(default_codec().encode(fill))
    assert (decoded.idempotency_key, decoded.correlation_id, decoded.causation_id) == (
        "k1",
        "sig-1",
        "ev-9",
    )
    assert decoded.account == "ACC2"
    assert decoded.schema_version == 1


def test_build_validates_a_loose_mapping_into_its_kind() -> None:
    built = default_codec().build(
        "market.tick.updated", {"ts_event": T0, "symbol": "ACME", "price": "25.01"}
    )
    assert built.kind == "market.tick.updated"
    assert isinstance(built, PriceTicked)
    assert built.price == Decimal("25.01")


def test_unknown_fields_from_newer_producers_are_ignored() -> None:
    wire = msgspec.json.decode(default_codec().encode(order_filled()))
    wire["venue_exec_flags"] = ["X"]
    decoded = default_codec().decode(msgspec.json.encode(wire))
    assert decoded == order_filled(event_id=wire["event_id"])
