"""One account's de-risk episode: the step cadence, step numbers, its intents and their orders.

The decision engine asks ``plan`` on every decision in SOFT_ or HARD_DERISK and ``end`` on every
fresh decision in another mode; both return the events to publish (or None), and the engine
calls ``record`` only once they are published, so a failed publish is simply planned again.

* **Cadence**: at most one step per ``step_interval_ns`` per account (the first step of an
  episode goes at once unless a step was taken less than an interval ago).
* **Step numbers** continue through the session date per mode (SOFT 1, 2, 3, then a later
  SOFT episode the same day starts at 4). The planner's idempotency key
  ``derisk:<account>:<date>:<mode>:<step>:<symbol>`` names no episode, so restarting at 1
  would repeat a key of the day, and the consumers' idempotency marks would drop the new
  intent as a duplicate.
* **Working intents** are those of the latest step whose order is live, or not seen yet (still
  on its way through the risk kernel). The planner names them in ``replaces`` (the execution
  side replaces the order: cancel + new) or in ``cancels`` (we send ``CancelOrder`` for each
  live order; an intent without an order yet is cancelled as soon as its order shows up).
* **End**: when a fresh decision leaves the de-risk modes, every live order of the episode's
  intents is cancelled: the target is reached, and reduce-only orders left working would keep
  selling past it. Stale data pauses an episode instead (never decide on stale data, either
  way).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from quantrail.events.base import Event
from quantrail.events.orders import OrderEvent
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.risk.account_book import AccountBook
from quantrail.risk.market_state import MarketState
from quantrail.risk.planner import DeriskPlanner, PlannedIntent, WorkingIntent
from quantrail.vocab import Mode, OrderType, TimeInForce

log = logging.getLogger("quantrail.risk.derisk")

DERISK_MODES = frozenset({Mode.SOFT_DERISK, Mode.HARD_DERISK})


@dataclass(frozen=True, slots=True)
class Chain:
    """The correlation fields of an event caused by ``cause`` (empty for a timer's decision)."""

    correlation_id: str = ""
    causation_id: str = ""

    @classmethod
    def of(cls, cause: Event | None) -> Chain:
        if cause is None:
            return cls()
        return cls(cause.correlation_id or cause.event_id, cause.event_id)


@dataclass(frozen=True, slots=True)
class OwnIntent:
    intent_id: str
    symbol: str
    session_date: str
    mode: Mode
    step: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class StepEvents:
    """What one step (or an end) publishes, and what the episode records once it is out."""

    ts_ns: int
    intents: tuple[IntentCreated, ...] = ()
    cancels: tuple[CancelOrder, ...] = ()
    cancelled: tuple[str, ...] = ()  # intent ids the step cancels
    deferred: tuple[str, ...] = ()  # of those, the ones whose order has not shown up yet
    ends: bool = False

    @property
    def events(self) -> list[Event]:
        return [*self.intents, *self.cancels]


@dataclass(slots=True)
class DeriskEpisode:
    """The de-risk memory of one account (see module doc)."""

    account: str
    planner: DeriskPlanner
    step_interval_ns: int
    source: str = "decision-engine"
    active: bool = False
    last_step_ns: int | None = None
    steps: dict[tuple[str, Mode], int] = field(default_factory=dict)
    intents: dict[str, OwnIntent] = field(default_factory=dict)
    current: list[str] = field(default_factory=list)
    deferred: set[str] = field(default_factory=set)
    cancels_sent: set[str] = field(default_factory=set)

    def due(self, now_ns: int) -> bool:
        return self.last_step_ns is None or now_ns - self.last_step_ns >= self.step_interval_ns

    def working(self, book: AccountBook) -> list[WorkingIntent]:
        return [
            WorkingIntent(intent_id, self.intents[intent_id].symbol)
            for intent_id in self.current
            if _still_works(book, intent_id)
        ]

    def plan(
        self,
        *,
        now_ns: int,
        mode: Mode,
        reason: str,
        target_pct: Decimal,
        gross_pct: Decimal,
        equity: Decimal,
        session_date: str,
        book: AccountBook,
        market: MarketState,
        cause: Event | None = None,
    ) -> StepEvents | None:
        """The next step's events, or None when it is not due or there is nothing to send."""
        self.active = True
        if not self.due(now_ns):
            return None
        step_no = self.steps.get((session_date, mode), 0) + 1
        positions = book.positions.open_positions()
        plan = self.planner.plan_step(
            account=self.account,
            session_date=date.fromisoformat(session_date),
            mode=mode,
            step_no=step_no,
            target_pct=target_pct,
            equity=equity,
            gross_pct=gross_pct,
            positions=positions,
            market={p.symbol: market.market_view(p.symbol) for p in positions},
            working=self.working(book),
        )
        for skipped in plan.skipped:
            log.warning(
                "%s step %d skips %s: %s", self.account, step_no, skipped.symbol, skipped.reason
            )
        caused = Chain.of(cause)
        intents = tuple(self._intent(p, reason, now_ns, caused) for p in plan.intents)
        why = f"de-risk step {step_no}: not planned again"
        cancels, deferred = self._cancels(plan.cancels, book, now_ns, why, caused)
        if not intents and not cancels and not deferred:
            return None
        return StepEvents(now_ns, intents, cancels, plan.cancels, deferred)

    def end(self, now_ns: int, book: AccountBook, cause: Event | None = None) -> StepEvents | None:
        """Cancel every live order of the episode's intents; None when there is no episode."""
        if not self.active:
            return None
        caused = Chain.of(cause)
        cancels, deferred = self._cancels(
            sorted(self.intents), book, now_ns, "de-risk ended: back within limits", caused
        )
        # Intents of earlier steps without an order were replaced or cancelled already.
        deferred = tuple(i for i in deferred if i in self.current)
        return StepEvents(now_ns, (), cancels, tuple(self.current), deferred, ends=True)

    def on_order(self, event: OrderEvent, book: AccountBook, now_ns: int) -> list[CancelOrder]:
        """A cancel for the order of an intent we already decided to cancel, if it is live."""
        order = book.order(event.order_id)
        if event.intent_id not in self.deferred or order is None or not order.live:
            return []
        if order.order_id in self.cancels_sent:
            return []
        return [
            self._cancel(
                order.order_id,
                "de-risk: cancelled before its order existed",
                now_ns,
                Chain.of(event),
                order.symbol,
            )
        ]

    def record(self, step: StepEvents) -> None:
        """The step's events are published: remember them."""
        self.cancels_sent.update(c.order_id for c in step.cancels)
        self.deferred.update(step.deferred)
        if step.ends:
            self.active, self.current = False, []
            return
        self.last_step_ns = step.ts_ns
        for intent in step.intents:
            self.remember(intent)
        kept = [i for i in self.current if i not in step.cancelled]
        self.current = [intent.intent_id for intent in step.intents] if step.intents else kept

    def record_cancels(self, cancels: Sequence[CancelOrder]) -> None:
        self.cancels_sent.update(c.order_id for c in cancels)

    def remember(self, intent: IntentCreated) -> None:
        """Take one of our intents (just published, or replayed from ``trades.intent``)."""
        prefix = f"derisk:{self.account}:"
        session_date = intent.idempotency_key.removeprefix(prefix).split(":", 1)[0]
        own = OwnIntent(
            intent.intent_id,
            intent.symbol,
            session_date,
            intent.mode,
            intent.step,
            intent.ts_event,
        )
        self.intents[intent.intent_id] = own
        key = (session_date, intent.mode)
        self.steps[key] = max(self.steps.get(key, 0), intent.step)
        if self.last_step_ns is None or intent.ts_event > self.last_step_ns:
            self.last_step_ns, self.current = intent.ts_event, [intent.intent_id]
        elif intent.ts_event == self.last_step_ns and intent.intent_id not in self.current:
            self.current.append(intent.intent_id)

    def is_own(self, intent: IntentCreated) -> bool:
        """Whether ``intent`` is one of this account's de-risk intents (by its key)."""
        return (
            intent.account == self.account
            and intent.mode in DERISK_MODES
            and intent.idempotency_key.startswith(f"derisk:{self.account}:")
        )

    def is_own_cancel(self, cancel: CancelOrder) -> bool:
        """Whether ``cancel`` is one this episode sent (by its key): taken back at a restart."""
        return cancel.idempotency_key.startswith(f"derisk-cancel:{self.account}:")

    # --- building events -------------------------------------------------------------------------
    def _intent(
        self, planned: PlannedIntent, reason: str, now_ns: int, caused: Chain
    ) -> IntentCreated:
        return IntentCreated(
            ts_event=now_ns,
            account=self.account,
            source=self.source,
            idempotency_key=planned.idempotency_key,
            intent_id=planned.intent_id,
            symbol=planned.symbol,
            side=planned.side,
            qty=planned.qty,
            order_type=OrderType.LIMIT,
            limit_price=planned.limit_price,
            tif=TimeInForce.DAY,
            bucket=planned.bucket,
            mode=planned.mode,
            reason=f"{reason}, priced from {planned.price_source}",
            reduce_only=True,
            step=planned.step,
            replaces_intent_id=planned.replaces,
            urgency="URGENT" if planned.mode is Mode.HARD_DERISK else "HIGH",
            correlation_id=caused.correlation_id,
            causation_id=caused.causation_id,
        )

    def _cancels(
        self,
        intent_ids: Sequence[str],
        book: AccountBook,
        now_ns: int,
        reason: str,
        caused: Chain,
    ) -> tuple[tuple[CancelOrder, ...], tuple[str, ...]]:
        """CancelOrder for each live order of ``intent_ids``; intents with no order yet apart."""
        cancels: list[CancelOrder] = []
        deferred: list[str] = []
        for intent_id in intent_ids:
            orders = book.orders_of_intent(intent_id)
            if not orders:
                deferred.append(intent_id)
            for order in orders:
                if order.live and order.order_id not in self.cancels_sent:
                    cancels.append(
                        self._cancel(order.order_id, reason, now_ns, caused, order.symbol)
                    )
        return tuple(cancels), tuple(deferred)

    def _cancel(
        self, order_id: str, reason: str, now_ns: int, caused: Chain, symbol: str
    ) -> CancelOrder:
        return CancelOrder(
            ts_event=now_ns,
            account=self.account,
            source=self.source,
            idempotency_key=f"derisk-cancel:{self.account}:{order_id}",
            order_id=order_id,
            symbol=symbol,  # the request's shard when trades.request is sharded
            reason=reason,
            correlation_id=caused.correlation_id,
            causation_id=caused.causation_id,
        )


def _still_works(book: AccountBook, intent_id: str) -> bool:
    """No order seen yet (on its way), or at least one of its orders is live."""
    orders = book.orders_of_intent(intent_id)
    return not orders or any(order.live for order in orders)
