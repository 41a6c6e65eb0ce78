"""The demo's second desk: ``breakout`` trading its own account beside the de-risked book.

Its advisories go through the real risk kernel, sizer, execution, position state and exit
brain; the summary says what the kernel decided (by decision and veto reason), what traded, and
the day's P&L of both accounts from the kill switch service's daily status.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from quantrail.events import (
    PositionClosed,
    PositionOpened,
    RiskDailyStatusUpdated,
    RiskEvaluationCompleted,
    SignalIssued,
)
from quantrail.runtime.simulation import Simulation

STRATEGY_ACCOUNT = "BREAKOUT"
CHAIN_SERVICES = [
    "candles", "regime", "signals", "risk_kernel", "sizer", "positions", "exit_brain",
    "killswitch",
]  # fmt: skip


@dataclass(slots=True)
class StrategySummary:
    signals: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    vetoes: Counter[str] = field(default_factory=Counter)
    opened: int = 0
    closed: int = 0
    exits: Counter[str] = field(default_factory=Counter)
    realized_pnl: Decimal = Decimal("0.00")
    fees: Decimal = Decimal("0.00")
    daily_pnl: dict[str, tuple[Decimal, float]] = field(default_factory=dict)
    """Per account: the last daily status's P&L in USD and in percent of equity."""


async def summarize_strategy(sim: Simulation) -> StrategySummary:
    summary = StrategySummary()
    summary.signals = len([s for s in await sim.events(SignalIssued)
                           if s.account == STRATEGY_ACCOUNT])  # fmt: skip
    for evaluation in await sim.events(RiskEvaluationCompleted):
        summary.decisions[evaluation.decision] += 1
        if evaluation.decision == "VETOED":
            summary.vetoes[evaluation.veto_reason] += 1
    opened = [p for p in await sim.events(PositionOpened) if p.account == STRATEGY_ACCOUNT]
    closed = [p for p in await sim.events(PositionClosed) if p.account == STRATEGY_ACCOUNT]
    summary.opened, summary.closed = len(opened), len(closed)
    for position in closed:
        summary.exits[position.exit_reason or "-"] += 1
        summary.realized_pnl += position.realized_pnl
        summary.fees += position.fees
    for status in await sim.events(RiskDailyStatusUpdated):
        if status.account is not None:
            summary.daily_pnl[status.account] = (status.daily_pnl_usd, status.daily_pnl_percent)
    return summary
