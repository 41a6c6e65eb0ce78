"""TWS API framing: fields, frames, the handshake and version negotiation."""

from __future__ import annotations

import asyncio
import struct
from decimal import Decimal

import pytest

from quantrail.ibkr.messages import PlaceOrder
from quantrail.ibkr.wire import (
    UNSET_DOUBLE,
    UNSET_INTEGER,
    ProtocolError,
    encode_field,
    frame,
    negotiate,
    read_handshake,
    split_fields,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""), (True, "1"), (False, "0"), (3, "3"), (2.0, "2"), (97.71, "97.71"),
        (UNSET_DOUBLE, ""), (UNSET_INTEGER, ""), (Decimal("10.50"), "10.50"), ("AAPL", "AAPL"),
    ],
)  # fmt: skip
def test_fields_are_sent_as_text(value: object, text: str) -> None:
    assert encode_field(value) == text  # type: ignore[arg-type]


def test_a_frame_is_a_big_endian_length_then_nul_terminated_fields() -> None:
    data = frame([9, 1, 42])
    assert data[:4] == struct.pack(">I", len(b"9\x001\x0042\x00"))
    assert split_fields(data[4:]) == ["9", "1", "42"]


async def _handshake(data: bytes) -> tuple[int, int, str]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await read_handshake(reader)


async def test_the_handshake_gives_the_client_version_range() -> None:
    text = b"v157..178 +PACEAPI"
    assert await _handshake(b"API\0" + struct.pack(">I", len(text)) + text) == (
        157, 178, "+PACEAPI",
    )  # fmt: skip


async def test_a_handshake_without_the_api_prefix_is_refused() -> None:
    with pytest.raises(ProtocolError, match="handshake must start with"):
        await _handshake(b"GET / HTTP/1.1\r\n")


@pytest.mark.parametrize(
    ("low", "high", "agreed"), [(100, 157, 157), (157, 178, 157), (100, 150, 150)]
)
def test_negotiation_settles_on_the_highest_common_version(
    low: int, high: int, agreed: int
) -> None:
    assert negotiate(low, high) == agreed


def test_a_client_needing_a_newer_server_is_refused() -> None:
    with pytest.raises(ProtocolError, match="client needs server version >= 201"):
        negotiate(201, 210)


def test_a_short_place_order_names_what_is_missing() -> None:
    with pytest.raises(ProtocolError, match="placeOrder: expected at least 27 fields, got 3"):
        PlaceOrder.parse(["3", "1", "0"])


def test_a_place_order_with_a_bad_quantity_names_the_field() -> None:
    fields = ["3", "7", "0", "AAPL", "STK", "", "0", "", "", "SMART", "", "USD", "", "", "", ""]
    fields += ["BUY", "lots", "MKT", "", "", "DAY", "", "", "O", "0", "ref"]
    with pytest.raises(ProtocolError, match="totalQuantity: expected a number, got 'lots'"):
        PlaceOrder.parse(fields)
