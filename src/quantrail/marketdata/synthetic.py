"""A deterministic synthetic market: quotes and prints for a universe of preferred-like symbols.

Model, per symbol and per time step (``step_ns``):

* a fair value follows a random walk with mean reversion toward the start price (half-life
  ``REVERSION_HALF_LIFE_S``); its daily standard deviation is ``volatility`` x price;
* the quote is the fair value rounded to whole cents around a 1-5 cent spread, with displayed
  sizes in round lots; a quote is emitted when bid or ask moves, and now and then for a size
  refresh;
* prints arrive at a Poisson rate set by the average daily volume; each lifts the ask or hits
  the bid, or (off-exchange, venue ``FNRA``) prints at the midpoint, possibly a half cent;
  sizes mix odd lots, round lots and mixed lots;
* now and then a burst starts: for a while prints are more frequent and the walk wilder.

Randomness comes from ``random.Random`` seeded per symbol from (seed, symbol): the same seed
gives the same events, and a symbol's path does not depend on the rest of the universe. Draws
are floats, but every emitted price is an exact Decimal in cents (half cents off-exchange).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from quantrail.marketdata.types import MarketEvent, Print, Quote, require_symbol

TRADING_DAY_S = 23_400
NS_PER_SECOND = 1_000_000_000
REVERSION_HALF_LIFE_S = 1_800
OFF_EXCHANGE_VENUE = "FNRA"
OFF_EXCHANGE_VENUES = frozenset({OFF_EXCHANGE_VENUE})
"""The venues a demo excludes from truth ticks: off-exchange (TRF) reports."""
VENUE_WEIGHTS = {"NYSE": 30, "NSDQ": 20, "ARCA": 15, "EDGX": 10, "BATS": 5, OFF_EXCHANGE_VENUE: 20}
SPREAD_CENTS_WEIGHTS = {1: 30, 2: 35, 3: 20, 4: 10, 5: 5}
AVERAGE_PRINT_SIZE = 180
"""The size mix below averages ~168 shares; bursts add ~10% prints: the volume lands near ADV."""
BURST_EVERY_S = 3_600
BURST_SECONDS = (30, 120)
BURST_ACTIVITY = 6.0
BURST_VOLATILITY = 3.0
SIZE_REFRESH_PROBABILITY = 0.02
SPREAD_CHANGE_PROBABILITY = 0.005
MIDPOINT_PROBABILITY = 0.3
MAX_PRINTS_PER_STEP = 50
_E4 = 10_000  # fair value is held in units of $0.0001
_CENT_E4 = 100
_FLOOR_E4 = 1 * _E4  # the walk never goes below $1.00
_Choice = TypeVar("_Choice")


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    group: str
    start_price: Decimal
    volatility: Decimal
    """Daily standard deviation of returns, as a fraction (0.006 = 0.6%)."""
    adv: int
    """Average daily volume in shares."""

    def __post_init__(self) -> None:
        require_symbol(self.symbol)
        if not isinstance(self.group, str) or not self.group:
            raise ValueError(f"group: must be a non-empty string, got {self.group!r}")
        price = self.start_price
        if not isinstance(price, Decimal) or not price.is_finite() or price < 1:
            raise ValueError(f"start_price: must be a Decimal >= 1, got {price!r}")
        vol = self.volatility
        if not isinstance(vol, Decimal) or not vol.is_finite() or not 0 <= vol < 1:
            raise ValueError(f"volatility: must be a Decimal in [0, 1), got {vol!r}")
        if not isinstance(self.adv, int) or isinstance(self.adv, bool) or self.adv < 0:
            raise ValueError(f"adv: must be an int >= 0, got {self.adv!r}")


class _SymbolState:
    """The mutable walk of one symbol: fair value, quote in cents, burst countdown."""

    def __init__(self, spec: SymbolSpec, seed: int, step_ns: int) -> None:
        self.spec = spec
        self.rng = random.Random(f"{seed}/{spec.symbol}")
        step_s = step_ns / NS_PER_SECOND
        self.anchor_e4 = int(spec.start_price * _E4)
        self.fair_e4 = self.anchor_e4
        self.sigma_e4 = float(spec.volatility) * self.anchor_e4 * math.sqrt(step_s / TRADING_DAY_S)
        self.theta = 1 - 0.5 ** (step_s / REVERSION_HALF_LIFE_S)
        self.print_rate = spec.adv / AVERAGE_PRINT_SIZE * step_s / TRADING_DAY_S
        self.burst_probability = min(1.0, step_s / BURST_EVERY_S)
        self.burst_steps = tuple(max(1, round(seconds / step_s)) for seconds in BURST_SECONDS)
        self.burst_left = 0
        self.spread_c = self.draw(SPREAD_CENTS_WEIGHTS)
        self.bid_c = 0
        self.ask_c = 0
        self.bid_size = 0
        self.ask_size = 0

    def draw(self, weights: dict[_Choice, int]) -> _Choice:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def advance(self) -> None:
        """One step of burst state, fair value and spread."""
        if self.burst_left > 0:
            self.burst_left -= 1
        elif self.rng.random() < self.burst_probability:
            self.burst_left = self.rng.randint(*self.burst_steps)
        wildness = BURST_VOLATILITY if self.burst_left else 1.0
        shock = self.rng.gauss(0.0, self.sigma_e4 * wildness)
        reversion = (self.anchor_e4 - self.fair_e4) * self.theta
        self.fair_e4 = max(_FLOOR_E4, self.fair_e4 + round(shock + reversion))
        if self.rng.random() < SPREAD_CHANGE_PROBABILITY:
            self.spread_c = self.draw(SPREAD_CENTS_WEIGHTS)

    def requote(self, first: bool) -> bool:
        """Place bid/ask around the fair value; True when a quote should be emitted."""
        # bid = fair - spread/2, rounded down to the cent; ask one spread above: bid < ask.
        bid_c = max(1, (2 * self.fair_e4 - self.spread_c * _CENT_E4) // (2 * _CENT_E4))
        ask_c = bid_c + self.spread_c
        moved = (bid_c, ask_c) != (self.bid_c, self.ask_c)
        refresh = self.rng.random() < SIZE_REFRESH_PROBABILITY
        if not (first or moved or refresh):
            return False
        self.bid_c, self.ask_c = bid_c, ask_c
        self.bid_size = 100 * self.rng.randint(1, 30)
        self.ask_size = 100 * self.rng.randint(1, 30)
        return True

    def print_count(self) -> int:
        """Poisson draw (Knuth) at the step's print rate, bursts included."""
        rate = self.print_rate * (BURST_ACTIVITY if self.burst_left else 1.0)
        limit = math.exp(-rate)
        count, product = 0, self.rng.random()
        while product > limit and count < MAX_PRINTS_PER_STEP:
            count += 1
            product *= self.rng.random()
        return count

    def print_size(self) -> int:
        """Odd lots (1-99), round lots (100-1000) and mixed lots (e.g. 250)."""
        kind = self.rng.random()
        if kind < 0.35:
            return self.rng.randint(1, 99)
        lots = min(self.rng.randint(1, 4), self.rng.randint(1, 10))  # small lots more often
        if kind < 0.9:
            return 100 * lots
        return 100 * lots + self.rng.randint(1, 99)

    def print_price(self, venue: str) -> Decimal:
        if venue == OFF_EXCHANGE_VENUE and self.rng.random() < MIDPOINT_PROBABILITY:
            return _midpoint(self.bid_c, self.ask_c)
        at_ask = self.rng.random() < 0.5
        return _dollars(self.ask_c if at_ask else self.bid_c)


class SyntheticMarket:
    """Generates a deterministic, time-ordered stream of quotes and prints.

    Time advances in steps of ``step_ns`` from ``start_ns``. Within a step each symbol's quote
    (if any) comes in the first half and its prints in the second, so a print always trades at
    the quote in force. ``events_until`` may be called repeatedly with growing end times: the
    concatenated output equals one call with the last end time.
    """

    def __init__(
        self,
        symbols: Sequence[SymbolSpec],
        seed: int,
        start_ns: int,
        step_ns: int = NS_PER_SECOND,
    ) -> None:
        _check_int("seed", seed, minimum=None)
        _check_int("start_ns", start_ns, minimum=0)
        _check_int("step_ns", step_ns, minimum=2)
        if not symbols:
            raise ValueError("symbols: need at least one SymbolSpec, got none")
        names = [spec.symbol for spec in symbols]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"symbols: each symbol once, got duplicates {duplicates}")
        self.specs = tuple(symbols)
        self.step_ns = step_ns
        self._states = [_SymbolState(spec, seed, step_ns) for spec in self.specs]
        self._next_step_ns = start_ns
        self._first = True
        self._pending: deque[MarketEvent] = deque()

    @property
    def generated_until_ns(self) -> int:
        """Start of the next step not generated yet."""
        return self._next_step_ns

    def events_until(self, end_ns: int) -> Iterator[MarketEvent]:
        """Events with ts_ns < end_ns, in time order, continuing where the last call stopped."""
        while True:
            while self._pending and self._pending[0].ts_ns < end_ns:
                yield self._pending.popleft()
            if self._pending or self._next_step_ns >= end_ns:
                return
            self._pending.extend(self._step())

    def _step(self) -> list[MarketEvent]:
        start = self._next_step_ns
        half = self.step_ns // 2
        keyed: list[tuple[int, int, int, MarketEvent]] = []
        for index, state in enumerate(self._states):
            for seq, event in enumerate(_symbol_events(state, start, half, self._first)):
                keyed.append((event.ts_ns, index, seq, event))
        self._next_step_ns = start + self.step_ns
        self._first = False
        keyed.sort(key=lambda item: item[:3])
        return [event for *_, event in keyed]


def _symbol_events(state: _SymbolState, start: int, half: int, first: bool) -> list[MarketEvent]:
    symbol = state.spec.symbol
    state.advance()
    events: list[MarketEvent] = []
    if state.requote(first):
        bid, ask = _dollars(state.bid_c), _dollars(state.ask_c)
        ts_ns = start + state.rng.randrange(half)
        events.append(Quote(symbol, bid, ask, state.bid_size, state.ask_size, ts_ns))
    offsets = sorted(state.rng.randrange(half) for _ in range(state.print_count()))
    for offset in offsets:
        venue = state.draw(VENUE_WEIGHTS)
        price = state.print_price(venue)
        events.append(Print(symbol, price, state.print_size(), start + half + offset, venue))
    return events


def _dollars(cents: int) -> Decimal:
    """Cents as a Decimal with two places: 1990 -> 19.90."""
    return Decimal(cents).scaleb(-2)


def _midpoint(bid_c: int, ask_c: int) -> Decimal:
    """Exact midpoint: two places, or three when it falls on a half cent."""
    total = bid_c + ask_c
    return _dollars(total // 2) if total % 2 == 0 else Decimal(total * 5).scaleb(-3)


def _check_int(name: str, value: object, *, minimum: int | None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")


GROUP_ROOTS = (
    ("BANKS", "QBK"),
    ("UTILITIES", "QUT"),
    ("REITS", "QRE"),
    ("INSURANCE", "QIN"),
    ("ENERGY", "QEN"),
    ("TELECOM", "QTL"),
    ("FINANCE", "QFN"),
    ("SHIPPING", "QSH"),
)
"""Fictional issuer roots per group, so synthetic tickers never look like real listings."""


def default_universe(n: int = 36, groups: int = 6) -> list[SymbolSpec]:
    """``n`` preferred-like symbols spread round-robin over ``groups`` groups.

    Tickers read ``<root>-P<series>`` (``QBK-PA``, ``QBK-PB``, ...). Start prices lie in
    $20.00-$29.99, daily volatility 0.4%-0.8%, average daily volume 10k-90k shares; all from
    fixed formulas, so the universe is the same everywhere.
    """
    _check_int("groups", groups, minimum=1)
    _check_int("n", n, minimum=groups)
    if groups > len(GROUP_ROOTS):
        raise ValueError(f"groups: at most {len(GROUP_ROOTS)}, got {groups}")
    if n > 26 * groups:
        raise ValueError(f"n: at most 26 series per group ({26 * groups}), got {n}")
    specs = []
    for index in range(n):
        group, root = GROUP_ROOTS[index % groups]
        series = chr(ord("A") + index // groups)
        specs.append(
            SymbolSpec(
                symbol=f"{root}-P{series}",
                group=group,
                start_price=_dollars(2000 + (index * 389) % 1000),
                volatility=Decimal(4 + index % 5) / 1000,
                adv=10_000 * (1 + (index * 7) % 9),
            )
        )
    return specs
