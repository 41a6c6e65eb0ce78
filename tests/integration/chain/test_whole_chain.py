"""The whole trading chain on both transports, driven by a scripted advisory.

advisory -> risk evaluation (MODIFIED by the 25 % position cap) -> sized request -> order ->
fill -> position opened -> the market falls through the stop -> exit.stop.triggered ->
reduce-only exit -> fill -> position closed, with the realized P&L worked out by hand.

By hand: equity 100,000, risk 1 % = 1,000; entry 25.00 (the last print), stop 24.50: 0.50 a
share, so 2,000 shares; 2,000 x 25.00 = 50,000 is over 25 % of equity (25,000): cut to 1,000
shares, MODIFIED. The buy fills at the ask, 25.01; the market drops to 24.40/24.42 (print
24.41, through the stop), the exit sells at the bid, 24.40. Realized: (24.40 - 25.01) x 1,000
= -610.00; fees 2 x 1,000 x 0.0035 = 7.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from kit.event_base import ACCOUNT
from kit.market_events import quote, trade_print
from kit.strategy_chain import script
from quantrail.bus.bus import EventBus
from quantrail.config import Config, config_from_mapping
from quantrail.events import (
    OrderFilled,
    PositionClosed,
    PositionOpened,
    RiskEvaluationCompleted,
    SignalIssued,
    StopTriggered,
    SubmitOrder,
)
from quantrail.ops.services import build_services
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.runtime.simulation import Simulation

START = dt.datetime(2026, 11, 20, 14, 35, tzinfo=dt.UTC)  # 09:35 New York
START_NS = int(START.timestamp()) * NS_PER_SECOND
CHAIN = ["candles", "signals", "risk_kernel", "sizer", "execution", "positions", "exit_brain"]


def _config(tmp_path: Path) -> Config:
    row_ts = (START + dt.timedelta(seconds=90)).isoformat()
    path = script(tmp_path / "signals.csv", [f"{row_ts},ACME,LONG,80,0.8,24.50,breakout seen"])
    return config_from_mapping({
        "strategy": {"name": "scripted", "params": {"path": str(path)}, "account": ACCOUNT},
        "risk": {"accounts": [{"name": ACCOUNT, "equity": "100000"}]},
        "liquidity": {"min_interval_s": 0},
        "execution": {"latency_ms": 20},
        "positions": {"update_interval_s": 1},
        "db": {"url": f"sqlite:///{tmp_path / 'ledger.sqlite'}"},
    })  # fmt: skip


def _market(ts_ns: int, bid: str, ask: str, last: str) -> list[object]:
    return [
        quote(symbol="ACME", bid=bid, ask=ask, bid_size=5000, ask_size=5000, ts_event=ts_ns),
        trade_print(symbol="ACME", price=last, size=500, ts_event=ts_ns),
    ]


async def test_a_scripted_advisory_trades_to_a_stop_exit_with_the_pnl_by_hand(
    bus: EventBus, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    clock = SimulatedClock(START_NS)
    services = build_services(config, bus, clock, CHAIN)
    sim = await Simulation(bus, clock, services, config).start()
    try:
        await sim.publish(*_market(clock.now_ns(), "24.99", "25.01", "25.00"))  # type: ignore[arg-type]
        await sim.advance(120, step=1)  # the scripted row comes due at +90 s
        fills = await sim.events(OrderFilled)
        assert [(f.side.value, f.last_qty, f.last_price) for f in fills] == [
            ("BUY", 1000, Decimal("25.01"))
        ]
        await sim.publish(*_market(clock.now_ns(), "24.40", "24.42", "24.41"))  # type: ignore[arg-type]
        await sim.advance(30, step=1)

        signal = (await sim.events(SignalIssued))[0]
        evaluation = (await sim.events(RiskEvaluationCompleted))[0]
        request = (await sim.events(SubmitOrder))[0]
        assert evaluation.decision == "MODIFIED" and evaluation.signal_id == signal.signal_id
        assert evaluation.approved_qty == 1000 and evaluation.requested_qty == 2000
        assert (request.evaluation_id, request.qty) == (evaluation.evaluation_id, 1000)
        opened = (await sim.events(PositionOpened))[0]
        assert (opened.qty, opened.entry_price, opened.stop_loss) == (
            1000, Decimal("25.01"), Decimal("24.50"),
        )  # fmt: skip
        assert (await sim.events(StopTriggered))[0].position_id == opened.position_id
        closed = (await sim.events(PositionClosed))[0]
        fills = await sim.events(OrderFilled)
        assert [(f.side.value, f.last_qty, f.last_price) for f in fills] == [
            ("BUY", 1000, Decimal("25.01")), ("SELL", 1000, Decimal("24.40")),
        ]  # fmt: skip
        assert closed.position_id == opened.position_id and closed.exit_reason == "stop"
        assert closed.realized_pnl == Decimal("-610.00")
        assert closed.fees == Decimal("7.00")
        # One chain: every step carries the signal's correlation id.
        chain = {signal.correlation_id, evaluation.correlation_id, request.correlation_id,
                 opened.correlation_id, closed.correlation_id}  # fmt: skip
        assert chain == {signal.signal_id}
    finally:
        await sim.stop()
