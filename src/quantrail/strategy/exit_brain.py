"""The exit brain (pure): open positions, prices, regimes and time in; exit decisions out.

Every handler returns the events to publish (``exit.decision.made``, ``exit.stop.triggered``,
reduce-only ``trades.intent.created``); the service shell publishes them. The same handlers
rebuild the state at start from the streams, their results dropped (``replaying``).

Only positions opened with a stop (by a strategy's request) are managed; each gets the rules of
its strategy (``ExitBrainConfig.rules_for``). Per position, in this order: a committed exit
(an EXIT_FULL whose order ended unfilled) is sent again after ``retry_after_s``; the stop
(``stop``, or ``trailing`` once a trailing stop has tightened it); the target at ``target_r``
times the initial risk |entry - stop|; the trailing stop (TIGHTEN_STOP, no order); on the
clock the time exit; on a regime event the regime exit; on a spike the volatility exit.
One exit order per position at a time: nothing is decided while one works, nor after an exit
fill until ``position.state`` has caught up with it (so a filled exit is never sold again).
The kill switch with flatten: an EXIT_FULL ``kill_switch`` decision per open position of its
scope and no order (execution flattens); the positions are left alone until a reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from quantrail.events import (
    Event,
    ExitDecisionMade,
    IntentCreated,
    KillSwitchActivated,
    KillSwitchReset,
    OrderEvent,
    OrderFill,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RegimeClassified,
    RiskModeChanged,
    VolatilitySpiked,
)
from quantrail.events.exit import ExitAction
from quantrail.events.trades import Urgency
from quantrail.money import CENT
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.strategy.config import ExitBrainConfig, ExitRules
from quantrail.strategy.exit_orders import (
    ExitOrder,
    Subject,
    decision,
    exit_intent,
    exit_intent_id,
    gave_up,
    parse_exit_intent,
    stop_triggered,
)
from quantrail.vocab import Bucket, Direction, Mode

NS_PER_MINUTE = 60 * NS_PER_SECOND
PRIORITY: dict[str, Urgency] = {
    "stop": "URGENT",
    "trailing": "URGENT",
    "kill_switch": "URGENT",
    "volatility_exit": "HIGH",
    "regime_exit": "HIGH",
    "target": "HIGH",
    "time_exit": "MEDIUM",
}


@dataclass(slots=True)
class Watched:
    """One open position as the exit brain sees it."""

    position_id: str
    account: str
    symbol: str
    bucket: Bucket
    qty: int
    entry_price: Decimal
    opened_ns: int
    strategy: str = ""
    correlation_id: str = ""
    initial_stop: Decimal | None = None
    stop: Decimal | None = None
    stop_reason: str = "stop"
    best: Decimal | None = None
    entry_regime: str | None = None
    committed: str | None = None
    working: str | None = None
    sent: int = 0
    ended_ns: int = 0
    target_done: bool = False
    state_ns: int = 0
    exit_fill_ns: int = 0
    killed: bool = False
    gave_up: bool = False

    @property
    def managed(self) -> bool:
        return self.initial_stop is not None

    @property
    def long(self) -> bool:
        return self.qty > 0

    def subject(self) -> Subject:
        return Subject(
            self.position_id, self.account, self.symbol, self.bucket, self.qty, self.strategy,
            self.correlation_id,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class QuietBand:
    """Where ``on_price`` does nothing for a symbol: strictly between ``low`` and ``high``
    (None: open), at a time before ``until_ns`` (None: any)."""

    low: Decimal | None
    high: Decimal | None
    until_ns: int | None

    def holds(self, price: Decimal, at_ns: int) -> bool:
        low, high, until = self.low, self.high, self.until_ns
        inside = (low is None or price > low) and (high is None or price < high)
        return inside and (until is None or at_ns < until)


ANY_PRICE = QuietBand(None, None, None)
"""Any price at any time: nothing held or nothing that could act."""


@dataclass(slots=True)
class ExitBrain:
    config: ExitBrainConfig
    positions: dict[str, Watched] = field(default_factory=dict)
    modes: dict[str | None, Mode] = field(default_factory=dict)
    regimes: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    kill_scopes: set[str | None] = field(default_factory=set)

    # --- positions -------------------------------------------------------------------------

    def on_position(self, event: Event) -> None:
        if isinstance(event, PositionOpened):
            sign = 1 if event.direction is Direction.LONG else -1
            history = self.regimes.get(event.symbol, [])
            before = [regime for ts, regime in history if ts <= event.ts_event]
            self.positions[event.position_id] = Watched(
                position_id=event.position_id, account=event.account or "",
                symbol=event.symbol, bucket=event.bucket, qty=sign * event.qty,
                entry_price=event.entry_price, opened_ns=event.ts_event, strategy=event.strategy,
                correlation_id=event.correlation_id, initial_stop=event.stop_loss,
                stop=event.stop_loss, best=event.entry_price,
                entry_regime=before[-1] if before else None, state_ns=event.ts_event,
                killed=self._killed(event.account),
            )  # fmt: skip
        elif isinstance(event, PositionUpdated):
            held = self.positions.get(event.position_id)
            if held is not None:
                held.qty = event.qty
                held.state_ns = max(held.state_ns, event.ts_event)
        elif isinstance(event, PositionClosed):
            self.positions.pop(event.position_id, None)

    # --- what was decided and sent (replayed at start, followed live) -----------------------

    def on_decision(self, event: ExitDecisionMade) -> None:
        held = self.positions.get(event.position_id)
        if held is None:
            return
        if event.decision == "TIGHTEN_STOP" and event.new_stop is not None:
            held.stop, held.stop_reason = event.new_stop, event.reason
        elif event.reason == "kill_switch":
            held.killed = True
        elif event.decision == "EXIT_FULL":
            held.committed = event.reason
        elif event.decision == "EXIT_PARTIAL" and event.reason == "target":
            held.target_done = True

    def on_intent(self, event: IntentCreated) -> None:
        parsed = parse_exit_intent(event.intent_id)
        held = self.positions.get(parsed[1]) if parsed else None
        if parsed is not None and held is not None and parsed[2] > held.sent:
            held.sent, held.working = parsed[2], event.intent_id

    def on_order(self, event: OrderEvent) -> None:
        """An exit order's fill holds decisions until ``position.state`` shows it; an exit
        order that ended lets the next one go."""
        parsed = parse_exit_intent(event.intent_id)
        held = self.positions.get(parsed[1]) if parsed else None
        if held is None:
            return
        if isinstance(event, OrderFill):
            held.exit_fill_ns = max(held.exit_fill_ns, event.ts_event)
        if event.status.is_terminal and held.working == event.intent_id:
            held.working, held.ended_ns = None, event.ts_event

    # --- market and risk state -------------------------------------------------------------

    def on_mode(self, event: RiskModeChanged) -> None:
        self.modes[event.account] = event.mode

    def on_kill(self, event: Event) -> list[Event]:
        if isinstance(event, KillSwitchReset):
            scopes = set(self.kill_scopes) if event.account is None else {event.account}
            self.kill_scopes -= scopes
            for held in self.positions.values():
                held.killed = self._killed(held.account)
            return []
        if not isinstance(event, KillSwitchActivated) or not event.flatten:
            return []
        self.kill_scopes.add(event.account)
        events: list[Event] = []
        for held in self._sorted(p for p in self.positions.values() if not p.killed):
            if event.account in (None, held.account):
                held.killed = True
                key = f"kill_switch:{event.event_id}:{held.position_id}"
                events.append(
                    decision(held.subject(), "EXIT_FULL", "kill_switch", "URGENT",
                             event.ts_event, key, event)
                )  # fmt: skip
        return events

    def record_regime(self, event: RegimeClassified) -> None:
        """History per symbol: a position's entry regime is the last one before it opened."""
        self.regimes.setdefault(event.symbol, []).append((event.ts_event, event.regime))

    def on_regime(self, event: RegimeClassified) -> list[Event]:
        """A regime exit when the symbol turns CHAOTIC or changes away from the regime the
        position was opened in."""
        self.record_regime(event)
        events: list[Event] = []
        for held in self._active(event.symbol):
            turned = event.changed and event.regime != held.entry_regime
            if self._rules(held).regime_exit and (event.regime == "CHAOTIC" or turned):
                events += self._exit(held, "regime_exit", event.ts_event, event, None)
        return events

    def on_spike(self, event: VolatilitySpiked) -> list[Event]:
        events: list[Event] = []
        for held in self._active(event.symbol):
            if self._rules(held).volatility_exit:
                events += self._exit(held, "volatility_exit", event.ts_event, event, None)
        return events

    # --- prices and time -------------------------------------------------------------------

    def watches(self, symbol: str) -> bool:
        """Whether a position in ``symbol`` is watched (``on_price`` may act on it)."""
        return any(held.symbol == symbol for held in self.positions.values())

    def quiet_band(self, symbol: str) -> QuietBand | None:
        """The prices (low, high; None: open) at which ``on_price`` does nothing for
        ``symbol``, and until when (None: for as long as nothing else changes): above every
        long's stop and below its target, the other way for shorts; an exit that ended
        unfilled waits out its retry (any price), one given up on waits for a person. None
        when some watched position may act on any price (a trailing stop that moves with it,
        an exit due again)."""
        low: Decimal | None = None
        high: Decimal | None = None
        until: int | None = None
        for held in self._active(symbol):
            rules = self._rules(held)
            if held.committed is not None:
                again = self._retry_ns_of(held)
                if again is not None:
                    until = again if until is None else min(until, again)
                continue
            if rules.trailing_stop_pct is not None:
                return None
            assert held.stop is not None and held.initial_stop is not None
            target = None
            risk = abs(held.entry_price - held.initial_stop)
            if rules.target_r is not None and not held.target_done and risk > 0:
                sign = 1 if held.long else -1
                target = held.entry_price + sign * risk * Decimal(str(rules.target_r))
            below, above = (held.stop, target) if held.long else (target, held.stop)
            low = below if low is None or (below is not None and below > low) else low
            high = above if high is None or (above is not None and above < high) else high
        if low is None and high is None and until is None:
            return ANY_PRICE
        return QuietBand(low, high, until)

    def on_price(self, symbol: str, price: Decimal, ts_ns: int, cause: Event) -> list[Event]:
        events: list[Event] = []
        for held in self._active(symbol):
            events += self._on_price(held, price, ts_ns, cause)
        return events

    def on_time(self, now_ns: int) -> list[Event]:
        events: list[Event] = []
        for held in self._active(None):
            limit = self._rules(held).max_hold_minutes
            if held.committed is not None:
                events += self._exit(held, held.committed, now_ns, None, None)
            elif limit is not None and now_ns - held.opened_ns >= limit * NS_PER_MINUTE:
                events += self._exit(held, "time_exit", now_ns, None, None)
        return events

    def next_timed_ns(self) -> int | None:
        """When ``on_time`` next has work as things stand: when an exit that ended unfilled
        is due again, or the first time exit; None with nothing to time."""
        due: int | None = None
        for held in self._active(None):
            if held.committed is not None:
                again = self._retry_ns_of(held)
                if again is not None:
                    due = again if due is None else min(due, again)
                continue
            limit = self._rules(held).max_hold_minutes
            if limit is not None:
                at = held.opened_ns + math.ceil(limit * NS_PER_MINUTE)
                due = at if due is None else min(due, at)
        return due

    def _on_price(self, held: Watched, price: Decimal, ts_ns: int, cause: Event) -> list[Event]:
        rules = self._rules(held)
        if held.committed is not None:
            return self._exit(held, held.committed, ts_ns, cause, price)
        assert held.stop is not None and held.initial_stop is not None
        sign = 1 if held.long else -1
        if (price - held.stop) * sign <= 0:
            return self._exit(held, held.stop_reason, ts_ns, cause, price, stop=held.stop)
        risk = abs(held.entry_price - held.initial_stop)
        if rules.target_r is not None and not held.target_done and risk > 0:
            target = held.entry_price + sign * risk * Decimal(str(rules.target_r))
            if (price - target) * sign >= 0:
                return self._exit(held, "target", ts_ns, cause, price, pct=rules.target_exit_pct)
        if rules.trailing_stop_pct is not None:
            return self._trail(held, rules.trailing_stop_pct, price, ts_ns, cause)
        return []

    def _trail(
        self, held: Watched, pct: float, price: Decimal, ts_ns: int, cause: Event
    ) -> list[Event]:
        """Moves the stop toward the best price seen once the price went past the entry."""
        assert held.stop is not None and held.best is not None
        sign = 1 if held.long else -1
        if (price - held.best) * sign > 0:
            held.best = price
        if (held.best - held.entry_price) * sign <= 0:
            return []
        gap = Decimal(str(pct)) / 100
        if held.long:
            level = (held.best * (1 - gap)).quantize(CENT, rounding=ROUND_FLOOR)
        else:
            level = (held.best * (1 + gap)).quantize(CENT, rounding=ROUND_CEILING)
        if (level - held.stop) * sign <= 0:
            return []
        held.stop, held.stop_reason = level, "trailing"
        key = f"tighten:{held.position_id}:{level}"
        return [
            decision(held.subject(), "TIGHTEN_STOP", "trailing", "LOW", ts_ns, key, cause,
                     price=price, new_stop=level)
        ]  # fmt: skip

    # --- the exit itself -------------------------------------------------------------------

    def _exit(
        self,
        held: Watched,
        reason: str,
        ts_ns: int,
        cause: Event | None,
        price: Decimal | None,
        *,
        stop: Decimal | None = None,
        pct: float = 100.0,
    ) -> list[Event]:
        if held.committed is not None and ts_ns - held.ended_ns < self._retry_ns:
            return []  # an unfilled exit waits a little before it goes again
        if held.sent >= self.config.max_exit_orders:
            if held.gave_up:
                return []
            held.gave_up = True
            return [gave_up(held.subject(), held.sent, reason, ts_ns)]
        partial = pct < 100.0
        qty = max(1, abs(held.qty) * int(pct * 100) // 10_000) if partial else abs(held.qty)
        held.sent += 1
        intent_id = exit_intent_id(reason, held.position_id, held.sent)
        priority = PRIORITY.get(reason, "HIGH")
        subject = held.subject()
        action: ExitAction = "EXIT_PARTIAL" if partial else "EXIT_FULL"
        events: list[Event] = [
            decision(subject, action, reason, priority, ts_ns, f"{intent_id}:decision", cause,
                     price=price, exit_percent=pct if partial else None)
        ]  # fmt: skip
        if stop is not None and price is not None:
            events.append(stop_triggered(subject, intent_id, price, stop, ts_ns, cause))
        order_type = self._rules(held).order_type
        mode = self.modes.get(held.account, self.modes.get(None, Mode.NORMAL))
        order = ExitOrder(intent_id, reason, qty, priority, order_type, mode, price, stop)
        events.append(exit_intent(subject, order, ts_ns, cause))
        held.working = intent_id
        if partial:
            held.target_done = True
        else:
            held.committed = reason
        return events

    # --- helpers ---------------------------------------------------------------------------

    def _retry_ns_of(self, held: Watched) -> int | None:
        """When ``_exit`` next acts on a committed exit (sends it again, or gives up on it);
        None once given up (it waits for a person)."""
        return None if held.gave_up else held.ended_ns + self._retry_ns

    @property
    def _retry_ns(self) -> int:
        return int(self.config.retry_after_s * NS_PER_SECOND)

    def _rules(self, held: Watched) -> ExitRules:
        return self.config.rules_for(held.strategy)

    def _killed(self, account: str | None) -> bool:
        return None in self.kill_scopes or account in self.kill_scopes

    def _active(self, symbol: str | None) -> list[Watched]:
        """Managed positions free to decide: no order working, state caught up, no kill."""
        return self._sorted(
            held
            for held in self.positions.values()
            if held.managed
            and not held.killed
            and held.working is None
            and held.exit_fill_ns <= held.state_ns
            and symbol in (None, held.symbol)
        )

    @staticmethod
    def _sorted(positions: Iterable[Watched]) -> list[Watched]:
        return sorted(positions, key=lambda held: held.position_id)
