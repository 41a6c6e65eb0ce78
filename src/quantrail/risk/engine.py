"""The decision engine: the policy table on the latest exposure and session, per account.

Consumes ``exposure.snapshot`` and ``session.clock`` (group consumers: a decision per event),
and follows ``market.quote``, ``market.trade`` and ``trades.order`` (broadcast readers, after a
replay of today's history at start, like the exposure service) for prices, positions and the
state of its own intents' orders.

* **When**: on every exposure snapshot (that account), every session tick (every account) and
  on a watchdog timer every ``watchdog_s`` (every account), so stale inputs are caught even
  when nothing arrives at all (staleness is the absence of events).
* **Ages** are ``now - ts_event`` on the service's clock, in the seconds staleness limits count
  (``Clock.wall_seconds``: wall seconds in a replay at a fixed speed, so a lag of L wall
  seconds is L, not N x L). Before the first snapshot (or tick) the age counts from the
  engine's start, so a fresh engine waits one staleness limit before it calls missing data
  stale. A timestamp up to ``CLOCK_SKEW_S`` in the future counts as age 0
  (hosts' clocks differ a little); further ahead it is a clock problem and counts as stale.
* **Decision**: ``policy.decide`` (pure), with the bucket maxima of the engine's own rules and
  the bucket potentials of the snapshot. Before its first decision an account is in
  ``THROTTLE_NEW_ORDERS`` / ``AWAITING_DATA`` (no new exposure on no data).
* **Mode changes**: ``RiskModeChanged`` (``inputs`` = ``PolicyInputs.summary()``) when the mode
  changes, and at an account's first decision if ``risk.mode`` does not carry its mode yet (a
  first start; ``previous_mode`` is then the AWAITING_DATA throttle, possibly equal). So the
  stream's last event per account is always the engine's mode: consumers (the execution
  service) replay it. A restarted engine takes its mode from that stream (the reason from
  ``state:mode:<ACCOUNT>`` when the modes agree) and announces nothing that did not change.
  ``state:mode:<ACCOUNT>`` holds mode, reason, target and since whenever one of them changes.
* **Alerts**: ``AlertTriggered`` when a decision that alerts (``STALE_DATA``, ``ABOVE_HARD_CAP``)
  follows a decision with another reason: once per episode, not every tick.
* **De-risk**: in SOFT/HARD, ``DeriskEpisode`` plans at most one step per
  ``derisk_step_interval_s`` from the engine's own ``AccountBook`` (the account's baseline file +
  today's fills, the same rules as the exposure service; ``ExposureSnapshot`` carries no
  per-symbol positions) and the snapshot's gross and equity. Stale data never plans (row 1 of
  the table comes first).
* **LT band drift** (``band_drift``, off when None or not ``enabled``): after each decision,
  ``DriftCycle`` may plan passive LT corrections on ``trades.intent``: NORMAL only, once per
  exposure snapshot (the first NORMAL decision after it), never while de-risk orders work. Any
  other decision cancels (``CancelOrder`` on ``trades.request``, once per order) the drift's
  live orders that would add exposure; at start ``trades.request`` is replayed for the cancels
  sent (de-risk's and the drift's), so a restarted engine does not send them again.

Run one instance: modes and episodes live in its memory (and in the state store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.config import AccountConfig
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.orders import OrderEvent
from quantrail.events.risk import RiskModeChanged
from quantrail.events.session import SessionClockTicked
from quantrail.events.trades import CancelOrder, IntentCreated
from quantrail.marketdata.truth import TruthTickFilter
from quantrail.money import to_money
from quantrail.risk.account_book import AccountBook
from quantrail.risk.decisions import (
    AWAITING_DATA,
    ExposureView,
    ModeState,
    alert,
    derisk_audit,
    exposure_view,
    input_age,
    mode_audit,
    mode_changed,
    policy_inputs,
)
from quantrail.risk.derisk_episode import DERISK_MODES, DeriskEpisode, StepEvents
from quantrail.risk.drift_cycle import DriftCycle
from quantrail.risk.exposure_service import (
    DEFAULT_TIMEZONE,
    ORDERS,
    QUOTES,
    TRADES,
    accounts_by_name,
    day_start_ns,
    require_interval,
    require_timezone,
)
from quantrail.risk.market_state import MarketState
from quantrail.risk.planner import DeriskPlanner
from quantrail.risk.policy import STALE_DATA, Decision, PolicyInputs, decide
from quantrail.risk.rules import RiskRules
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.strategy.band_drift import BandDriftConfig
from quantrail.vocab import Mode, Phase

log = logging.getLogger("quantrail.risk.engine")

EXPOSURE = "exposure.snapshot"
SESSION = "session.clock"
INTENTS = "trades.intent"
REQUESTS = "trades.request"
MODES = "risk.mode"


class DecisionEngine(Service):
    """Policy decisions, mode changes, alerts and de-risk steps per account (see module doc)."""

    name = "decision-engine"

    def __init__(
        self,
        rules: RiskRules,
        planner: DeriskPlanner,
        accounts: Sequence[AccountConfig],
        derisk_step_interval_s: float = 15.0,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        watchdog_s: float = 1.0,
        truth_filter: TruthTickFilter | None = None,
        name: str | None = None,
        band_drift: BandDriftConfig | None = None,
    ) -> None:
        super().__init__()
        if name is not None:
            self.name = name
        self._rules = rules
        self._accounts = accounts_by_name(accounts)
        step_ns = int(require_interval("derisk_step_interval_s", derisk_step_interval_s) * 1e9)
        self._watchdog_s = require_interval("watchdog_s", watchdog_s)
        self._timezone = require_timezone(timezone)
        self._market = MarketState(truth_filter)
        self._episodes = {
            account: DeriskEpisode(account, planner, step_ns, self.name)
            for account in self._accounts
        }
        self._books: dict[str, AccountBook] = {}
        self._exposure: dict[str, ExposureView] = {}
        self._session: SessionClockTicked | None = None
        self._modes: dict[str, ModeState] = {}
        self._last_reason: dict[str, str] = {}
        self._published: set[str] = set()  # accounts whose current mode is on risk.mode
        self._lock = asyncio.Lock()
        self._since_ns = self._started_ns = 0
        self._starts: dict[str, StreamStart] = {}
        self._drift = (  # a disabled config is off however it got here: no surprise orders
            DriftCycle(band_drift, self._accounts, rules, self._market, self.name)
            if band_drift is not None and band_drift.enabled
            else None
        )

    # --- what others may read ------------------------------------------------------------------
    def mode(self, account: str) -> ModeState:
        return self._modes[account]

    def episode(self, account: str) -> DeriskEpisode:
        return self._episodes[account]

    def book(self, account: str) -> AccountBook:
        return self._books[account]

    @property
    def drift(self) -> DriftCycle | None:
        return self._drift

    @property
    def last_session(self) -> SessionClockTicked | None:
        return self._session

    # --- lifecycle -----------------------------------------------------------------------------
    async def on_start(self) -> None:
        now = self._started_ns = self.ctx.now_ns()
        self._since_ns = day_start_ns(now, self._timezone)
        self._books = {name: AccountBook.load(cfg) for name, cfg in self._accounts.items()}
        for stream in (ORDERS, QUOTES, TRADES, INTENTS):
            self._starts[stream] = await replay_history(self.ctx.bus, stream, self._replayed)
        # The cancels de-risk and the drift sent before a restart: not sent again.
        await replay_history(self.ctx.bus, REQUESTS, self._replayed)
        announced: dict[str, RiskModeChanged] = {}
        await replay_history(self.ctx.bus, MODES, lambda e: self._announced(e, announced))
        for account in sorted(self._accounts):
            await self._restore_mode(account, announced.get(account), now)

    def _announced(self, event: Event, last: dict[str, RiskModeChanged]) -> None:
        if isinstance(event, RiskModeChanged) and event.account in self._accounts:
            last[event.account] = event

    async def _restore_mode(
        self, account: str, announced: RiskModeChanged | None, now: int
    ) -> None:
        """The mode consumers of ``risk.mode`` last heard; the state store adds a later reason."""
        kept = ModeState.from_fields(await self.ctx.bus.get_state(f"mode:{account}"))
        state = kept or ModeState(Mode.THROTTLE_NEW_ORDERS, AWAITING_DATA, None, now)
        if announced is not None:
            self._published.add(account)
            if kept is None or kept.mode is not announced.mode:
                target = announced.target_gross_pct
                state = ModeState(
                    announced.mode,
                    announced.reason,
                    None if target is None else to_money(target),
                    announced.ts_event,
                )
        if state != kept:
            await self.ctx.bus.set_state(f"mode:{account}", state.fields())
        self._modes[account], self._last_reason[account] = state, state.reason
        self._episodes[account].active = state.mode in DERISK_MODES

    def subscriptions(self) -> list[Subscription]:
        follow = [
            Subscription(
                streams=[stream],
                handler=self._on_follow,
                name=stream,
                broadcast=True,
                start=self._starts.get(stream, "0"),
            )
            for stream in (ORDERS, QUOTES, TRADES)
        ]
        return [
            Subscription(streams=[EXPOSURE], handler=self._on_exposure, name="exposure"),
            Subscription(streams=[SESSION], handler=self._on_session, name="session"),
            *follow,
        ]

    def timers(self) -> list[Timer]:
        return [Timer(self._watchdog_s, self._on_watchdog, "decision-watchdog")]

    # --- inputs --------------------------------------------------------------------------------
    def _replayed(self, event: Event) -> None:
        if event.ts_event < self._since_ns:
            return
        if isinstance(event, IntentCreated):
            episode = self._episodes.get(event.account or "")
            if episode is not None and episode.is_own(event):
                episode.remember(event)
            elif self._drift is not None:
                self._drift.remember(event)
        elif isinstance(event, CancelOrder):
            episode = self._episodes.get(event.account or "")
            if episode is not None and episode.is_own_cancel(event):
                episode.record_cancels([event])
            elif self._drift is not None:
                self._drift.remember_cancel(event)
        elif not self._market.apply(event) and isinstance(event, OrderEvent):
            book = self._books.get(event.account or "")
            if book is not None:
                book.apply(event)

    async def _on_follow(self, event: Event, _delivery: Delivery) -> None:
        if event.ts_event < self._since_ns or self._market.apply(event):
            return
        if not isinstance(event, OrderEvent) or event.account not in self._books:
            return
        book = self._books[event.account]
        book.apply(event)
        async with self._lock:
            episode = self._episodes[event.account]
            cancels = episode.on_order(event, book, self.ctx.now_ns())
            if cancels:
                await self.ctx.publish_batch(cancels)
                episode.record_cancels(cancels)

    async def _on_exposure(self, event: Event, _delivery: Delivery) -> None:
        if not isinstance(event, ExposureSnapshot) or event.ts_event < self._since_ns:
            return
        if event.account not in self._accounts:
            log.debug("exposure of account %s is not ours", event.account)
            return
        view = exposure_view(event, self._rules)
        async with self._lock:
            held = self._exposure.get(event.account)
            if held is None or view.ts_ns >= held.ts_ns:
                self._exposure[event.account] = view
                if self._drift is not None:
                    self._drift.observe(event)
            await self._decide(event.account, event)

    async def _on_session(self, event: Event, _delivery: Delivery) -> None:
        if not isinstance(event, SessionClockTicked) or event.ts_event < self._since_ns:
            return
        async with self._lock:
            if self._session is None or event.ts_event >= self._session.ts_event:
                self._session = event
            for account in sorted(self._accounts):
                await self._decide(account, event)

    async def _on_watchdog(self) -> None:
        async with self._lock:
            for account in sorted(self._accounts):
                await self._decide(account, None)

    # --- deciding ------------------------------------------------------------------------------
    def inputs(self, account: str, now_ns: int) -> PolicyInputs | None:
        """What the table sees for ``account`` now; None while waiting for first data."""
        view, session = self._exposure.get(account), self._session
        rules, started, wall_s = self._rules, self._started_ns, self.ctx.wall_seconds
        exposure_ts = view.ts_ns if view else None
        exposure_age = input_age(exposure_ts, now_ns, started, rules.stale_after_s, wall_s=wall_s)
        session_ts = session.ts_event if session else None
        session_age = input_age(
            session_ts, now_ns, started, rules.session_stale_after_s, wall_s=wall_s
        )
        if exposure_age is None or session_age is None:
            return None
        phase = session.phase if session is not None else Phase.CLOSED
        return policy_inputs(view, phase, exposure_age, session_age, self._rules)

    async def _decide(self, account: str, cause: Event | None) -> None:
        now = self.ctx.now_ns()
        inputs = self.inputs(account, now)
        if inputs is None:
            return
        decision = decide(inputs, self._rules)
        current = self._modes[account]
        events: list[Event] = []
        announce = decision.mode is not current.mode or account not in self._published
        if announce:
            change = mode_changed(account, current.mode, decision, inputs, now, cause, self.name)
            events.extend([change, mode_audit(change, self.name)])
        if decision.alert and self._last_reason.get(account) != decision.reason:
            events.append(alert(account, decision, inputs, now, cause, self.name))
        step = self._derisk(account, decision, inputs, now, cause)
        if step is not None:
            events.extend(step.events)
            audited = derisk_audit(account, decision.mode, decision.reason, step, self.name)
            events.extend([audited] if audited is not None else [])
        if events:
            await self.ctx.publish_batch(events)
        if announce:
            self._published.add(account)
        if step is not None:
            self._episodes[account].record(step)
        self._last_reason[account] = decision.reason
        since = current.since_ns if decision.mode is current.mode else now
        state = ModeState(decision.mode, decision.reason, decision.target_gross_pct, since)
        if not state.same_as(current):
            self._modes[account] = state
            await self.ctx.bus.set_state(f"mode:{account}", state.fields())
        if self._drift is not None:
            await self._drift_step(self._drift, account, decision, now, cause)

    async def _drift_step(
        self, drift: DriftCycle, account: str, decision: Decision, now: int, cause: Event | None
    ) -> None:
        step = drift.step(
            decision=decision,
            session=self._session,
            book=self._books[account],
            episode=self._episodes[account],
            now_ns=now,
            cause=cause,
        )
        if step is not None:
            if step.events:
                await self.ctx.publish_batch(step.events)
            drift.record(step)  # only once published: a failed publish plans the same again

    def _derisk(
        self, account: str, decision: Decision, inputs: PolicyInputs, now: int, cause: Event | None
    ) -> StepEvents | None:
        episode, book = self._episodes[account], self._books[account]
        if decision.mode not in DERISK_MODES:
            # Stale data pauses an episode: no new step, and its orders are left as they are.
            return None if decision.reason == STALE_DATA else episode.end(now, book, cause)
        view, session = self._exposure[account], self._session
        assert session is not None and decision.target_gross_pct is not None  # fresh de-risk
        return episode.plan(
            now_ns=now,
            mode=decision.mode,
            reason=decision.reason,
            target_pct=decision.target_gross_pct,
            gross_pct=inputs.gross_pct,
            equity=view.equity,
            session_date=session.session_date,
            book=book,
            market=self._market,
            cause=cause,
        )
