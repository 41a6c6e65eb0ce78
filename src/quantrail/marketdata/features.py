"""Market features per symbol from the tape: the last truth tick and GRPAN, throttled.

The pure part of the ``features`` service. Feed every print in stream order; ``on_print``
returns the feature updates to publish. The output is a function of the prints alone (their
order and exchange times), never of the wall clock, so a replayed day yields the same updates.

* **Change**: a feature is published when its value differs from the last one published for
  the symbol: the truth tick's (price, size, venue), GRPAN's (price, concentration, band and
  window volume, ticks used). A new truth tick repeating the last one's price, size and venue
  is not a change.
* **Throttle** (``min_interval_ns``, per symbol, in exchange time): a symbol publishes at most
  once per interval. A change inside the interval is held and published at the interval's end,
  with the values as of then (every print up to and including the due time; prints at one same
  instant count in arrival order). Time here is the tape's: the latest exchange time seen on
  any symbol (the watermark). A held value goes out with the first print, of any symbol, at or
  after its due time, stamped with the due time; on a silent tape it waits.
* **Ids**: an update's key is ``feature:<symbol>:<NAME>:<at_ns>:<seq>`` (``seq`` counts the
  updates of that feature at that same instant, almost always 0), so republishing a day gives
  the same keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from quantrail.marketdata.grpan import GrpanCalculator, GrpanConfig, GrpanValue
from quantrail.marketdata.truth import TruthTickFilter, TruthTickTracker
from quantrail.marketdata.types import Print

TRUTH_TICK = "TRUTH_TICK"
GRPAN = "GRPAN"
FEATURE_NAMES = (TRUTH_TICK, GRPAN)

Signature = tuple[object, ...]
"""What a feature's value is compared on to decide whether it changed."""


@dataclass(frozen=True, slots=True)
class FeatureSettings:
    grpan: GrpanConfig = field(default_factory=GrpanConfig)
    truth_filter: TruthTickFilter = field(default_factory=TruthTickFilter)
    min_interval_ns: int = 1_000_000_000

    def __post_init__(self) -> None:
        if isinstance(self.min_interval_ns, bool) or not isinstance(self.min_interval_ns, int):
            raise TypeError(f"min_interval_ns: must be an int, got {self.min_interval_ns!r}")
        if self.min_interval_ns < 0:
            raise ValueError(f"min_interval_ns: must be >= 0, got {self.min_interval_ns}")


@dataclass(frozen=True, slots=True)
class FeatureUpdate:
    """One feature of one symbol to publish at ``at_ns`` (exchange time)."""

    symbol: str
    at_ns: int
    seq: int
    value: Print | GrpanValue
    """The truth tick itself, or the GRPAN value."""

    @property
    def name(self) -> str:
        return _name(self.value)

    @property
    def key(self) -> str:
        return feature_key(self.symbol, self.name, self.at_ns, self.seq)

    @property
    def position(self) -> tuple[int, int]:
        """``(at_ns, seq)``: one feature's updates come in increasing position."""
        return (self.at_ns, self.seq)


def feature_key(symbol: str, name: str, at_ns: int, seq: int) -> str:
    return f"feature:{symbol}:{name}:{at_ns}:{seq}"


def key_position(key: str) -> tuple[int, int] | None:
    """``(at_ns, seq)`` from a feature key; None for a key that is not one."""
    parts = key.rsplit(":", 2)
    if len(parts) != 3 or not parts[0].startswith("feature:"):
        return None
    try:
        return int(parts[1]), int(parts[2])
    except ValueError:
        return None


def event_id_for(key: str) -> str:
    """A deterministic 32-hex-digit event id from an idempotency key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def signature(value: Print | GrpanValue) -> Signature:
    if isinstance(value, Print):
        return (value.price, value.size, value.venue)
    return (
        value.price,
        value.concentration,
        value.band_volume,
        value.window_volume,
        value.ticks_used,
    )


class FeatureEngine:
    """Truth ticks and GRPAN per symbol, with the change test and the throttle (module doc)."""

    def __init__(self, settings: FeatureSettings | None = None) -> None:
        self.settings = settings or FeatureSettings()
        self._truth = TruthTickTracker(self.settings.truth_filter)
        self._grpan = GrpanCalculator(self.settings.grpan, self.settings.truth_filter)
        self._watermark: int | None = None
        self._due: dict[str, int] = {}
        self._last_publish: dict[str, int] = {}
        self._published: dict[tuple[str, str], Signature] = {}
        self._last_position: dict[tuple[str, str], tuple[int, int]] = {}

    @property
    def watermark_ns(self) -> int | None:
        """The latest exchange time seen on the tape (None before the first print)."""
        return self._watermark

    def held(self) -> dict[str, int]:
        """Symbols holding a change back, with the time it is due."""
        return dict(self._due)

    def current(self, symbol: str) -> list[Print | GrpanValue]:
        """The symbol's features now (published or not): truth tick, then GRPAN, when known."""
        values: list[Print | GrpanValue | None] = [
            self._truth.last_truth_tick(symbol),
            self._grpan.value(symbol),
        ]
        return [value for value in values if value is not None]

    def on_print(self, print_: Print) -> list[FeatureUpdate]:
        """Take one print; the updates due now (held ones first, in due order)."""
        now = print_.ts_ns if self._watermark is None else max(self._watermark, print_.ts_ns)
        self._watermark = now
        # Held values are published as of their due time: prints up to and including it.
        updates = self._flush(lambda due: due < now)
        self._truth.update(print_)
        self._grpan.update(print_)
        updates.extend(self._flush(lambda due: due <= now))
        symbol = print_.symbol
        if symbol in self._due or not self._changes(symbol):
            return updates
        last = self._last_publish.get(symbol)
        if last is None or now >= last + self.settings.min_interval_ns:
            updates.extend(self._publish(symbol, now))
        else:
            self._due[symbol] = last + self.settings.min_interval_ns
        return updates

    def _flush(self, is_ready: Callable[[int], bool]) -> list[FeatureUpdate]:
        ready = sorted((due, symbol) for symbol, due in self._due.items() if is_ready(due))
        updates: list[FeatureUpdate] = []
        for due, symbol in ready:
            del self._due[symbol]
            updates.extend(self._publish(symbol, due))
        return updates

    def _changes(self, symbol: str) -> list[Print | GrpanValue]:
        return [
            value
            for value in self.current(symbol)
            if self._published.get((symbol, _name(value))) != signature(value)
        ]

    def _publish(self, symbol: str, at_ns: int) -> list[FeatureUpdate]:
        updates: list[FeatureUpdate] = []
        for value in self._changes(symbol):
            slot = (symbol, _name(value))
            last_at, last_seq = self._last_position.get(slot, (None, -1))
            seq = last_seq + 1 if last_at == at_ns else 0
            self._published[slot] = signature(value)
            self._last_position[slot] = (at_ns, seq)
            updates.append(FeatureUpdate(symbol, at_ns, seq, value))
        if updates:
            self._last_publish[symbol] = at_ns
        return updates


def _name(value: Print | GrpanValue) -> str:
    return TRUTH_TICK if isinstance(value, Print) else GRPAN
