"""What the risk services know of the market: last quote, last print, last truth tick per symbol.

Fed from ``QuoteUpdated`` (market.quote) and ``TradePrinted`` (market.trade). Each risk service
keeps its own instance, so nothing is shared between services but the streams.

* ``price(symbol)`` is the mark for exposure: the last truth tick, else the last print of any
  size, else the quote mid, else None. Truth ticks come first because an odd lot can print far
  from the real market (thin preferreds), and a mark that jumps on one odd lot would move the
  whole book's exposure.
* ``market_view(symbol)`` is what the de-risk planner prices from (bid/ask, truth tick, print).
* "Last" is by the venue's time (``ts_exchange_ns``, else our ``ts_event``): a late-reported
  quote or print does not replace a newer one; equal times go to the later arrival.
* A one-sided quote (a zero price or size) leaves that side empty (None), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantrail.events.base import Event
from quantrail.events.market import QuoteUpdated, TradePrinted
from quantrail.marketdata.truth import TruthTickFilter, TruthTickTracker
from quantrail.marketdata.types import Print
from quantrail.risk.planner import MarketView
from quantrail.risk.positions import RiskInputError


@dataclass(frozen=True, slots=True)
class QuoteState:
    """The last top of book of a symbol; an empty side is None."""

    bid: Decimal | None
    ask: Decimal | None
    bid_size: int
    ask_size: int
    ts_ns: int

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Mark:
    """A price and where it came from (``TRUTH_TICK``, ``LAST_PRINT``, ``MID``) and when."""

    price: Decimal
    source: str
    ts_ns: int


def _side(price: Decimal, size: int) -> Decimal | None:
    return price if price > 0 and size > 0 else None


def _venue_time(ts_exchange_ns: int, ts_event: int) -> int:
    return ts_exchange_ns or ts_event


class MarketState:
    """Last quote, last print and last truth tick per symbol (see module doc)."""

    def __init__(self, truth_filter: TruthTickFilter | None = None) -> None:
        self._quotes: dict[str, QuoteState] = {}
        self._prints = TruthTickTracker(truth_filter or TruthTickFilter())

    def apply(self, event: Event) -> bool:
        """Take a market event; False (and nothing changed) for any other kind."""
        if isinstance(event, QuoteUpdated):
            self.on_quote(event)
            return True
        if isinstance(event, TradePrinted):
            self.on_print(event)
            return True
        return False

    def on_quote(self, event: QuoteUpdated) -> None:
        for name in ("bid", "ask"):
            value = getattr(event, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise RiskInputError(f"{name}: must be a finite Decimal >= 0, got {value!r}")
        ts_ns = _venue_time(event.ts_exchange_ns, event.ts_event)
        held = self._quotes.get(event.symbol)
        if held is not None and ts_ns < held.ts_ns:
            return  # late-reported: a newer quote is already held
        self._quotes[event.symbol] = QuoteState(
            bid=_side(event.bid, event.bid_size),
            ask=_side(event.ask, event.ask_size),
            bid_size=event.bid_size,
            ask_size=event.ask_size,
            ts_ns=ts_ns,
        )

    def on_print(self, event: TradePrinted) -> bool:
        """Record a print (its checks name the bad field); returns whether it is a truth tick."""
        print_ = Print(
            symbol=event.symbol,
            price=event.price,
            size=event.size,
            ts_ns=_venue_time(event.ts_exchange_ns, event.ts_event),
            venue=event.venue,
            conditions=tuple(event.conditions),
        )
        return self._prints.update(print_)

    def quote(self, symbol: str) -> QuoteState | None:
        return self._quotes.get(symbol)

    def last_truth_tick(self, symbol: str) -> Decimal | None:
        tick = self._prints.last_truth_tick(symbol)
        return None if tick is None else tick.price

    def last_print(self, symbol: str) -> Decimal | None:
        print_ = self._prints.last_print(symbol)
        return None if print_ is None else print_.price

    def mark(self, symbol: str) -> Mark | None:
        """The exposure mark: truth tick, else last print, else mid (see module doc)."""
        for print_, source in (
            (self._prints.last_truth_tick(symbol), "TRUTH_TICK"),
            (self._prints.last_print(symbol), "LAST_PRINT"),
        ):
            if print_ is not None:
                return Mark(print_.price, source, print_.ts_ns)
        quote = self._quotes.get(symbol)
        if quote is not None and quote.mid is not None:
            return Mark(quote.mid, "MID", quote.ts_ns)
        return None

    def price(self, symbol: str) -> Decimal | None:
        found = self.mark(symbol)
        return None if found is None else found.price

    def market_view(self, symbol: str) -> MarketView:
        """What the de-risk planner needs; parts never seen are None."""
        quote = self._quotes.get(symbol)
        return MarketView(
            bid=None if quote is None else quote.bid,
            ask=None if quote is None else quote.ask,
            last_truth_tick=self.last_truth_tick(symbol),
            last_print=self.last_print(symbol),
        )

    def symbols(self) -> list[str]:
        """Every symbol with a quote or a print, sorted."""
        return sorted(set(self._quotes) | set(self._prints.symbols()))
