"""OHLCV candles from prints, per symbol, in fixed buckets aligned to the UTC epoch.

A candle is closed by the first print of a later bucket or by ``flush(now_ns)`` once its bucket
has ended. Buckets without prints produce no candle. A print for a bucket whose candle was
already closed cannot amend what was published: it is counted in ``late_prints`` and dropped.
``update_price`` adds a price without a print (a quote mid, for a symbol that has no prints):
it moves open/high/low/close like a print and adds no volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from quantrail.marketdata.truth import TruthTickFilter
from quantrail.marketdata.types import Print

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Candle:
    symbol: str
    start_ns: int
    """Bucket start, inclusive."""
    end_ns: int
    """Bucket end, exclusive."""
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    prints: int
    notional: Decimal
    """Sum of price x size: exact, so VWAP = notional / volume is derivable."""
    open_ts_ns: int
    close_ts_ns: int

    @property
    def timeframe_s(self) -> int:
        return (self.end_ns - self.start_ns) // NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class _Price:
    """A price without a trade (a quote mid): what ``_first_candle``/``_add_print`` read."""

    symbol: str
    price: Decimal
    ts_ns: int
    size: int = 0


def _first_candle(print_: Print | _Price, start_ns: int, end_ns: int) -> Candle:
    return Candle(
        symbol=print_.symbol,
        start_ns=start_ns,
        end_ns=end_ns,
        open=print_.price,
        high=print_.price,
        low=print_.price,
        close=print_.price,
        volume=print_.size,
        prints=1 if print_.size else 0,
        notional=print_.price * print_.size,
        open_ts_ns=print_.ts_ns,
        close_ts_ns=print_.ts_ns,
    )


def _add_print(candle: Candle, print_: Print | _Price) -> Candle:
    # Within a bucket prints may arrive slightly out of order: open is the earliest print by
    # time, close the latest (equal times: the later arrival closes).
    earlier = print_.ts_ns < candle.open_ts_ns
    later = print_.ts_ns >= candle.close_ts_ns
    return replace(
        candle,
        open=print_.price if earlier else candle.open,
        open_ts_ns=print_.ts_ns if earlier else candle.open_ts_ns,
        high=max(candle.high, print_.price),
        low=min(candle.low, print_.price),
        close=print_.price if later else candle.close,
        close_ts_ns=print_.ts_ns if later else candle.close_ts_ns,
        volume=candle.volume + print_.size,
        prints=candle.prints + (1 if print_.size else 0),
        notional=candle.notional + print_.price * print_.size,
    )


@dataclass(slots=True)
class CandleBuilder:
    """Builds candles of ``timeframe_s`` seconds; with ``truth_filter`` only truth ticks count."""

    timeframe_s: int
    truth_filter: TruthTickFilter | None = None
    late_prints: int = field(default=0, init=False)
    _open: dict[str, Candle] = field(default_factory=dict, init=False, repr=False)
    _closed_until: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        valid = isinstance(self.timeframe_s, int) and not isinstance(self.timeframe_s, bool)
        if not valid or self.timeframe_s < 1:
            raise ValueError(f"timeframe_s: must be an int >= 1, got {self.timeframe_s!r}")

    @property
    def timeframe_ns(self) -> int:
        return self.timeframe_s * NS_PER_SECOND

    def bucket_start(self, ts_ns: int) -> int:
        return ts_ns - ts_ns % self.timeframe_ns

    def update(self, print_: Print) -> Candle | None:
        """Add a print; returns the symbol's previous candle if this print closed it."""
        if self.truth_filter is not None and not self.truth_filter.is_truth_tick(print_):
            return None
        return self._add(print_)

    def update_price(self, symbol: str, price: Decimal, ts_ns: int) -> Candle | None:
        """Add a price seen without a trade (no volume); returns a candle it closed."""
        return self._add(_Price(symbol, price, ts_ns))

    def _add(self, print_: Print | _Price) -> Candle | None:
        start = self.bucket_start(print_.ts_ns)
        if start < self._closed_until.get(print_.symbol, 0):
            self.late_prints += 1
            return None
        current = self._open.get(print_.symbol)
        if current is not None and start == current.start_ns:
            self._open[print_.symbol] = _add_print(current, print_)
            return None
        # A print for an earlier bucket than the open one is late as well.
        if current is not None and start < current.start_ns:
            self.late_prints += 1
            return None
        self._open[print_.symbol] = _first_candle(print_, start, start + self.timeframe_ns)
        if current is not None:
            self._closed_until[print_.symbol] = current.end_ns
        return current

    def quiet_window(self, symbol: str) -> tuple[int, int] | None:
        """[from, to): the times at which a price only moves ``symbol``'s open candle forward:
        in its bucket and not before its close (none opens, closes or is late; None: no
        candle open)."""
        current = self._open.get(symbol)
        return None if current is None else (current.close_ts_ns, current.end_ns)

    def fold_prices(self, symbol: str, prices: Sequence[Decimal], last_ts_ns: int) -> None:
        """Prices (no trades) each inside ``quiet_window``, in order, the last at
        ``last_ts_ns``: the open candle as ``update_price`` one by one leaves it."""
        c = self._open[symbol]  # built field by field: ``replace`` costs more than the fold
        self._open[symbol] = Candle(
            c.symbol, c.start_ns, c.end_ns, c.open, max(c.high, *prices), min(c.low, *prices),
            prices[-1], c.volume, c.prints, c.notional, c.open_ts_ns, last_ts_ns,
        )  # fmt: skip

    def flush(self, now_ns: int) -> list[Candle]:
        """Close and return every open candle whose bucket has ended by ``now_ns``."""
        done = [c for c in self._open.values() if c.end_ns <= now_ns]
        for candle in done:
            del self._open[candle.symbol]
            self._closed_until[candle.symbol] = candle.end_ns
        return sorted(done, key=lambda c: (c.start_ns, c.symbol))

    def next_end_ns(self) -> int | None:
        """When the first open candle's bucket ends (None: no candle is open)."""
        return min((candle.end_ns for candle in self._open.values()), default=None)

    def open_candle(self, symbol: str) -> Candle | None:
        """The candle still building for ``symbol`` (not final)."""
        return self._open.get(symbol)
