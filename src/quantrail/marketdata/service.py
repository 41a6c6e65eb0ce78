"""The market-data publisher: quotes and prints from a source onto the bus, on the clock.

A source is any time-ordered iterator of ``Quote``/``Print`` (the synthetic market, a market
file). Each tick of the service's clock publishes, in one batch, every event due by then, so a
simulated day moves at the speed of its simulated clock and a live replay at wall speed.

While Redis is unreachable a batch that failed is kept, never dropped:

* ``replay`` (a file, the synthetic market; the default): the source waits. Nothing more is
  read from it until the held batch is out, then everything that came due meanwhile follows
  in order. Every event of the file is published, once.
* ``live`` (a feed that cannot wait): what arrives meanwhile is held too, but quotes are
  conflated to the latest per symbol (prints are all kept: they are volume). Each quote
  replaced that way counts in ``conflated_quotes`` (in the heartbeat).

The outage is logged once when it starts, every 30 s while it lasts, and once when it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain
from typing import Literal

from quantrail.bus.transport import TransportError
from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.marketdata.types import Print, Quote
from quantrail.runtime.service import Service, Timer

log = logging.getLogger("quantrail.marketdata")
MarketItem = Quote | Print
FeedMode = Literal["replay", "live"]
NS_PER_S = 1_000_000_000
LOG_EVERY_NS = 30 * NS_PER_S


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

    def __init__(
        self, source: Iterator[MarketItem], tick_s: float = 1.0, mode: FeedMode = "replay"
    ) -> None:
        super().__init__()
        if mode not in ("replay", "live"):
            raise ValueError(f"mode: must be 'replay' or 'live' (value: {mode!r})")
        self._source = source
        self._tick_s = tick_s
        self.mode: FeedMode = mode
        self._pending: MarketItem | None = None
        self._held: list[Event] = []  # a batch Redis did not take yet, in order
        self._outage_since_ns: int | None = None
        self._next_log_ns = 0
        self.published = 0
        self.conflated_quotes = 0
        self.exhausted = False

    def timers(self) -> list[Timer]:
        return [Timer(self._tick_s, self.publish_due, "publish-due")]

    async def on_start(self) -> None:
        await self.publish_due()

    async def publish_due(self) -> int:
        """Publish the held batch and every event due by now; returns how many went out."""
        now = self.ctx.now_ns()
        if self.mode == "live" or not self._held:
            self._held = self._held + self._take_due(now)
            if self._outage_since_ns is not None:  # live: only what piled up is conflated
                self._held = self._conflate(self._held)
        if not self._held:
            return 0
        try:
            await self.ctx.publish_batch(self._held)
        except TransportError as exc:
            self._say_held(now, exc)
            return 0
        sent, self._held = len(self._held), []
        self.published += sent
        if self._outage_since_ns is not None:
            gone_s = (now - self._outage_since_ns) / NS_PER_S
            log.warning(
                "Redis reachable again after %.1f s: %d held events published", gone_s, sent
            )
            self._outage_since_ns = None
        return sent

    def _take_due(self, now: int) -> list[Event]:
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
        return due

    def _conflate(self, held: list[Event]) -> list[Event]:
        """Only the latest quote per symbol, at its place; every print kept."""
        latest = {e.symbol: i for i, e in enumerate(held) if isinstance(e, QuoteUpdated)}
        kept = [
            e for i, e in enumerate(held)
            if not isinstance(e, QuoteUpdated) or latest[e.symbol] == i
        ]  # fmt: skip
        self.conflated_quotes += len(held) - len(kept)
        return kept

    def _say_held(self, now: int, exc: TransportError) -> None:
        what = "the replay waits" if self.mode == "replay" else "quotes conflate per symbol"
        if self._outage_since_ns is None:
            self._outage_since_ns, self._next_log_ns = now, now + LOG_EVERY_NS
            log.warning(
                "Redis unreachable, holding %d market events (%s), retrying every %.1f s: %s",
                len(self._held), what, self._tick_s, exc,
            )  # fmt: skip
        elif now >= self._next_log_ns:
            self._next_log_ns = now + LOG_EVERY_NS
            log.warning(
                "Redis still unreachable after %.0f s, holding %d market events (%s)",
                (now - self._outage_since_ns) / NS_PER_S, len(self._held), what,
            )  # fmt: skip

    def health(self) -> dict[str, object]:
        return {
            "published": self.published,
            "exhausted": self.exhausted,
            "held": len(self._held),
            "conflated_quotes": self.conflated_quotes,
        }
