"""The state of the desk, folded from events: what the dashboard and ``quantrail top`` show.

Pure and synchronous: ``DeskView.apply(event)`` takes any event in stream order and keeps, per
account, the mode and its reason, the exposure through the day (with the phase tolerance in
force at each point), buckets and groups, open orders, positions, the day's P&L and the kill
switch; and for the desk, recent alerts and service heartbeats. Stream health and the ledger's
P&L are not events: the feed that reads them hands them in (``set_streams``,
``set_ledger_pnl``). ``snapshot()`` is a JSON-ready dict (money as exact strings).

An event without an account (a global mode change or kill switch) applies to every account.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quantrail.events import (
    AlertTriggered,
    ExposureSnapshot,
    HealthHeartbeat,
    KillSwitchActivated,
    KillSwitchReset,
    OrderReplaced,
    PositionClosed,
    PositionUpdated,
    RiskDailyStatusUpdated,
    RiskModeChanged,
    SessionClockTicked,
)
from quantrail.events.base import Event
from quantrail.events.orders import OrderEvent, OrderFill
from quantrail.risk.rules import RiskRules

EXPOSURE_POINTS_KEPT = 2_000
"""A snapshot every 15 s is 1,560 points over a 6.5 h session: the whole day fits."""
ALERTS_KEPT = 20


@dataclass(frozen=True, slots=True)
class DeskLimits:
    """The lines on the exposure chart: overnight (100), de-risk (120), hard cap (130) and each
    phase's tolerance for potential gross."""

    close_limit_pct: float = 100.0
    derisk_pct: float = 120.0
    hard_cap_pct: float = 130.0
    tolerance_pct: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_rules(cls, rules: RiskRules) -> DeskLimits:
        derisk = [r.derisk_level_pct for r in rules.phases.values() if r.derisk_level_pct]
        return cls(
            close_limit_pct=float(rules.close_limit_pct),
            derisk_pct=float(max(derisk)) if derisk else float(rules.hard_cap_pct),
            hard_cap_pct=float(rules.hard_cap_pct),
            tolerance_pct={p.value: float(r.tolerance_pct) for p, r in rules.phases.items()},
        )

    def tolerance(self, phase: str) -> float | None:
        return self.tolerance_pct.get(phase)


@dataclass(frozen=True, slots=True)
class ExposurePoint:
    ts_ns: int
    gross_pct: float
    long_pct: float
    short_pct: float
    potential_pct: float
    tolerance_pct: float | None


@dataclass(frozen=True, slots=True)
class LedgerPnl:
    """The ledger's figures for the day (``quantrail.ledger``): dual books, exact money."""

    realized_intraday: Decimal
    baseline_realized: Decimal
    unrealized: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order still working: its latest event and the shares filled so far."""

    event: OrderEvent
    filled: int = 0


@dataclass(slots=True)
class KillView:
    active: bool = False
    trigger: str = ""
    by: str = ""
    reason: str = ""
    since_ns: int = 0
    flatten: bool = False
    reset_by: str = ""
    reset_reason: str = ""

    def activated(self, event: KillSwitchActivated) -> None:
        self.active, self.trigger, self.by = True, event.trigger, event.activated_by
        self.reason, self.since_ns, self.flatten = event.action_taken, event.ts_event, event.flatten
        self.reset_by = self.reset_reason = ""

    def reset(self, event: KillSwitchReset) -> None:
        self.active, self.since_ns = False, event.ts_event
        self.reset_by, self.reset_reason = event.reset_by, event.reason


@dataclass(slots=True)
class AccountDesk:
    """One account's view."""

    name: str
    mode: str = "UNKNOWN"
    mode_reason: str = "no risk.mode event yet"
    mode_since_ns: int = 0
    exposure: deque[ExposurePoint] = field(
        default_factory=lambda: deque(maxlen=EXPOSURE_POINTS_KEPT)
    )
    latest: ExposureSnapshot | None = None
    orders: dict[str, OpenOrder] = field(default_factory=dict)
    positions: dict[str, PositionUpdated] = field(default_factory=dict)
    daily: RiskDailyStatusUpdated | None = None
    ledger_pnl: LedgerPnl | None = None
    ledger_note: str = ""
    kill: KillView = field(default_factory=KillView)


class DeskView:
    """Every account's desk, the session phase, alerts, heartbeats and stream health."""

    def __init__(self, limits: DeskLimits | None = None, accounts: list[str] | None = None) -> None:
        self.limits = limits or DeskLimits()
        self.accounts: dict[str, AccountDesk] = {a: AccountDesk(a) for a in accounts or []}
        self.phase = ""
        self.session_date = ""
        self.alerts: deque[AlertTriggered] = deque(maxlen=ALERTS_KEPT)
        self.health: dict[str, HealthHeartbeat] = {}
        self.streams: list[dict[str, Any]] = []
        self.dead_letters = 0
        self.last_event_ns = 0
        self.events_seen = 0

    # -- folding events ---------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        self.events_seen += 1
        self.last_event_ns = max(self.last_event_ns, event.ts_event)
        if isinstance(event, SessionClockTicked):
            if self.session_date and event.session_date > self.session_date:
                self._new_day()
            self.phase, self.session_date = event.phase.value, event.session_date
        elif isinstance(event, AlertTriggered):
            self.alerts.appendleft(event)
        elif isinstance(event, HealthHeartbeat):
            name = f"{event.service}/{event.instance}" if event.instance else event.service
            self.health[name] = event
        else:
            for desk in self._desks_of(event):
                _apply_to_account(desk, event, self._tolerance())

    def _new_day(self) -> None:
        """A desk left running overnight starts the new day's exposure chart afresh."""
        for desk in self.accounts.values():
            desk.exposure.clear()

    def _tolerance(self) -> float | None:
        return self.limits.tolerance(self.phase) if self.phase else None

    def _desks_of(self, event: Event) -> list[AccountDesk]:
        if event.account:
            return [self.account(event.account)]
        return list(self.accounts.values()) if _applies_to_all(event) else []

    def account(self, name: str) -> AccountDesk:
        desk = self.accounts.get(name)
        if desk is None:
            desk = self.accounts[name] = AccountDesk(name)
        return desk

    # -- what the feed hands in -------------------------------------------------------------
    def set_streams(self, rows: list[dict[str, Any]], dead_letters: int) -> None:
        self.streams, self.dead_letters = rows, dead_letters

    def set_ledger_pnl(self, account: str, pnl: LedgerPnl | None, note: str = "") -> None:
        desk = self.account(account)
        desk.ledger_pnl, desk.ledger_note = pnl, note

    def marks(self, account: str) -> dict[str, Decimal]:
        """The latest price of each open position (for the ledger's unrealized P&L)."""
        return {p.symbol: p.current_price for p in self.account(account).positions.values()}

    # -- the picture ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        from quantrail.ops.desk_render import desk_dict

        return desk_dict(self)


def _applies_to_all(event: Event) -> bool:
    return isinstance(event, RiskModeChanged | KillSwitchActivated | KillSwitchReset)


def _apply_to_account(desk: AccountDesk, event: Event, tolerance: float | None) -> None:
    if isinstance(event, RiskModeChanged):
        desk.mode, desk.mode_reason = event.mode.value, event.reason
        desk.mode_since_ns = event.ts_event
    elif isinstance(event, ExposureSnapshot):
        desk.latest = event
        desk.exposure.append(_point(event, tolerance))
    elif isinstance(event, OrderEvent):
        _apply_order(desk.orders, event)
    elif isinstance(event, PositionUpdated):
        _apply_position(desk.positions, event)
    elif isinstance(event, PositionClosed):
        desk.positions.pop(event.position_id, None)
    elif isinstance(event, RiskDailyStatusUpdated):
        desk.daily = event
    elif isinstance(event, KillSwitchActivated):
        desk.kill.activated(event)
    elif isinstance(event, KillSwitchReset):
        desk.kill.reset(event)


def _point(event: ExposureSnapshot, tolerance: float | None) -> ExposurePoint:
    return ExposurePoint(
        ts_ns=event.ts_event,
        gross_pct=event.gross_exposure_pct,
        long_pct=event.long_gross_pct,
        short_pct=event.short_gross_pct,
        potential_pct=event.potential_gross_pct,
        tolerance_pct=tolerance,
    )


def _apply_order(orders: dict[str, OpenOrder], event: OrderEvent) -> None:
    """Open orders by id: a terminal status removes one; a replace moves it to its new id."""
    if isinstance(event, OrderReplaced):
        old = orders.pop(event.old_order_id, None)
        orders[event.new_order_id] = OpenOrder(event, old.filled if old else 0)
    elif event.status.is_terminal:
        orders.pop(event.order_id, None)
    else:
        seen = orders.get(event.order_id)
        filled = event.cum_qty if isinstance(event, OrderFill) else seen.filled if seen else 0
        orders[event.order_id] = OpenOrder(event, filled)


def _apply_position(positions: dict[str, PositionUpdated], event: PositionUpdated) -> None:
    if event.qty == 0:
        positions.pop(event.position_id, None)
    else:
        positions[event.position_id] = event
