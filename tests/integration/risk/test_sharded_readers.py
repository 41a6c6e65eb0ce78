"""Exposure and the decision engine with ``bus.shards: 4`` on a real Redis and on the
Redis Cluster.

Both rebuild today's book from ``trades.order``, ``market.quote`` and ``market.trade`` at start
and follow them from where the rebuild stopped: with four shards, one id cursor per shard. One
symbol lives on each shard (``kit.shards.SPREAD``); every symbol must be marked and booked,
by the start-up replay, by the live readers and again after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kit.market_events import trade_print
from kit.order_events import order_filled
from kit.session import ny_ns
from kit.shards import SPREAD, shard_keys_written
from quantrail.bus.bus import EventBus
from quantrail.config import AccountConfig
from quantrail.events.base import Event
from quantrail.risk.engine import DecisionEngine
from quantrail.risk.exposure_service import ExposureService
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.session import ExchangeCalendar

NOW = ny_ns("2026-11-20 10:00")
D = Decimal
BASELINE = [(symbol, 100, "LT", "10.00") for symbol in SPREAD]


def at(offset_s: float) -> int:
    return NOW + int(offset_s * NS_PER_SECOND)


def prints(first: int, count: int) -> list[Event]:
    """Per symbol, round-lot prints rising by a cent a second: the last one is the mark."""
    return [
        trade_print(symbol, D(20 + index) + D(step) / 100, 100, ts_event=at(step),
                    ts_exchange_ns=at(step))
        for step in range(first, first + count)
        for index, symbol in enumerate(SPREAD)
    ]  # fmt: skip


def fills(tag: str, qty: int, offset_s: float) -> list[Event]:
    return [
        order_filled(qty=qty, price="20", symbol=symbol, order_id=f"o-{tag}-{symbol}",
                     fill_id=f"f-{tag}-{symbol}", ts_event=at(offset_s))
        for symbol in SPREAD
    ]  # fmt: skip


def marks(step: int) -> dict[str, Decimal]:
    return {symbol: D(20 + index) + D(step) / 100 for index, symbol in enumerate(SPREAD)}


def qtys(book_of: Callable[[str], Any]) -> dict[str, int]:
    return {symbol: book_of("ACC1").positions.qty(symbol) for symbol in SPREAD}


async def test_exposure_and_engine_book_and_mark_every_shard_live_and_after_a_restart(
    rig: Callable[..., Any],
    services_for: Callable[..., Any],
    calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
    sharded_bus: EventBus,
) -> None:
    bus = sharded_bus
    account = account_with(BASELINE)
    # Before the services start: replayed at start, shard by shard.
    await bus.publish_batch([*prints(0, 5), *fills("a", 50, 1)])
    assert len(await shard_keys_written(bus, "trades.order")) == 4
    first = await rig(services_for(calendar, [account], session=False), NOW, bus=bus).start()
    exposure, engine = first.services
    assert isinstance(exposure, ExposureService) and isinstance(engine, DecisionEngine)
    assert qtys(exposure.book) == qtys(engine.book) == dict.fromkeys(SPREAD, 150)
    assert {s: exposure.market.price(s) for s in SPREAD} == marks(4)
    # Live: each shard's reader goes on from where the replay stopped on that shard.
    await first.publish(*prints(5, 5), *fills("b", 25, 6))
    assert qtys(exposure.book) == qtys(engine.book) == dict.fromkeys(SPREAD, 175)
    assert {s: exposure.market.price(s) for s in SPREAD} == marks(9)
    await first.advance(15)
    snapshot = (await first.stream_events("exposure.snapshot"))[-1]
    assert snapshot.long_notional == sum(175 * price for price in marks(9).values())
    await first.stop()

    again = services_for(calendar, [account], session=False)
    second = await rig(again, bus=bus, clock=first.clock).start()
    assert qtys(again[0].book) == qtys(again[1].book) == dict.fromkeys(SPREAD, 175)
    assert {s: again[0].market.price(s) for s in SPREAD} == marks(9)
    await second.publish(*fills("c", 5, 20))
    assert qtys(again[0].book) == qtys(again[1].book) == dict.fromkeys(SPREAD, 180)
