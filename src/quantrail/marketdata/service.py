"""The market-data publisher: quotes and prints from a source onto the bus, on the clock.

A source is any time-ordered iterator of ``Quote``/``Print`` (the synthetic market, a market
file). Each tick of the service's clock publishes, in one batch, every event due by then, so a
simulated day moves at the speed of its simulated clock and a live replay at wall speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.marketdata.types import Print, Quote
from quantrail.runtime.service import Service, Timer

MarketItem = Quote | Print


def to_event(item: MarketItem, source: str = "marketdata") -> Event:
    """The bus event for a quote or a print (exchange time kept as the event time)."""
    if isinstance(item, Quote):
        return QuoteUpdated(
            ts_event=item.ts_ns,
            source=source,
            symbol=item.symbol,
            bid=item.bid,
            ask=item.ask,
            bid_size=item.bid_size,
            ask_size=item.ask_size,
            venue=item.venue,
            ts_exchange_ns=item.ts_ns,
        )
    return TradePrinted(
        ts_event=item.ts_ns,
        source=source,
        symbol=item.symbol,
        price=item.price,
        size=item.size,
        venue=item.venue,
        conditions=list(item.conditions),
        ts_exchange_ns=item.ts_ns,
    )


def print_of(event: TradePrinted) -> Print:
    """The ``Print`` of a bus print (exchange time, else ``ts_event``); checks name the field."""
    return Print(
        symbol=event.symbol,
        price=event.price,
        size=event.size,
        ts_ns=event.ts_exchange_ns or event.ts_event,
        venue=event.venue,
        conditions=tuple(event.conditions),
    )


class MarketDataService(Service):
    """Publishes a source's events as they come due on the service clock."""

    name = "marketdata"

    def __init__(self, source: Iterator[MarketItem], tick_s: float = 1.0) -> None:
        super().__init__()
        self._source = source
        self._tick_s = tick_s
        self._pending: MarketItem | None = None
        self.published = 0
        self.exhausted = False

    def timers(self) -> list[Timer]:
        return [Timer(self._tick_s, self.publish_due, "publish-due")]

    async def on_start(self) -> None:
        await self.publish_due()

    async def publish_due(self) -> int:
        """Publish every event with a time at or before now; returns how many."""
        now = self.ctx.now_ns()
        due: list[Event] = []
        upcoming = chain([self._pending] if self._pending else [], self._source)
        self._pending = None
        for item in upcoming:
            if item.ts_ns > now:
                self._pending = item
                break
            due.append(to_event(item, self.name))
        else:
            self.exhausted = True
        if due:
            await self.ctx.publish_batch(due)
            self.published += len(due)
        return len(due)

    def health(self) -> dict[str, object]:
        return {"published": self.published, "exhausted": self.exhausted}
