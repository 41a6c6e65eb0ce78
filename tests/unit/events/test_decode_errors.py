"""Bad input is refused with an error naming the field path and the offending value."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kit.market_events import session_clock
from kit.order_events import order_filled
from kit.position_events import exposure_snapshot
from quantrail.events import EventDecodeError, default_codec
from quantrail.events.errors import MISSING


def _wire(event: Any) -> dict[str, Any]:
    loose: dict[str, Any] = msgspec.json.decode(default_codec().encode(event))
    return loose


def _decode_error(payload: dict[str, Any]) -> EventDecodeError:
    with pytest.raises(EventDecodeError) as info:
        default_codec().decode(msgspec.json.encode(payload))
    return info.value


def test_unknown_kind_is_refused_naming_kind_and_value() -> None:
    payload = {**_wire(order_filled()), "kind": "trades.order.exploded"}
    error = _decode_error(payload)
    assert error.path == "$.kind"
    assert error.value == "trades.order.exploded"
    assert "trades.order.exploded" in str(error)


def test_missing_kind_is_refused() -> None:
    payload = _wire(order_filled())
    del payload["kind"]
    error = _decode_error(payload)
    assert error.path == "$.kind"
    assert error.value is MISSING


def test_missing_field_names_its_path() -> None:
    payload = _wire(order_filled())
    del payload["last_price"]
    error = _decode_error(payload)
    assert error.path == "$.last_price"
    assert error.value is MISSING
    assert error.kind == "trades.order.filled"
    assert "missing required field at $.last_price" in str(error)


def test_mistyped_money_names_path_and_value() -> None:
    payload = {**_wire(order_filled()), "last_price": "25.0x"}
    error = _decode_error(payload)
    assert error.path == "$.last_price"
    assert error.value == "25.0x"
    assert "'25.0x'" in str(error)


def test_float_quantity_is_refused() -> None:
    payload = {**_wire(order_filled()), "last_qty": 100.5}
    error = _decode_error(payload)
    assert error.path == "$.last_qty"
    assert error.value == 100.5


def test_bad_enum_value_names_path_and_value() -> None:
    payload = {**_wire(order_filled()), "side": "HOLD"}
    error = _decode_error(payload)
    assert error.path == "$.side"
    assert error.value == "HOLD"


def test_bad_phase_in_session_clock() -> None:
    payload = {**_wire(session_clock()), "phase": "LUNCH"}
    error = _decode_error(payload)
    assert (error.path, error.value, error.kind) == ("$.phase", "LUNCH", "session.clock.ticked")


def test_nested_struct_field_error_names_the_nested_path() -> None:
    payload = _wire(exposure_snapshot())
    payload["buckets"]["LT"]["current_pct"] = "eighty"
    error = _decode_error(payload)
    # msgspec names dict keys as [...]: the path still leads to the nested field
    assert error.path == "$.buckets[...].current_pct"
    assert error.kind == "exposure.snapshot.updated"
    assert "Expected `float`, got `str`" in error.reason


def test_nested_struct_missing_field_names_the_nested_path() -> None:
    payload = _wire(exposure_snapshot())
    del payload["group_exposure"]["banks"]["gross_pct"]
    error = _decode_error(payload)
    assert error.path == "$.group_exposure[...].gross_pct"
    assert error.reason == "missing required field"


def test_list_item_error_names_the_index() -> None:
    payload = _wire(order_filled())
    payload["kind"] = "market.trade.printed"
    payload.update(price="25.01", size=100, conditions=["@", 7])
    error = _decode_error(payload)
    assert error.path == "$.conditions[1]"
    assert error.value == 7


def test_contract_rule_broken_on_the_wire_is_refused_naming_the_field() -> None:
    payload = {**_wire(order_filled()), "leaves_qty": 5}
    error = _decode_error(payload)
    assert error.path == "$.leaves_qty"
    assert error.value == 5
    assert "must equal qty 100" in error.reason
    assert error.kind == "trades.order.filled"


def test_malformed_json_is_a_decode_error() -> None:
    with pytest.raises(EventDecodeError) as info:
        default_codec().decode(b'{"kind": "trades.order.filled",')
    assert "malformed JSON" in str(info.value)


def test_build_refuses_an_unknown_kind() -> None:
    with pytest.raises(EventDecodeError) as info:
        default_codec().build("market.quote.teleported", {"ts_event": 1})
    assert (info.value.path, info.value.value) == ("$.kind", "market.quote.teleported")


def test_from_fields_without_payload_names_the_field() -> None:
    with pytest.raises(EventDecodeError) as info:
        default_codec().from_fields({b"kind": b"trades.order.filled"})
    assert info.value.path == "payload"
