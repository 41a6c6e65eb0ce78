"""``report.html``: a backtest's charts, drawn with Plotly, opening offline.

One page: the summary figures; the equity curve with its drawdown below it and the kill switch
moments marked; a price chart per symbol (the bars' closes) with entries (triangles, up for a
long, down for a short) and exits (crosses); vetoes by reason. plotly.js is embedded once, in
the page, so the file needs no network. Every chart gets a fixed div id, so the same result
gives the same bytes.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quantrail.backtest.bars import Bar
from quantrail.backtest.result import BacktestResult, Trade, summary

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;margin:12px 0}"
    "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "th{background:#f4f4f4}h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
)


GAP_NS = 30 * 60 * 1_000_000_000
"""A pause in the data longer than this (a night, a weekend) is cut out of the time axes."""


def _time(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC)


def _hide_gaps(figure: Any, times_ns: Sequence[int]) -> None:
    """Cut the nights and weekends out of the time axis (a rangebreak per gap in the data)."""
    ordered = sorted(set(times_ns))
    gaps = [
        {"bounds": [_time(before), _time(after)]}
        for before, after in itertools.pairwise(ordered)
        if after - before > GAP_NS
    ]
    if gaps:
        figure.update_xaxes(rangebreaks=gaps)


def equity_figure(result: BacktestResult) -> Any:
    from plotly.subplots import make_subplots

    times = [_time(ts) for ts, _ in result.equity_curve]
    equity = [float(value) for _, value in result.equity_curve]
    drawdown, peak = [], float(result.initial_equity)
    for value in equity:
        peak = max(peak, value)
        drawdown.append(round((value - peak) / peak * 100, 6))
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3])
    figure.add_scatter(x=times, y=equity, name="equity", mode="lines", row=1, col=1)
    figure.add_scatter(
        x=times, y=drawdown, name="drawdown %", mode="lines", fill="tozeroy", row=2, col=1
    )
    for event in result.kill_switch:
        figure.add_vline(x=_time(event.ts_event), line_color="red", line_dash="dash")
    if result.kill_switch:
        figure.add_scatter(
            x=[_time(e.ts_event) for e in result.kill_switch],
            y=[_equity_at(result, e.ts_event) for e in result.kill_switch],
            mode="markers", marker={"color": "red", "size": 12, "symbol": "x"},
            name="kill switch", text=[e.trigger for e in result.kill_switch], row=1, col=1,
        )  # fmt: skip
    _hide_gaps(figure, [ts for ts, _ in result.equity_curve])
    figure.update_layout(title="Equity and drawdown", height=520)
    figure.update_yaxes(title_text="equity", row=1, col=1)
    figure.update_yaxes(title_text="drawdown %", row=2, col=1)
    return figure


def _equity_at(result: BacktestResult, ts_ns: int) -> float:
    before = [value for ts, value in result.equity_curve if ts <= ts_ns]
    return float(before[-1] if before else result.initial_equity)


def price_figure(symbol: str, bars: Sequence[Bar], trades: Sequence[Trade]) -> Any:
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_scatter(
        x=[_time(bar.start_ns) for bar in bars], y=[float(bar.close) for bar in bars],
        mode="lines", name=f"{symbol} close",
    )  # fmt: skip
    for direction, marker in (("LONG", "triangle-up"), ("SHORT", "triangle-down")):
        entries = [t for t in trades if t.direction == direction]
        if entries:
            figure.add_scatter(
                x=[_time(t.entry_ts) for t in entries], y=[float(t.entry_price) for t in entries],
                mode="markers", name=f"{direction.lower()} entry",
                marker={"symbol": marker, "size": 11, "color": "green"},
                text=[t.position_id for t in entries],
            )  # fmt: skip
    exits = [t for t in trades if t.exit_ts is not None and t.exit_price is not None]
    if exits:
        figure.add_scatter(
            x=[_time(t.exit_ts or 0) for t in exits],
            y=[float(t.exit_price or 0) for t in exits], mode="markers", name="exit",
            marker={"symbol": "x", "size": 10, "color": "black"},
            text=[f"{t.exit_reason}: {t.realized_pnl}" for t in exits],
        )  # fmt: skip
    _hide_gaps(figure, [bar.start_ns for bar in bars])
    figure.update_layout(title=f"{symbol}: entries and exits", height=380)
    return figure


def vetoes_figure(vetoes: dict[str, int]) -> Any:
    import plotly.graph_objects as go

    figure = go.Figure(go.Bar(x=list(vetoes), y=list(vetoes.values()), name="vetoes"))
    figure.update_layout(title="Vetoes by reason", height=320)
    return figure


def render_report(result: BacktestResult, bars: Sequence[Bar], title: str = "Backtest") -> str:
    """The whole page as text."""
    by_symbol: dict[str, list[Bar]] = {}
    for bar in bars:
        by_symbol.setdefault(bar.symbol, []).append(bar)
    figures: list[tuple[str, Any]] = [("equity", equity_figure(result))]
    for symbol in sorted(by_symbol):
        trades = [t for t in result.trades if t.symbol == symbol]
        figures.append((f"price-{symbol}", price_figure(symbol, by_symbol[symbol], trades)))
    figures.append(("vetoes", vetoes_figure(result.vetoes_by_reason)))
    charts = [
        figure.to_html(
            full_html=False,
            include_plotlyjs=index == 0,
            div_id=f"chart-{name}",
            config={"responsive": True},
        )
        for index, (name, figure) in enumerate(figures)
    ]
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
        f"{_summary_table(result)}\n{_kill_table(result)}\n"
        + "\n".join(charts)
        + "\n</body></html>\n"
    )


def _summary_table(result: BacktestResult) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(_cell(value))}</td></tr>"
        for key, value in summary(result).items()
    )
    return f"<table>{rows}</table>"


def _kill_table(result: BacktestResult) -> str:
    if not result.kill_switch:
        return "<p>Kill switch: not activated.</p>"
    rows = "".join(
        f"<tr><td>{_time(e.ts_event).isoformat()}</td><td>{html.escape(e.trigger)}</td>"
        f"<td>{e.trigger_value}</td><td>{e.threshold}</td></tr>"
        for e in result.kill_switch
    )
    header = "<tr><th>time</th><th>trigger</th><th>value</th><th>threshold</th></tr>"
    return f"<h2>Kill switch</h2><table>{header}{rows}</table>"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return str(value) if not isinstance(value, Decimal) else f"{value:,}"
