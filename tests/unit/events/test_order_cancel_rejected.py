"""``trades.order.cancel_rejected``: a refused cancel, carrying the status the order stays in."""

from __future__ import annotations

import msgspec
import pytest

from kit.order_events import order_cancel_rejected, order_fields
from quantrail.events import ALL_EVENTS, OrderCancelRejected, default_codec, stream_of_kind
from quantrail.events.schema import schema_for
from quantrail.vocab import OrderStatus


def test_it_round_trips_with_its_status_and_reason() -> None:
    event = order_cancel_rejected(status=OrderStatus.PARTIALLY_FILLED, reason="too late")
    codec = default_codec()
    wire = codec.encode(event)
    decoded = codec.decode(wire)
    assert type(decoded) is OrderCancelRejected and decoded == event
    body = msgspec.json.decode(wire)
    assert (body["kind"], body["status"], body["reason"]) == (
        "trades.order.cancel_rejected",
        "PARTIALLY_FILLED",
        "too late",
    )
    assert (body["order_id"], body["intent_id"], body["symbol"], body["account"]) == (
        "ord-1",
        "int-1",
        "ACME",
        "ACC1",
    )


def test_it_is_in_the_catalog_on_the_order_stream_with_a_schema() -> None:
    assert OrderCancelRejected in ALL_EVENTS
    assert stream_of_kind("trades.order.cancel_rejected") == "trades.order"
    schema = schema_for("trades.order.cancel_rejected")
    root = schema["$defs"]["OrderCancelRejected"]  # type: ignore[index]
    assert {"reason", "status", "order_id"} <= set(root["required"])


@pytest.mark.parametrize(
    "status",
    [OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELED],
)
def test_any_status_the_order_can_stay_in_is_carried(status: OrderStatus) -> None:
    assert order_cancel_rejected(status=status).status is status


@pytest.mark.parametrize("status", [OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE])
def test_a_pending_status_is_refused_naming_it(status: OrderStatus) -> None:
    with pytest.raises(ValueError, match=rf"status: .* got {status.value}"):
        order_cancel_rejected(status=status)


def test_the_status_and_a_reason_are_required() -> None:
    with pytest.raises(ValueError, match=r"reason: .* got ''"):
        order_cancel_rejected(reason="")
    with pytest.raises(TypeError, match="status"):
        OrderCancelRejected(**order_fields(reason="order already filled"))
