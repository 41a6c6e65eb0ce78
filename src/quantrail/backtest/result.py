"""A backtest's result, from the events the chain left on the bus, and its files.

Two independent accounts of the same run are kept and must agree:

- **cash**: every fill (``trades.order`` fill events, once per ``fill_id``) moves cash by
  ``qty x price`` and its fee; equity at a moment is cash plus every symbol's shares at its
  mark (the close of the latest bar seen). This gives the equity curve and ``final_equity``.
- **positions**: the positions service's ``position.state.opened / updated / closed``: a closed
  position's ``realized_pnl`` (before fees) and ``fees``; an open one's realized so far (its
  last update) and its ``unrealized_pnl`` at the last mark.

``net_pnl = final_equity - initial_equity`` must equal ``sum(realized_pnl) +
sum(unrealized_pnl) - sum(fill fees)`` to the cent (a difference of half a cent or more is a
``ReconciliationError``: the backtest exits 1). Money is written as decimal strings rounded to
the cent, times as ISO-8601 in UTC with a ``Z``; the JSON and CSV are written with a fixed key
order, so the same run gives the same bytes.

Sharpe: from daily returns (equity at the last mark of each UTC date over the day before, the
first over ``initial_equity``), mean over sample standard deviation times sqrt(252); null with
fewer than two days or no variation. Win rate: closed trades whose realized P&L after fees is
above zero, over closed trades (null with none).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quantrail.events import (
    Event,
    KillSwitchActivated,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
    RiskEvaluationCompleted,
    SignalIssued,
)
from quantrail.events.orders import OrderFill
from quantrail.money import ZERO, cents
from quantrail.vocab import Direction, Side

TRADE_COLUMNS = (
    "position_id", "symbol", "direction", "qty", "entry_ts", "entry_price", "exit_ts",
    "exit_price", "exit_reason", "realized_pnl", "unrealized_pnl", "fees", "signal_id",
    "evaluation_id",
)  # fmt: skip
TRADING_DAYS = 252


class ReconciliationError(RuntimeError):
    """The cash account and the positions' P&L disagree: the run cannot be trusted."""


@dataclasses.dataclass(frozen=True, slots=True)
class MarkPoint:
    """The marks after a step of the run: every symbol's latest close at ``ts_ns``."""

    ts_ns: int
    marks: dict[str, Decimal]


@dataclasses.dataclass(slots=True, kw_only=True)
class Trade:
    position_id: str
    symbol: str
    direction: str
    qty: int
    entry_ts: int
    entry_price: Decimal
    exit_ts: int | None = None
    exit_price: Decimal | None = None
    exit_reason: str | None = None
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal | None = None
    fees: Decimal = ZERO
    signal_id: str = ""
    evaluation_id: str = ""

    @property
    def closed(self) -> bool:
        return self.exit_ts is not None


@dataclasses.dataclass(slots=True, kw_only=True)
class BacktestResult:
    initial_equity: Decimal
    final_equity: Decimal
    fees: Decimal
    trades: list[Trade]
    equity_curve: list[tuple[int, Decimal]]
    signals: int
    decisions: dict[str, int]
    vetoes_by_reason: dict[str, int]
    kill_switch: list[KillSwitchActivated]

    @property
    def net_pnl(self) -> Decimal:
        return self.final_equity - self.initial_equity


def _fills(events: Iterable[Event]) -> list[OrderFill]:
    seen: dict[str, OrderFill] = {}
    for event in events:
        if isinstance(event, OrderFill) and event.fill_id not in seen:
            seen[event.fill_id] = event
    return sorted(seen.values(), key=lambda fill: fill.ts_event)


def equity_curve(
    initial: Decimal, fills: Sequence[OrderFill], points: Sequence[MarkPoint]
) -> list[tuple[int, Decimal]]:
    """Cash plus shares at their marks after each point (fills up to its time counted)."""
    cash, shares = initial, dict[str, int]()
    curve: list[tuple[int, Decimal]] = []
    pending = list(fills)
    for point in points:
        while pending and pending[0].ts_event <= point.ts_ns:
            fill = pending.pop(0)
            signed = fill.last_qty if fill.side is Side.BUY else -fill.last_qty
            cash -= signed * fill.last_price + fill.fees
            shares[fill.symbol] = shares.get(fill.symbol, 0) + signed
        held = sum((qty * point.marks[symbol] for symbol, qty in shares.items() if qty), ZERO)
        curve.append((point.ts_ns, cash + held))
    if pending:
        raise ReconciliationError(f"fill {pending[0].fill_id} came after the last mark")
    return curve


def _trades(
    events: Sequence[Event], fills: Sequence[OrderFill], marks: dict[str, Decimal]
) -> list[Trade]:
    trades: dict[str, Trade] = {}
    updates: dict[str, PositionUpdated] = {}
    for event in events:
        if isinstance(event, PositionOpened) and event.position_id not in trades:
            trades[event.position_id] = Trade(
                position_id=event.position_id, symbol=event.symbol,
                direction=str(event.direction), qty=event.qty, entry_ts=event.ts_event,
                entry_price=event.entry_price, signal_id=event.signal_id,
                evaluation_id=event.evaluation_id,
            )  # fmt: skip
        elif isinstance(event, PositionUpdated):
            updates[event.position_id] = event
    for event in events:
        if isinstance(event, PositionClosed):
            _close(trades, event)
    fee_left = _fees_by_symbol(fills)
    for trade in trades.values():
        if trade.closed:
            fee_left[trade.symbol] = fee_left.get(trade.symbol, ZERO) - trade.fees
    for trade in trades.values():
        if not trade.closed:
            _mark_open(trade, updates.get(trade.position_id), marks, fee_left)
    return sorted(trades.values(), key=lambda t: (t.entry_ts, t.position_id))


def _close(trades: dict[str, Trade], event: PositionClosed) -> None:
    trade = trades.get(event.position_id)
    if trade is None:  # opened before the events we have: the close says enough
        trade = Trade(
            position_id=event.position_id, symbol=event.symbol, direction=str(event.direction),
            qty=event.qty, entry_ts=event.opened_ns, entry_price=event.entry_price,
            signal_id=event.signal_id, evaluation_id=event.evaluation_id,
        )  # fmt: skip
        trades[event.position_id] = trade
    trade.qty, trade.entry_price = event.qty, event.entry_price
    trade.exit_ts, trade.exit_price = event.ts_event, event.exit_price
    trade.exit_reason = event.exit_reason or "external"
    trade.realized_pnl, trade.fees = event.realized_pnl, event.fees


def _mark_open(
    trade: Trade,
    update: PositionUpdated | None,
    marks: dict[str, Decimal],
    fee_left: dict[str, Decimal],
) -> None:
    signed = trade.qty if trade.direction == Direction.LONG else -trade.qty
    if update is not None:
        signed, trade.entry_price = update.qty, update.entry_price
        trade.realized_pnl = update.realized_pnl
        trade.qty = abs(update.qty)
    mark = marks.get(trade.symbol, trade.entry_price)
    trade.unrealized_pnl = (mark - trade.entry_price) * signed
    trade.fees = fee_left.get(trade.symbol, ZERO)


def _fees_by_symbol(fills: Iterable[OrderFill]) -> dict[str, Decimal]:
    fees: dict[str, Decimal] = {}
    for fill in fills:
        fees[fill.symbol] = fees.get(fill.symbol, ZERO) + fill.fees
    return fees


def collect(
    initial_equity: Decimal, events: Sequence[Event], points: Sequence[MarkPoint]
) -> BacktestResult:
    """The result of a run from its events and its marks, checked (``ReconciliationError``)."""
    fills = _fills(events)
    curve = equity_curve(initial_equity, fills, points)
    last_marks = points[-1].marks if points else {}
    evaluations = {e.evaluation_id: e for e in events if isinstance(e, RiskEvaluationCompleted)}
    decisions = {"APPROVED": 0, "MODIFIED": 0, "VETOED": 0}
    vetoes: dict[str, int] = {}
    for evaluation in evaluations.values():
        decisions[evaluation.decision] += 1
        if evaluation.decision == "VETOED":
            vetoes[evaluation.veto_reason] = vetoes.get(evaluation.veto_reason, 0) + 1
    result = BacktestResult(
        initial_equity=initial_equity,
        final_equity=curve[-1][1] if curve else initial_equity,
        fees=sum((fill.fees for fill in fills), ZERO),
        trades=_trades(events, fills, last_marks),
        equity_curve=curve,
        signals=len({e.signal_id for e in events if isinstance(e, SignalIssued)}),
        decisions=decisions,
        vetoes_by_reason=dict(sorted(vetoes.items())),
        kill_switch=[e for e in events if isinstance(e, KillSwitchActivated)],
    )
    check(result)
    return result


def check(result: BacktestResult) -> None:
    """net_pnl must be the positions' realized + unrealized less the fees, to the cent."""
    realized = sum((trade.realized_pnl for trade in result.trades), ZERO)
    unrealized = sum((trade.unrealized_pnl or ZERO for trade in result.trades), ZERO)
    expected = realized + unrealized - result.fees
    if cents(result.net_pnl - expected) != 0:
        raise ReconciliationError(
            f"net_pnl: final_equity - initial_equity = {cents(result.net_pnl)} but realized "
            f"{cents(realized)} + unrealized {cents(unrealized)} - fees {cents(result.fees)} "
            f"= {cents(expected)}"
        )


# --- figures ---------------------------------------------------------------------------------


def max_drawdown_pct(curve: Sequence[tuple[int, Decimal]], initial: Decimal) -> float:
    peak, worst = initial, ZERO
    for _, equity in curve:
        peak = max(peak, equity)
        worst = max(worst, (peak - equity) / peak)
    return round(float(worst * 100), 6)


def daily_sharpe(curve: Sequence[tuple[int, Decimal]], initial: Decimal) -> float | None:
    closes: dict[str, Decimal] = {}
    for ts, equity in curve:
        closes[iso(ts)[:10]] = equity
    returns, previous = [], initial
    for equity in closes.values():
        returns.append(float(equity / previous - 1))
        previous = equity
    if len(returns) < 2 or statistics.stdev(returns) == 0:
        return None
    return round(statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(TRADING_DAYS), 6)


def summary(result: BacktestResult) -> dict[str, Any]:
    closed = [t for t in result.trades if t.closed]
    wins = [t for t in closed if t.realized_pnl - t.fees > 0]
    initial = result.initial_equity
    return {
        "initial_equity": money(initial),
        "final_equity": money(result.final_equity),
        "net_pnl": money(result.net_pnl),
        "fees": money(result.fees),
        "return_pct": round(float(result.net_pnl / initial * 100), 6),
        "max_drawdown_pct": max_drawdown_pct(result.equity_curve, initial),
        "sharpe": daily_sharpe(result.equity_curve, initial),
        "win_rate": round(len(wins) / len(closed), 6) if closed else None,
        "trades": len(result.trades),
        "signals": result.signals,
        "approved": result.decisions["APPROVED"],
        "modified": result.decisions["MODIFIED"],
        "vetoed": result.decisions["VETOED"],
        "kill_switch_activations": len(result.kill_switch),
    }


# --- files -----------------------------------------------------------------------------------


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(cents(value))


def price(value: Decimal | None) -> str | None:
    """A price exactly, with at least two decimals and no trailing zeros past them
    (``20.830000`` -> ``20.83``, ``0.12345`` stays)."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def iso(ts_ns: int) -> str:
    """ISO-8601 in UTC with a Z, nanoseconds shown only when there are any."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{nanos:09d}Z" if nanos else f"{text}Z"


def trade_row(trade: Trade) -> dict[str, Any]:
    return {
        "position_id": trade.position_id, "symbol": trade.symbol,
        "direction": trade.direction, "qty": trade.qty, "entry_ts": iso(trade.entry_ts),
        "entry_price": price(trade.entry_price),
        "exit_ts": None if trade.exit_ts is None else iso(trade.exit_ts),
        "exit_price": price(trade.exit_price),
        "exit_reason": trade.exit_reason, "realized_pnl": money(trade.realized_pnl),
        "unrealized_pnl": money(trade.unrealized_pnl), "fees": money(trade.fees),
        "signal_id": trade.signal_id, "evaluation_id": trade.evaluation_id,
    }  # fmt: skip


def result_document(result: BacktestResult) -> dict[str, Any]:
    return {
        "summary": summary(result),
        "vetoes_by_reason": result.vetoes_by_reason,
        "trades": [trade_row(trade) for trade in result.trades],
        "equity_curve": [[iso(ts), money(equity)] for ts, equity in result.equity_curve],
        "kill_switch": [
            {
                "ts": iso(e.ts_event),
                "trigger": e.trigger,
                "trigger_value": e.trigger_value,
                "threshold": e.threshold,
            }
            for e in result.kill_switch
        ],
    }


_PAIR = re.compile(r'\[\n\s+("[^"\n]*"),\n\s+("[^"\n]*")\n\s+\]')


def result_json(result: BacktestResult) -> str:
    """Indented JSON, each equity point ``[ts, equity]`` on one line."""
    return _PAIR.sub(r"[\1, \2]", json.dumps(result_document(result), indent=2)) + "\n"


def trades_csv(result: BacktestResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for trade in result.trades:
        row = trade_row(trade)
        writer.writerow(["" if row[name] is None else row[name] for name in TRADE_COLUMNS])
    return buffer.getvalue()
