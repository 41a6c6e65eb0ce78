"""LT band drift in the decision engine: one ``BandDriftController`` per account, fed per snapshot.

The engine shows ``observe`` every exposure snapshot it takes as its latest, asks ``step`` after
every decision, publishes the step's intents on ``trades.intent`` and only then calls
``record``, so a failed publish is planned again with the same keys. A step is planned only
when all of these hold:

* the decision is ``NORMAL`` (never THROTTLE/SOFT/HARD, never on stale data) in a trading
  phase: no passive DAY limits from pre-market or after-hours quotes;
* the account's latest snapshot has not been planned on yet: **one cycle per snapshot**, on the
  first NORMAL decision after it (its own, or a session tick's or the watchdog's when the
  snapshot came before the first tick or before the mode turned NORMAL). The LT figure only
  changes with a snapshot; a redelivered or older one plans nothing new. The controller's
  ``cycle`` is the snapshot's ``ts_event`` and its trading date the session clock's, so a
  snapshot planned again (a publish failed) gives the same idempotency keys;
* no de-risk episode is active and no order of a de-risk intent of the day is live. A de-risk
  intent without an order seen does not count: a vetoed one never gets an order.

Inputs: the snapshot's LT ``current_pct`` and equity, the LT target of the engine's rules, and
the LT positions of the engine's ``AccountBook`` marked like the exposure service marks them. A
symbol without a two-sided quote is left out: there is no passive price without one.

**The drift's own orders count.** A snapshot follows every order change, so a controller that
only saw positions would plan the whole gap again, on other symbols, while its first orders
still work. The LT % the controller gets is the snapshot's plus what the drift's live orders
(and its intents younger than ``min_interval_s`` with no order yet) would add or remove if they
filled at their limits, and a symbol with such an order gets no new one.

**Leaving NORMAL cancels what adds exposure.** On any other decision (THROTTLE, SOFT, HARD,
stale data; whatever the phase) ``step`` returns a ``CancelOrder`` for each live drift order of
the account that would increase |position| if it filled (the pre-trade gate's rule, drift
orders of a symbol and side taken together: a buy of a long, a sell past zero). Reducing orders
(sells of longs and buy-backs of shorts above the band) keep working: they only take exposure
off, which every one of those modes wants. One cancel per order, ever: key
``drift_cancel:<account>:<order id>``, recorded once published; a cancel the venue refuses is
not sent again. An order that shows up after the mode left NORMAL (its intent was in flight) is
caught by the next decision: the snapshot that follows its order event, a tick, the watchdog.

Restart: the engine replays today's ``trades.intent``; ``remember`` takes back our intents (by
key prefix), so their symbols wait out ``min_interval_s``, they count as working, and the
snapshots they were planned on (their ``causation_id``) are not planned again. It replays
today's ``trades.request`` too: ``remember_cancel`` takes back our cancels (by key prefix), so
an order cancelled before the restart is not cancelled again while its cancel is on its way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.session import SessionClockTicked
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.money import ZERO, to_money
from quantrail.risk.account_book import AccountBook, TrackedOrder
from quantrail.risk.derisk_episode import Chain, DeriskEpisode
from quantrail.risk.gate import order_effect
from quantrail.risk.market_state import MarketState
from quantrail.risk.policy import STALE_DATA, Decision
from quantrail.risk.rules import RiskRules
from quantrail.strategy.band_drift import (
    BandDriftConfig,
    BandDriftController,
    CorrectiveIntent,
    LtPosition,
)
from quantrail.vocab import Bucket, Effect, Mode, Side

log = logging.getLogger("quantrail.risk.drift")

KEY_PREFIX = "lt_band_drift:"
"""The controller's idempotency keys start with this: how a replayed intent is known as ours."""

CANCEL_PREFIX = "drift_cancel:"
"""Our cancels' keys: ``drift_cancel:<account>:<order id>`` (one cancel per order, ever)."""

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class DriftStep:
    """One cycle of one account: its intents (maybe none) and the snapshot time it planned on;
    or, on a decision that is not NORMAL, the cancels of its orders that add exposure."""

    account: str
    cycle: int | None  # the snapshot's ts_event; None for cancels, which plan on none
    intents: tuple[IntentCreated, ...] = ()
    cancels: tuple[CancelOrder, ...] = ()

    @property
    def events(self) -> list[Event]:
        return [*self.intents, *self.cancels]


@dataclass(slots=True)
class _AccountDrift:
    controller: BandDriftController
    last_cycle: int = -1
    latest: ExposureSnapshot | None = None
    planned_on: set[str] = field(default_factory=set)  # snapshot ids, from replayed intents
    own: dict[str, IntentCreated] = field(default_factory=dict)  # today's drift intents by id
    rank: dict[str, int] = field(default_factory=dict)  # intent id -> its place in ``own``
    # Intents with no order seen yet that may still be in flight: the only ones of ``own`` a
    # cycle looks at one by one (the others through the book's live orders), so a cycle's work
    # follows what is working, not the day's history.
    awaiting: dict[str, IntentCreated] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)  # order ids a cancel was published for


class DriftCycle:
    """The band drift memory of the engine's accounts (see module doc)."""

    def __init__(
        self,
        config: BandDriftConfig,
        accounts: Iterable[str],
        rules: RiskRules,
        market: MarketState,
        source: str = "decision-engine",
    ) -> None:
        self._config, self._rules, self._market, self._source = config, rules, market, source
        self._accounts = {
            name: _AccountDrift(BandDriftController(config, name)) for name in accounts
        }

    def observe(self, snapshot: ExposureSnapshot) -> None:
        """The engine's latest snapshot of an account (an older one changes nothing)."""
        state = self._accounts.get(snapshot.account)
        if state is not None and (
            state.latest is None or snapshot.ts_event >= state.latest.ts_event
        ):
            state.latest = snapshot

    def step(
        self,
        *,
        decision: Decision,
        session: SessionClockTicked | None,
        book: AccountBook,
        episode: DeriskEpisode,
        now_ns: int,
        cause: Event | None = None,
    ) -> DriftStep | None:
        """This decision's cycle, or its cancels; None when there is neither (see module doc)."""
        state = self._accounts.get(book.account)
        if state is None:
            return None
        if not _normal(decision):
            return self._cancels(state, decision, book, now_ns, Chain.of(cause))
        if session is None or not self._rules.phase(session.phase).trading:
            return None
        snapshot = _unplanned(state)
        if snapshot is None or _derisk_busy(episode, book):
            return None
        done = DriftStep(book.account, snapshot.ts_event)
        lt = snapshot.buckets.get(Bucket.LT.value)
        if lt is None or snapshot.equity <= ZERO:
            log.warning("%s: no LT figure or no equity in %s", book.account, snapshot.event_id)
            return done
        change, busy = self._pending(state, book, now_ns)
        current = to_money(lt.current_pct)
        with_working = max(current + change * HUNDRED / snapshot.equity, ZERO)
        corrective = state.controller.evaluate(
            decision.mode,
            with_working,
            self._rules.buckets[Bucket.LT].target_pct,
            snapshot.equity,
            self._positions(book, busy),
            now_ns,
            trading_date=date.fromisoformat(session.session_date),
            cycle=snapshot.ts_event,
            record=False,  # noted in ``record``, once published
        )
        caused = Chain.of(snapshot)  # the snapshot, whatever triggered the decision
        intents = tuple(self._intent(c, current, caused) for c in corrective)
        return DriftStep(done.account, done.cycle, intents)

    def record(self, step: DriftStep) -> None:
        """The step's events are published: its snapshot is done, its symbols wait, its
        cancels are not sent again."""
        state = self._accounts[step.account]
        if step.cycle is not None:
            state.last_cycle = max(state.last_cycle, step.cycle)
        for intent in step.intents:
            _keep(state, intent)
        state.cancelled.update(cancel.order_id for cancel in step.cancels)

    def remember(self, intent: IntentCreated) -> None:
        """An intent replayed from ``trades.intent``; anything not ours is ignored."""
        state = self._accounts.get(intent.account or "")
        if state is None or not intent.idempotency_key.startswith(KEY_PREFIX):
            return
        if intent.causation_id:
            state.planned_on.add(intent.causation_id)
        _keep(state, intent)

    def remember_cancel(self, cancel: CancelOrder) -> None:
        """A cancel replayed from ``trades.request``; anything not ours is ignored."""
        state = self._accounts.get(cancel.account or "")
        if state is not None and cancel.idempotency_key.startswith(CANCEL_PREFIX):
            state.cancelled.add(cancel.order_id)

    # --- cancels -------------------------------------------------------------------------------
    def _cancels(
        self,
        state: _AccountDrift,
        decision: Decision,
        book: AccountBook,
        now_ns: int,
        caused: Chain,
    ) -> DriftStep | None:
        """Cancels of the live drift orders that would add exposure and have none yet."""
        reason = f"lt band drift: mode {decision.mode.value} ({decision.reason})"
        cancels = tuple(
            CancelOrder(
                ts_event=now_ns,
                account=book.account,
                source=self._source,
                idempotency_key=f"{CANCEL_PREFIX}{book.account}:{order.order_id}",
                order_id=order.order_id,
                symbol=order.symbol,
                reason=reason,
                correlation_id=caused.correlation_id,
                causation_id=caused.causation_id,
            )
            for order in _adding(state, book)
            if order.order_id not in state.cancelled
        )
        return DriftStep(book.account, None, cancels=cancels) if cancels else None

    # --- inputs --------------------------------------------------------------------------------
    def _pending(
        self, state: _AccountDrift, book: AccountBook, now_ns: int
    ) -> tuple[Decimal, set[str]]:
        """LT gross notional the drift's working orders would move, and their symbols: the
        live orders of its intents, and its intents still in flight (no order seen yet)."""
        working: list[tuple[IntentCreated, int, Decimal]] = []
        for order in book.live_orders():
            intent = state.own.get(order.intent_id)
            if intent is not None and order.remaining:
                limit = order.limit_price or intent.limit_price or ZERO
                working.append((intent, order.remaining, limit))
        working.extend(
            (intent, intent.qty, intent.limit_price or ZERO)
            for intent in self._in_flight(state, book, now_ns)
        )
        change, symbols = ZERO, set()
        for intent, qty, price in working:
            held = book.positions.get(intent.symbol)
            before = 0 if held is None else held.qty
            after = before + (qty if intent.side is Side.BUY else -qty)
            # Valued one order at a time against the position as it is now.
            change += (abs(after) - abs(before)) * price
            symbols.add(intent.symbol)
        return change, symbols

    def _in_flight(
        self, state: _AccountDrift, book: AccountBook, now_ns: int
    ) -> list[IntentCreated]:
        """Intents with no order yet, younger than ``min_interval_s``: on their way, or vetoed
        (never getting one), counted as long as the controller blocks their symbol anyway. An
        intent whose order showed up, or that grew older, leaves ``awaiting`` for good (time
        only moves on; its orders, if any come, count as live orders)."""
        found: list[IntentCreated] = []
        for intent_id, intent in list(state.awaiting.items()):
            if book.orders_of_intent(intent_id) or (
                now_ns - intent.ts_event >= self._config.min_interval_ns
            ):
                del state.awaiting[intent_id]
            else:
                found.append(intent)
        return found

    def _positions(self, book: AccountBook, busy: set[str]) -> list[LtPosition]:
        found: list[LtPosition] = []
        for position in book.positions.open_positions():
            if position.bucket is not Bucket.LT or position.symbol in busy:
                continue
            quote = self._market.quote(position.symbol)
            mark = self._market.price(position.symbol)
            if quote is None or quote.bid is None or quote.ask is None or mark is None:
                log.debug("%s: no two-sided quote for %s", book.account, position.symbol)
                continue
            found.append(
                LtPosition(
                    symbol=position.symbol,
                    qty=position.qty,
                    bid=quote.bid,
                    ask=quote.ask,
                    price=mark,
                )
            )
        return found

    # --- output --------------------------------------------------------------------------------
    def _intent(self, c: CorrectiveIntent, current: Decimal, caused: Chain) -> IntentCreated:
        band = f"{c.lt_target_pct}% ± {self._config.band_pct}"
        return IntentCreated(
            ts_event=c.ts_ns,
            account=c.account,
            source=self._source,
            idempotency_key=c.idempotency_key,
            correlation_id=caused.correlation_id,
            causation_id=caused.causation_id,
            intent_id=c.intent_id,
            symbol=c.symbol,
            side=c.side,
            qty=c.qty,
            order_type=c.order_type,
            limit_price=c.limit_price,
            tif=c.tif,
            bucket=c.bucket,
            mode=Mode.NORMAL,
            reason=f"{c.reason.value}: LT {current}% ({c.lt_current_pct}% with working "
            f"drift orders), band {band}",
            reduce_only=c.reduce_only,
            urgency="LOW",
        )


def _normal(decision: Decision) -> bool:
    """NORMAL on fresh data: stale data is a THROTTLE already, checked again by its reason."""
    return decision.mode is Mode.NORMAL and decision.reason != STALE_DATA


def _adding(state: _AccountDrift, book: AccountBook) -> list[TrackedOrder]:
    """The drift's live orders that would increase |position| if they filled.

    As the pre-trade gate judges an order: against the position plus the orders of the same
    symbol and side ahead of it (here the drift's own, oldest intent first); one that crosses
    zero counts as adding (its part past zero opens new exposure).
    """
    ahead: dict[tuple[str, Side], int] = {}
    adding: list[TrackedOrder] = []
    live = [o for o in book.live_orders() if o.intent_id in state.own and o.remaining]
    # Oldest intent first; an intent's orders as first seen (the sort is stable).
    for order in sorted(live, key=lambda o: state.rank[o.intent_id]):
        key = (order.symbol, order.side)
        before = book.positions.qty(order.symbol) + order.side.sign * ahead.get(key, 0)
        effect, _crosses = order_effect(before, order.side, order.remaining)
        ahead[key] = ahead.get(key, 0) + order.remaining
        if effect is Effect.INCREASE:
            adding.append(order)
    return adding


def _unplanned(state: _AccountDrift) -> ExposureSnapshot | None:
    """The account's latest snapshot if nothing was planned on it (or a later one) yet."""
    latest = state.latest
    if latest is None or latest.ts_event <= state.last_cycle or latest.event_id in state.planned_on:
        return None
    return latest


def _derisk_busy(episode: DeriskEpisode, book: AccountBook) -> bool:
    """An active episode, or a live order of any of the day's de-risk intents."""
    if episode.active:
        return True
    return any(order.intent_id in episode.intents for order in book.live_orders())


def _keep(state: _AccountDrift, intent: IntentCreated) -> None:
    if intent.intent_id not in state.own:
        state.rank[intent.intent_id] = len(state.rank)
        state.awaiting[intent.intent_id] = intent
    state.own[intent.intent_id] = intent
    state.controller.note(intent.symbol, intent.ts_event)
