"""What the risk kernel remembers from the streams, and the snapshot it evaluates on.

``KernelBook.apply`` takes any event of the streams the kernel follows (in stream order) and
keeps the little it needs; ``snapshot`` turns it into the ``KernelState`` of one evaluation.
Applying an event twice changes nothing (sets and "latest" values), so replays and catch-ups
may overlap.

* daily status: the latest per account; used only when it is for today's session date (an old
  day's P&L says nothing about today's loss limit);
* kill switch: activated / reset per account (an activation without an account covers all);
* mode: the decision engine's last announced mode per account;
* open positions: position ids opened and not yet closed, per account;
* approvals today: the kernel's own approvals (APPROVED or MODIFIED evaluations of a signal)
  per account and session date, counted once per evaluation id;
* market data: the newest ``ts_event`` of a quote, trade print, tick or candle per symbol;
* regimes: the last classification per symbol; heartbeats: the last per service.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from quantrail.events.base import Event
from quantrail.events.market import CandleClosed, PriceTicked, QuoteUpdated, TradePrinted
from quantrail.events.position import PositionClosed, PositionOpened
from quantrail.events.regime import RegimeClassified
from quantrail.events.risk import (
    KillSwitchActivated,
    KillSwitchReset,
    RiskDailyStatusUpdated,
    RiskEvaluationCompleted,
    RiskModeChanged,
)
from quantrail.events.signals import SignalIssued
from quantrail.events.system import HealthHeartbeat
from quantrail.risk.kernel import KernelState
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Mode

ALL_ACCOUNTS = "*"
MARKET_EVENTS = (QuoteUpdated, TradePrinted, PriceTicked, CandleClosed)
_MARKET_TYPES = frozenset(MARKET_EVENTS)
_symbol = operator.attrgetter("symbol")
_ts_event = operator.attrgetter("ts_event")


class KernelBook:
    def __init__(self, equity: Mapping[str, Decimal], timezone: str) -> None:
        self._equity = dict(equity)
        self._zone = ZoneInfo(timezone)
        self.evaluated: set[str] = set()
        self._approvals: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._status: dict[str, RiskDailyStatusUpdated] = {}
        self._killed: set[str] = set()
        self._modes: dict[str, Mode] = {}
        self._open: defaultdict[str, set[str]] = defaultdict(set)
        self._market_ns: dict[str, int] = {}
        self._regimes: dict[str, RegimeClassified] = {}
        self._heartbeats: dict[str, int] = {}

    def session_date(self, ts_ns: int) -> str:
        """The exchange-local date of ``ts_ns`` (``YYYY-MM-DD``)."""
        return datetime.fromtimestamp(ts_ns / NS_PER_SECOND, tz=self._zone).date().isoformat()

    # --- events in -------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        if isinstance(event, MARKET_EVENTS):
            self._saw_market(event.symbol, event.ts_event)
        elif isinstance(event, RiskEvaluationCompleted):
            self.record(event)
        elif isinstance(event, RiskDailyStatusUpdated):
            held = self._status.get(event.account or "")
            if held is None or event.ts_event >= held.ts_event:
                self._status[event.account or ""] = event
        elif isinstance(event, KillSwitchActivated | KillSwitchReset):
            self._kill_switch(event)
        elif isinstance(event, RiskModeChanged) and event.account is not None:
            self._modes[event.account] = event.mode
        elif isinstance(event, PositionOpened):
            self._open[event.account or ""].add(event.position_id)
        elif isinstance(event, PositionClosed):
            self._open[event.account or ""].discard(event.position_id)
        elif isinstance(event, RegimeClassified):
            held_regime = self._regimes.get(event.symbol)
            if held_regime is None or event.ts_event >= held_regime.ts_event:
                self._regimes[event.symbol] = event
        elif isinstance(event, HealthHeartbeat):
            held_ns = self._heartbeats.get(event.service, 0)
            self._heartbeats[event.service] = max(held_ns, event.ts_event)

    def apply_all(self, events: Sequence[Event]) -> None:
        """``apply`` of each, in order; market data (most of what the kernel follows: every
        quote) without a call each, one symbol's at once."""
        if set(map(type, events)) <= _MARKET_TYPES and len(set(map(_symbol, events))) == 1:
            symbol = events[0].symbol  # type: ignore[attr-defined]
            self._saw_market(symbol, max(map(_ts_event, events)))
            return
        for event in events:
            self.apply(event)

    def _saw_market(self, symbol: str, ts_ns: int) -> None:
        """Market data of ``symbol`` at ``ts_ns``: its latest time is kept (a late print
        does not move it back)."""
        seen = self._market_ns.get(symbol, 0)
        self._market_ns[symbol] = ts_ns if ts_ns > seen else seen

    def record(self, evaluation: RiskEvaluationCompleted) -> None:
        """An evaluation of the kernel's (this instance's or another's): once per id."""
        if evaluation.evaluation_id in self.evaluated:
            return
        self.evaluated.add(evaluation.evaluation_id)
        if evaluation.signal_id and evaluation.decision != "VETOED":
            day = self.session_date(evaluation.ts_event)
            self._approvals[(evaluation.account or "", day)] += 1

    def _kill_switch(self, event: KillSwitchActivated | KillSwitchReset) -> None:
        account = event.account or ALL_ACCOUNTS
        if isinstance(event, KillSwitchActivated):
            self._killed.add(account)
        elif account == ALL_ACCOUNTS:
            self._killed.clear()
        else:
            self._killed.discard(account)

    # --- the snapshot ------------------------------------------------------------------------
    def kill_switch_active(self, account: str) -> bool:
        return account in self._killed or ALL_ACCOUNTS in self._killed

    def snapshot(self, advisory: SignalIssued, account: str, now_ns: int) -> KernelState:
        today = self.session_date(now_ns)
        status = self._status.get(account)
        if (
            status is not None
            and (status.session_date or self.session_date(status.ts_event)) != today
        ):
            status = None
        start_equity = self._equity.get(account, Decimal(0))
        equity = status.equity if status is not None and status.equity is not None else start_equity
        return KernelState(
            account_known=account in self._equity,
            equity=equity,
            daily_pnl_pct=None if status is None else status.daily_pnl_percent,
            drawdown_pct=None if status is None else status.drawdown_from_hwm,
            kill_switch_active=self.kill_switch_active(account)
            or (status is not None and status.kill_switch_active),
            mode=self._modes.get(account),
            open_positions=len(self._open.get(account, ())),
            approvals_today=self._approvals.get((account, today), 0),
            market_data_ns=self._market_ns.get(advisory.symbol),
            regime=self._regime(advisory),
            heartbeats=dict(self._heartbeats),
        )

    def _status_date(self, status: RiskDailyStatusUpdated) -> str:
        return status.session_date or self.session_date(status.ts_event)

    def _regime(self, advisory: SignalIssued) -> str | None:
        classified = self._regimes.get(advisory.symbol)
        if classified is not None and classified.ts_event > advisory.ts_event:
            return classified.regime
        return advisory.regime or (classified.regime if classified is not None else None)
