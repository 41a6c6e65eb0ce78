"""A raw TWS API client for the simulator's tests: frames in, frames out, nothing hidden.

``ib_async`` and ``ibapi`` are tested against the simulator too; this one lets a test see the
exact message order (execDetails before orderStatus, a repeated execId) that a library smooths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from quantrail.ibkr.wire import API_PREFIX, Field, frame, frame_text, read_frame, split_fields


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.server_version = 0
        self.inbox: list[list[str]] = []

    @classmethod
    async def connect(cls, port: int, client_id: int = 1) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        writer.write(API_PREFIX + frame_text(b"v100..157"))
        version, _stamp = split_fields(await read_frame(reader))
        client.server_version = int(version)
        await client.send([71, 2, client_id, ""])
        return client

    async def send(self, fields: list[Field]) -> None:
        self.writer.write(frame(fields))
        await self.writer.drain()

    async def until(self, found: Callable[[list[list[str]]], bool], timeout_s: float = 5.0) -> None:
        """Read messages into ``inbox`` until ``found(inbox)`` or the deadline."""
        deadline = time.monotonic() + timeout_s
        while not found(self.inbox):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not seen in {timeout_s}s; inbox: {self.inbox[-5:]}")
            self.inbox.append(split_fields(await asyncio.wait_for(read_frame(self.reader), left)))

    def ids(self) -> list[str]:
        return [fields[0] for fields in self.inbox]

    async def close(self) -> None:
        self.writer.close()


def place_order_fields(
    order_id: int,
    symbol: str,
    action: str,
    qty: int,
    order_type: str = "MKT",
    limit: str = "",
    order_ref: str = "",
    account: str = "",
) -> list[Field]:
    """A placeOrder as both clients send it at server 157, up to orderRef and a few more."""
    contract: list[Field] = [0, symbol, "STK", "", 0.0, "", "", "SMART", "", "USD", "", ""]
    order: list[Field] = [
        "",
        "",
        action,
        qty,
        order_type,
        limit,
        "",
        "DAY",
        "",
        account,
        "O",
        0,
        order_ref,
        1,
        0,
    ]
    return [3, order_id, *contract, *order]
