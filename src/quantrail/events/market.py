"""Market data events: level-1 quotes, trade prints, candles, ticks and computed features.

Prices are exact decimals; sizes and volumes are whole shares. ``ts_exchange_ns`` is the venue's
own timestamp (0 when the feed gives none); the envelope's ``ts_event`` is when we saw it.
Feeds are normalized by the market data sources, so these contracts only type the fields.
"""

from __future__ import annotations

from quantrail.events.base import Details, Event, Money


class QuoteUpdated(Event, frozen=True, kw_only=True, tag="market.quote.updated"):
    """Top of book (L1) changed."""

    symbol: str
    bid: Money
    ask: Money
    bid_size: int
    ask_size: int
    venue: str = ""
    ts_exchange_ns: int = 0


class TradePrinted(Event, frozen=True, kw_only=True, tag="market.trade.printed"):
    """A trade print from the tape; ``conditions`` are the venue's sale-condition codes."""

    symbol: str
    price: Money
    size: int
    venue: str = ""
    conditions: list[str] = []
    ts_exchange_ns: int = 0


class CandleClosed(Event, frozen=True, kw_only=True, tag="market.candle.closed"):
    """A bar over ``[start_ns, start_ns + timeframe)`` closed; ``timeframe`` like "1m", "5m"."""

    symbol: str
    timeframe: str
    start_ns: int
    open: Money
    high: Money
    low: Money
    close: Money
    volume: int


class PriceTicked(Event, frozen=True, kw_only=True, tag="market.tick.updated"):
    """A last-price update (cheap stream for stop monitoring and dashboards)."""

    symbol: str
    price: Money


class FeatureComputed(Event, frozen=True, kw_only=True, tag="market.feature.computed"):
    """A derived feature such as ``TRUTH_TICK`` or ``GRPAN``.

    ``value`` is the feature's price (None when there is not enough data), ``concentration`` the
    share of volume at that level for GRPAN (0-1), ``window`` the number of prints it used.
    """

    symbol: str
    name: str
    value: Money | None = None
    concentration: float | None = None
    window: int = 0
    details: Details = {}
