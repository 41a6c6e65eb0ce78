"""The TWS API text protocol's framing (server versions up to 178; >= 201 is protobuf).

A client opens with ``API\\0`` and a framed version range (``v157..178``); the server answers a
framed ``<version>\\0<connection time>\\0``. Every later message is a 4-byte big-endian length
and NUL-terminated ASCII fields, the message id first. Numbers are sent as text; an unset double
(``1.7976931348623157e308``) or an unset int (``2**31 - 1``) travels as an empty field.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Sequence
from decimal import Decimal

API_PREFIX = b"API\0"
SERVER_VERSION = 157
"""157 serves both clients: ``ibapi`` 9.81 asks 100..157, ``ib_async`` 157..178."""
MAX_FRAME = 16 * 1024 * 1024
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1
_RANGE = re.compile(r"^v(\d+)(?:\.\.(\d+))?")

Field = str | int | float | Decimal | bool | None


class ProtocolError(ValueError):
    """The peer sent something the protocol does not allow (named, with the bytes' gist)."""


def encode_field(value: Field) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value == UNSET_DOUBLE:
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return "" if value == UNSET_INTEGER else str(value)
    return str(value)


def frame_text(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text


def frame(fields: Sequence[Field]) -> bytes:
    """One message: the length prefix, then every field NUL-terminated."""
    payload = "".join(encode_field(value) + "\0" for value in fields).encode("ascii", "replace")
    return frame_text(payload)


def split_fields(payload: bytes) -> list[str]:
    fields = payload.decode("ascii", "backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(4)
    (length,) = struct.unpack(">I", header)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame length {length} is over the {MAX_FRAME}-byte limit")
    return await reader.readexactly(length)


async def read_handshake(reader: asyncio.StreamReader) -> tuple[int, int, str]:
    """The client's ``API\\0`` and version range: (min, max, connect options)."""
    prefix = await reader.readexactly(len(API_PREFIX))
    if prefix != API_PREFIX:
        raise ProtocolError(f"handshake must start with b'API\\x00', got {prefix!r}")
    text = (await read_frame(reader)).decode("ascii", "replace")
    match = _RANGE.match(text)
    if match is None:
        raise ProtocolError(f"handshake version range must look like v100..157, got {text!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return low, high, text[match.end() :].strip()


def negotiate(low: int, high: int) -> int:
    """The server version for a client range, or ProtocolError when they do not meet."""
    if low > SERVER_VERSION:
        raise ProtocolError(f"client needs server version >= {low}; this speaks {SERVER_VERSION}")
    return min(high, SERVER_VERSION)
