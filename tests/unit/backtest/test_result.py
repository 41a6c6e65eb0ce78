from __future__ import annotations

import json
from decimal import Decimal

import pytest

from kit.event_base import T0
from kit.order_events import order_filled
from kit.position_events import position_closed, position_opened, position_updated
from kit.risk_events import kill_switch_activated, risk_evaluation
from kit.strategy_events import signal_issued
from quantrail.backtest.result import (
    MarkPoint,
    ReconciliationError,
    collect,
    daily_sharpe,
    iso,
    max_drawdown_pct,
    price,
    result_json,
    trades_csv,
)
from quantrail.events import Event
from quantrail.vocab import Side

D = Decimal
DAY_NS = 86_400 * 1_000_000_000


def _round_trip_and_open() -> list[Event]:
    """ACME bought at 25.01 and sold at 25.26 (+25.00, fees 2.00); 100 XYZ bought at 10.00
    (fee 1.00) still open."""
    fill = {"fees": D("1.00")}
    return [
        order_filled(fill_id="f1", ts_event=T0 + 1, **fill),
        position_opened(position_id="pos-1", ts_event=T0 + 1, signal_id="sig-1",
                        evaluation_id="eval:sig-1"),
        order_filled(fill_id="f2", side=Side.SELL, price="25.26", ts_event=T0 + 2, **fill),
        position_closed(position_id="pos-1", ts_event=T0 + 2, fees=D("2.00")),
        order_filled(fill_id="f3", symbol="XYZ", price="10.00", ts_event=T0 + 3, **fill),
        order_filled(fill_id="f3", symbol="XYZ", price="10.00", ts_event=T0 + 3, **fill),
        position_opened(position_id="pos-2", symbol="XYZ", entry_price="10.00", ts_event=T0 + 3),
    ]  # fmt: skip


MARKS = [MarkPoint(T0 + 10, {"ACME": D("25.30"), "XYZ": D("10.50")})]


def test_realized_and_open_position_marked_by_hand() -> None:
    result = collect(D("100000"), _round_trip_and_open(), MARKS)
    # cash 100000 - 2501 - 1 + 2526 - 1 - 1000 - 1 = 99022, plus 100 XYZ at 10.50
    assert result.final_equity == D("100072.00") and result.net_pnl == D("72.00")
    assert result.fees == D("3.00")
    closed, still_open = result.trades
    assert (closed.exit_reason, closed.realized_pnl, closed.fees) == ("target", D("25.00"), 2)
    assert closed.signal_id == "sig-1" and closed.evaluation_id == "eval:sig-1"
    assert still_open.exit_ts is None and still_open.exit_price is None
    assert (still_open.unrealized_pnl, still_open.fees) == (D("50.00"), D("1.00"))


def test_open_position_takes_its_last_update() -> None:
    events = [
        order_filled(fill_id="f1", qty=200, ts_event=T0, fees=D("1.00")),
        position_opened(position_id="pos-1", qty=200, ts_event=T0),
        order_filled(fill_id="f2", side=Side.SELL, price="25.51", ts_event=T0 + 1, fees=D("1.00")),
        position_updated(qty=100, position_id="pos-1", realized_pnl="50.00", ts_event=T0 + 1),
    ]  # fmt: skip
    result = collect(D("100000"), events, [MarkPoint(T0 + 5, {"ACME": D("25.11")})])
    (trade,) = result.trades
    assert (trade.qty, trade.realized_pnl, trade.unrealized_pnl) == (100, 50, D("10.00"))
    assert result.net_pnl == D("58.00")  # 50 + 10 - 2


def test_net_pnl_that_does_not_reconcile_is_refused() -> None:
    events = _round_trip_and_open()
    events[3] = position_closed(position_id="pos-1", ts_event=T0 + 2, fees=D("2.00"),
                                realized_pnl="26.00")  # fmt: skip
    with pytest.raises(ReconciliationError, match=r"net_pnl: .* = 72.00 but .* = 73.00"):
        collect(D("100000"), events, MARKS)


def test_counts_decisions_vetoes_signals_and_kill_switch() -> None:
    events: list[Event] = [
        signal_issued(signal_id="s1"), signal_issued(signal_id="s2"),
        signal_issued(signal_id="s3"),
        risk_evaluation(evaluation_id="e1"),
        risk_evaluation("MODIFIED", evaluation_id="e2"),
        risk_evaluation("VETOED", evaluation_id="e3", veto_reason="NO_STOP"),
        risk_evaluation("VETOED", evaluation_id="e3", veto_reason="NO_STOP"),  # redelivered
        kill_switch_activated(ts_event=T0 + 5),
    ]  # fmt: skip
    document = json.loads(result_json(collect(D("1000"), events, MARKS)))
    summary = document["summary"]
    assert (summary["signals"], summary["approved"], summary["modified"]) == (3, 1, 1)
    assert summary["vetoed"] == 1 and document["vetoes_by_reason"] == {"NO_STOP": 1}
    assert summary["kill_switch_activations"] == 1
    assert document["kill_switch"] == [
        {"ts": iso(T0 + 5), "trigger": "daily_loss_exceeded", "trigger_value": -5.2,
         "threshold": -5.0}
    ]  # fmt: skip
    assert summary["final_equity"] == "1000.00" and summary["sharpe"] is None


def test_json_and_csv_are_exact_and_stable() -> None:
    result = collect(D("100000"), _round_trip_and_open(), MARKS)
    text = result_json(result)
    assert text == result_json(collect(D("100000"), _round_trip_and_open(), MARKS))
    document = json.loads(text)
    assert document["summary"]["net_pnl"] == "72.00" and document["summary"]["win_rate"] == 1.0
    assert document["equity_curve"] == [[iso(T0 + 10), "100072.00"]]
    assert f'    ["{iso(T0 + 10)}", "100072.00"]\n' in text  # one line per point
    opened = document["trades"][1]
    assert opened["exit_ts"] is None and opened["unrealized_pnl"] == "50.00"
    assert opened["entry_ts"].endswith("Z")
    lines = trades_csv(result).splitlines()
    assert lines[0].startswith("position_id,symbol,direction,qty,entry_ts")
    assert lines[2].split(",")[6:9] == ["", "", ""]


def test_drawdown_and_daily_sharpe() -> None:
    curve = [(T0, D("110")), (T0 + 1, D("99")), (T0 + DAY_NS, D("104.5"))]
    assert max_drawdown_pct(curve, D("100")) == 10.0
    # daily returns -1% then +5.5556%: mean 0.022778 / stdev 0.046355 * sqrt(252)
    sharpe = daily_sharpe(curve, D("100"))
    assert sharpe is not None and round(sharpe, 3) == 7.800


def test_prices_exact_with_two_decimals_at_least() -> None:
    assert [price(D(t)) for t in ("20.830000", "20", "0.12345", "1E+1")] == [
        "20.83", "20.00", "0.12345", "10.00",
    ]  # fmt: skip
    assert price(None) is None


def test_iso_times() -> None:
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1_500_000_001) == "1970-01-01T00:00:01.500000001Z"
