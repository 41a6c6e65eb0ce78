"""The strategy API: what a user implements, what it sees, what it returns.

A strategy is a class in the user's own module, named in config as ``mypkg.mystrat:Breakout``
(or a shipped one: ``breakout``, ``meanrevert``, ``scripted``); ``strategy.params`` are passed
to its constructor as keyword arguments. It advises, it never orders: each call returns an
``Advice`` (LONG / SHORT with a required stop, or NO_SIGNAL naming the gate that failed) or
None (nothing to say). The advisory service turns advice into ``signals.advisory.issued`` or
``.declined``; the risk kernel decides. ``docs/strategy.md`` has a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from quantrail.events.market import CandleClosed, PriceTicked
from quantrail.strategy.regime import RegimeReading

Action = Literal["LONG", "SHORT", "NO_SIGNAL"]
ACTIONS: tuple[Action, ...] = ("LONG", "SHORT", "NO_SIGNAL")


class StrategyError(ValueError):
    """A strategy that cannot be loaded or configured; the message names the key."""


@dataclass(frozen=True, slots=True)
class Advice:
    """A strategy's advice on one symbol.

    LONG/SHORT need ``stop_price`` (> 0; below ``entry_price`` for LONG, above for SHORT when
    an entry is given); NO_SIGNAL needs ``gate_failed`` (use ``Advice.decline``).
    ``entry_price`` None: the service uses the last price it saw. ``ts_data_ns`` 0: the time of
    the data that triggered the call. ``signal_id`` empty: the service derives it
    (``sig:<strategy>:<symbol>:<candle start ns>``). A bad value raises ValueError: inside a
    strategy that is a strategy error (logged, counted, its event dead-lettered).
    """

    symbol: str
    action: Action
    edge_score: int = 0
    confidence: float = 0.0
    stop_price: Decimal | None = None
    entry_price: Decimal | None = None
    reasoning: str = ""
    regime_fit: bool = True
    gate_failed: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    ts_data_ns: int = 0
    signal_id: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action: must be LONG, SHORT or NO_SIGNAL, got {self.action!r}")
        if isinstance(self.edge_score, bool) or not isinstance(self.edge_score, int):
            raise ValueError(f"edge_score: must be an int in [0, 100], got {self.edge_score!r}")
        if not 0 <= self.edge_score <= 100:
            raise ValueError(f"edge_score: must be in [0, 100], got {self.edge_score}")
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise ValueError(f"confidence: must be in [0, 1], got {self.confidence}")
        if self.action == "NO_SIGNAL":
            if not self.gate_failed:
                raise ValueError("gate_failed: a NO_SIGNAL advice must name its gate")
            return
        self._check_stop()

    def _check_stop(self) -> None:
        stop, entry = self.stop_price, self.entry_price
        if stop is None or not stop.is_finite() or stop <= 0:
            raise ValueError(f"stop_price: a {self.action} advice needs a stop > 0, got {stop}")
        if entry is None:
            return
        if (self.action == "LONG" and stop >= entry) or (self.action == "SHORT" and stop <= entry):
            side = "below" if self.action == "LONG" else "above"
            raise ValueError(
                f"stop_price: must be {side} the entry {entry} for {self.action}, got {stop}"
            )

    @classmethod
    def decline(cls, symbol: str, gate: str, reason: str, **inputs: Any) -> Advice:
        """NO_SIGNAL: ``gate`` names the gate that failed (``regime``, ``no_setup``...)."""
        return cls(
            symbol=symbol, action="NO_SIGNAL", gate_failed=gate, reasoning=reason, inputs=inputs,
            regime_fit=gate != "regime",
        )  # fmt: skip

    @property
    def actionable(self) -> bool:
        return self.action != "NO_SIGNAL"


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """The strategy account's net position in a symbol (signed qty, average entry)."""

    symbol: str
    qty: int
    entry_price: Decimal


class MarketView(Protocol):
    """What a strategy can read (the advisory service's state, read-only)."""

    @property
    def account(self) -> str: ...

    @property
    def now_ns(self) -> int: ...

    def candles(self, symbol: str) -> Sequence[CandleClosed]:
        """The symbol's closed candles of the strategy's timeframe, oldest first (the latest is
        the one being decided on), at most ``strategy.history``."""
        ...

    def regime(self, symbol: str) -> RegimeReading | None:
        """The symbol's regime as of its latest candle (None in warm-up)."""
        ...

    def position(self, symbol: str) -> HeldPosition | None:
        """The account's open position in the symbol (None when flat)."""
        ...

    def last_price(self, symbol: str) -> Decimal | None:
        """The latest tick or candle close seen for the symbol."""
        ...


@runtime_checkable
class Strategy(Protocol):
    """What a strategy implements (subclass ``BaseStrategy`` to get no-op defaults)."""

    model_version: str

    def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
        """A candle of the strategy's timeframe closed (already in ``view.candles``)."""
        ...

    def on_tick(self, tick: PriceTicked, view: MarketView) -> Advice | None:
        """A throttled last price (already in ``view.last_price``)."""
        ...

    def on_clock(self, now_ns: int, view: MarketView) -> Sequence[Advice]:
        """Called every ``strategy.clock_s`` of service clock and before each event."""
        ...


class BaseStrategy:
    """No-op defaults for the three calls; override what the strategy uses."""

    model_version: str = "1"

    def on_candle(self, candle: CandleClosed, view: MarketView) -> Advice | None:
        return None

    def on_tick(self, tick: PriceTicked, view: MarketView) -> Advice | None:
        return None

    def on_clock(self, now_ns: int, view: MarketView) -> Sequence[Advice]:
        return ()


def int_param(name: str, value: object, minimum: int) -> int:
    """A whole-number parameter >= ``minimum`` (YAML gives ints; bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: must be an int >= {minimum}, got {value!r}")
    return value


def float_param(name: str, value: object, above: float) -> float:
    """A finite number > ``above``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: must be a number > {above}, got {value!r}")
    if not (math.isfinite(value) and value > above):
        raise ValueError(f"{name}: must be a number > {above}, got {value!r}")
    return float(value)
