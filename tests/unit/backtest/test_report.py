from __future__ import annotations

from decimal import Decimal

from kit.backtest import MINUTE_NS, bar
from kit.event_base import T0
from kit.order_events import order_filled
from kit.position_events import position_closed, position_opened
from kit.risk_events import kill_switch_activated, risk_evaluation
from quantrail.backtest.report import render_report
from quantrail.backtest.result import MarkPoint, collect


def _page() -> str:
    events = [
        order_filled(fill_id="f1", ts_event=T0 + 1),
        position_opened(position_id="pos-1", ts_event=T0 + 1),
        order_filled(fill_id="f2", side="SELL", price="25.26", ts_event=T0 + MINUTE_NS),
        position_closed(position_id="pos-1", ts_event=T0 + MINUTE_NS),
        risk_evaluation("VETOED", evaluation_id="e1", veto_reason="NO_STOP"),
        kill_switch_activated(ts_event=T0 + MINUTE_NS),
    ]
    bars = [bar(symbol="ACME", start_ns=T0 + i * MINUTE_NS, open=Decimal("25.01"),
                high=Decimal("25.4"), low=Decimal("25.0"), close=Decimal("25.3"))
            for i in range(3)]  # fmt: skip
    points = [MarkPoint(b.end_ns, {"ACME": b.close}) for b in bars]
    return render_report(collect(Decimal("100000"), events, points), bars)


def test_report_embeds_plotly_and_every_chart() -> None:
    page = _page()
    assert page.startswith("<!DOCTYPE html>") and page.count("Plotly.newPlot") == 3
    for chart in ("chart-equity", "chart-price-ACME", "chart-vetoes"):
        assert f'id="{chart}"' in page
    assert "<script src=" not in page and "plotly.js v" in page  # inline, offline
    assert "NO_STOP" in page and "daily_loss_exceeded" in page and "25.0" in page


def test_report_is_the_same_bytes_every_time() -> None:
    assert _page() == _page()
