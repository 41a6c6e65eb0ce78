"""The advisory desk: the signal advisory's state and its calls into the strategy (pure).

The desk keeps what a strategy may read (``DeskView``: candles of the strategy's timeframe, the
last price, the regime and the account's positions), asks the strategy on each candle, tick and
clock step, and turns its ``Advice`` into events:

Every advisory event is stamped with the time of the data it is based on (the candle's end, the
tick's time, a scripted row's ``ts``; the clock for other clock advice), so a simulated run gives
the same events whichever transport and however late a reader is.

* LONG/SHORT -> ``SignalIssued`` (``execution_power`` NONE), ``signal_id``
  ``sig:<strategy>:<symbol>:<candle start ns>`` (a tick or clock advice: the start of the
  strategy-timeframe bucket it falls in), ``correlation_id = idempotency_key = signal_id``;
* NO_SIGNAL -> ``SignalDeclined`` with the advice's ``gate_failed``;
* while a kill switch is active for the account (``risk.kill_switch.activated`` for it or for
  every account, until a reset) a LONG/SHORT becomes a decline with gate ``kill_switch``.

A signal id or decline key the desk has already seen (``remember``, fed from the stream at
start) is not published again. The regime comes from the desk's own ``RegimeDetector`` on the
same candles and config as the regime service, so the regime a strategy sees for a candle is
that candle's on both transports (reading ``regime.classification`` beside ``market.candle``
would race it). An exception raised by the strategy propagates to the service.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quantrail.events.base import Event
from quantrail.events.ids import id_for_key
from quantrail.events.market import CandleClosed, PriceTicked
from quantrail.events.position import PositionClosed, PositionOpened, PositionUpdated
from quantrail.events.signals import SignalDeclined, SignalIssued
from quantrail.execution.kill_switch import KillSwitch
from quantrail.marketdata.config import timeframe_seconds
from quantrail.strategy.api import Advice, BaseStrategy, HeldPosition, Strategy
from quantrail.strategy.config import RegimeConfig, StrategyConfig
from quantrail.strategy.regime import RegimeDetector, RegimeReading
from quantrail.vocab import Direction

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Trigger:
    """What made the desk ask: its time basis (a candle start or a bucket start), the data time
    and the event that caused it (None for the clock)."""

    basis_ns: int
    data_ns: int
    cause: Event | None


class DeskView:
    """The ``MarketView`` a strategy reads."""

    def __init__(self, account: str, history: int) -> None:
        self._account = account
        self._history = history
        self._candles: dict[str, deque[CandleClosed]] = {}
        self._prices: dict[str, Decimal] = {}
        self._regimes: dict[str, RegimeReading] = {}
        self._positions: dict[str, tuple[str, int, Decimal]] = {}  # id -> symbol, qty, entry
        self.now = 0

    @property
    def account(self) -> str:
        return self._account

    @property
    def now_ns(self) -> int:
        return self.now

    def candles(self, symbol: str) -> Sequence[CandleClosed]:
        return tuple(self._candles.get(symbol, ()))

    def regime(self, symbol: str) -> RegimeReading | None:
        return self._regimes.get(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)

    def position(self, symbol: str) -> HeldPosition | None:
        held = [(qty, entry) for s, qty, entry in self._positions.values() if s == symbol]
        net = sum(qty for qty, _ in held)
        if net == 0:
            return None
        cost = sum((abs(qty) * entry for qty, entry in held), Decimal(0))
        return HeldPosition(symbol, net, cost / sum(abs(qty) for qty, _ in held))

    # --- updates (the desk's) ----------------------------------------------------------------
    def add_candle(self, candle: CandleClosed) -> bool:
        """False for a candle not later than the symbol's last (a replay or redelivery)."""
        kept = self._candles.setdefault(candle.symbol, deque(maxlen=self._history))
        if kept and candle.start_ns <= kept[-1].start_ns:
            return False
        kept.append(candle)
        self._prices[candle.symbol] = candle.close
        return True

    def set_price(self, symbol: str, price: Decimal) -> None:
        self._prices[symbol] = price

    def set_regime(self, reading: RegimeReading) -> None:
        self._regimes[reading.symbol] = reading

    def apply_position(self, event: PositionOpened | PositionUpdated | PositionClosed) -> None:
        if isinstance(event, PositionOpened):
            sign = 1 if event.direction is Direction.LONG else -1
            self._positions[event.position_id] = (event.symbol, sign * event.qty, event.entry_price)
        elif isinstance(event, PositionUpdated) and event.qty != 0:
            self._positions[event.position_id] = (event.symbol, event.qty, event.entry_price)
        else:
            self._positions.pop(event.position_id, None)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the strategy answered to a tick (advice, or what it raised) before the tick
    reached its handler (``AdvisoryDesk.take_ticks``)."""

    tick: PriceTicked
    advice: Advice | None
    error: Exception | None


class AdvisoryDesk:
    def __init__(
        self,
        strategy: Strategy,
        label: str,
        account: str,
        config: StrategyConfig,
        regime: RegimeConfig,
        source: str = "signals",
    ) -> None:
        self.strategy = strategy
        self.label = label
        self.account = account
        self.view = DeskView(account, config.history)
        self.kill = KillSwitch()
        self._config = config
        self._regime_timeframe = regime.timeframe
        self._detector = RegimeDetector(regime)
        self._bucket_ns = timeframe_seconds(config.timeframe) * NS_PER_SECOND
        self._symbols = frozenset(config.symbols)
        self._seen: set[str] = set()
        self._source = source
        self._answered: Answer | None = None  # the strategy's answer to a tick ``take_ticks`` ran

    def watches(self, symbol: str) -> bool:
        return not self._symbols or symbol in self._symbols

    def remember(self, event: Event) -> None:
        """An advisory already on the stream (read at start): not published again."""
        if isinstance(event, SignalIssued | SignalDeclined):
            self._seen.add(event.idempotency_key)

    # --- state updates without a strategy call (replay at start) -----------------------------
    def take_candle(self, candle: CandleClosed) -> bool:
        """Add a candle to the view (and the regime); True when the strategy should see it."""
        if not self.watches(candle.symbol):
            return False
        if candle.timeframe == self._regime_timeframe:
            reading, _spike = self._detector.update(candle.symbol, candle.start_ns, candle.close)
            if reading is not None:
                self.view.set_regime(reading)
        if candle.timeframe != self._config.timeframe:
            return False
        return self.view.add_candle(candle)

    def take_state(self, event: Event) -> None:
        """Positions of the desk's account and the kill switch."""
        if isinstance(event, PositionOpened | PositionUpdated | PositionClosed):
            if event.account == self.account:
                self.view.apply_position(event)
        else:
            self.kill.apply(event)

    # --- the strategy's calls -----------------------------------------------------------------
    def on_candle(self, candle: CandleClosed, now_ns: int) -> list[Event]:
        self.view.now = now_ns
        if not self.take_candle(candle):
            return []
        advice = self.strategy.on_candle(candle, self.view)
        return self._events([advice], Trigger(candle.start_ns, candle.ts_event, candle))

    def on_tick(self, tick: PriceTicked, now_ns: int) -> list[Event]:
        self.view.now = now_ns
        if not self.watches(tick.symbol):
            return []
        self.view.set_price(tick.symbol, tick.price)
        advice = self._answer(tick)
        if advice is None:  # the common answer: no trigger to build
            return []
        return self._events([advice], Trigger(self._bucket(tick.ts_event), tick.ts_event, tick))

    def ignores_ticks(self) -> bool:
        """Whether a tick can only move the view's time and price: the strategy keeps
        ``BaseStrategy``'s no-op ``on_tick`` and ``on_clock`` (asked on every tick too)."""
        kind = type(self.strategy)
        no_tick = getattr(kind, "on_tick", None) is BaseStrategy.on_tick
        return no_tick and getattr(kind, "on_clock", None) is BaseStrategy.on_clock

    def takes_ticks_alone(self) -> bool:
        """Whether ``take_ticks`` may run the strategy on ticks in runs: its ``on_clock``
        (asked before every event) is ``BaseStrategy``'s no-op, so a tick is one call."""
        return getattr(type(self.strategy), "on_clock", None) is BaseStrategy.on_clock

    def take_ticks(self, ticks: Sequence[PriceTicked], at_ns: Sequence[int]) -> int:
        """``on_tick`` for each tick at its time while the strategy answers None (nothing to
        publish); how many. The strategy's answer to the tick it stopped at (advice, or what
        it raised) is kept for ``on_tick``, which must be given that tick next."""
        view, strategy = self.view, self.strategy
        for index, tick in enumerate(ticks):
            view.now = at_ns[index]
            if not self.watches(tick.symbol):
                continue
            view.set_price(tick.symbol, tick.price)
            try:
                advice = strategy.on_tick(tick, view)
            except Exception as exc:  # raised again by on_tick, as if asked there
                self._answered = Answer(tick, None, exc)
                return index
            if advice is not None:
                self._answered = Answer(tick, advice, None)
                return index
        return len(ticks)

    def _answer(self, tick: PriceTicked) -> Advice | None:
        """The strategy's answer to ``tick``: the one ``take_ticks`` kept, else asked now."""
        answered, self._answered = self._answered, None
        if answered is None:
            return self.strategy.on_tick(tick, self.view)
        if answered.tick is not tick:
            raise RuntimeError(
                f"tick {answered.tick.event_id}: the strategy's answer was kept for it, "
                f"but {tick.event_id} came first"
            )
        if answered.error is not None:
            raise answered.error
        return answered.advice

    def fold_ticks(self, ticks: Sequence[PriceTicked], now_ns: int) -> None:
        """Ticks a desk that ``ignores_ticks`` takes at once: as ``on_tick`` one by one."""
        self.view.now = now_ns
        for symbol, price in {tick.symbol: tick.price for tick in ticks}.items():
            if self.watches(symbol):  # each symbol's last price is the view's
                self.view.set_price(symbol, price)

    def on_clock(self, now_ns: int) -> list[Event]:
        self.view.now = now_ns
        advices = self.strategy.on_clock(now_ns, self.view)
        if isinstance(advices, tuple | list) and not advices:  # the common answer
            return []
        return self._events(list(advices), Trigger(self._bucket(now_ns), now_ns, None))

    def next_clock_ns(self) -> int | None:
        """When ``on_clock`` may next advise, for a timer's ``due_ns``: the strategy's own
        ``next_clock_ns()`` when it has one, never when it keeps ``BaseStrategy``'s no-op
        ``on_clock``, else at every call (0)."""
        own = getattr(self.strategy, "next_clock_ns", None)
        if callable(own):
            due = own()
            return due if due is None else int(due)
        if getattr(type(self.strategy), "on_clock", None) is BaseStrategy.on_clock:
            return None
        return 0

    def _bucket(self, ts_ns: int) -> int:
        return ts_ns - ts_ns % self._bucket_ns

    def _events(self, advices: list[Advice | None], trigger: Trigger) -> list[Event]:
        out: list[Event] = []
        for advice in advices:
            if advice is None:
                continue
            if not isinstance(advice, Advice):
                raise TypeError(f"strategy returned {type(advice).__name__}, not Advice or None")
            if not self.watches(advice.symbol):
                continue
            event = self._event(advice, trigger)
            if event.idempotency_key not in self._seen:
                self._seen.add(event.idempotency_key)
                out.append(event)
        return out

    def _event(self, advice: Advice, trigger: Trigger) -> Event:
        signal_id = advice.signal_id or f"sig:{self.label}:{advice.symbol}:{trigger.basis_ns}"
        if advice.actionable and self.kill.active(self.account):
            advice = Advice.decline(
                advice.symbol, "kill_switch", "kill switch active: no new signals",
                action=advice.action,
            )  # fmt: skip
        envelope: dict[str, Any] = {
            "ts_event": advice.ts_data_ns or trigger.data_ns,
            "source": self._source, "account": self.account,
            "causation_id": trigger.cause.event_id if trigger.cause else "",
        }  # fmt: skip
        reading = self.view.regime(advice.symbol)
        if not advice.actionable:
            key = f"decl:{signal_id}:{advice.gate_failed}"
            return SignalDeclined(
                **envelope, idempotency_key=key, event_id=id_for_key(key),
                correlation_id=trigger.cause.correlation_id if trigger.cause else "",
                reason=advice.reasoning or advice.gate_failed, gate_failed=advice.gate_failed,
                symbol=advice.symbol, inputs_summary=dict(advice.inputs), strategy=self.label,
            )  # fmt: skip
        return SignalIssued(
            **envelope, idempotency_key=signal_id, event_id=id_for_key(signal_id),
            correlation_id=signal_id,
            signal_id=signal_id, symbol=advice.symbol, edge_score=advice.edge_score,
            confidence=advice.confidence, regime_fit=advice.regime_fit,
            regime=reading.regime if reading else "", recommended_action=advice.action,
            reasoning=advice.reasoning, model_version=self.strategy.model_version,
            stop_price=advice.stop_price,
            entry_price=advice.entry_price or self.view.last_price(advice.symbol),
            strategy=self.label, timeframe=self._config.timeframe,
            ts_data_ns=advice.ts_data_ns or trigger.data_ns,
        )  # fmt: skip
