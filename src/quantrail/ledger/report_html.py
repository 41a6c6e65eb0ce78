"""The EOD report as one self-contained HTML file: tables and two inline SVG charts.

No script and nothing fetched from the network (the desk machines may be offline): the charts
are SVG drawn here. Chart 1: gross and net exposure (% of equity) through the day, from the
stored exposure samples. Chart 2: realized P&L net of fees, cumulated fill by fill.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from quantrail.ledger.report import RECONCILE_RULE, EodReport
from quantrail.ledger.report_formats import money_display, report_dict
from quantrail.session.phases import exchange_time

_WIDTH, _HEIGHT = 760, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 30, 40
_NS_PER_MINUTE = 60_000_000_000

_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px;
       color: #1d2733; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccd3db; padding: 3px 9px; text-align: right; font-size: 13px; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef2f6; }
.ok { color: #1b7f3b; font-weight: 600; }
.neg { color: #b42318; }
svg { background: #fbfcfd; border: 1px solid #ccd3db; }
"""


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: (ts_ns, value) points; ``step`` holds each value until the next."""

    label: str
    color: str
    points: Sequence[tuple[int, float]]
    step: bool = False


def report_html(report: EodReport) -> str:
    data = report_dict(report)
    title = f"EOD {report.account} {report.day.isoformat()}"
    parts = [
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>Times in {_e(report.timezone)}. Money in account currency, to the cent.</p>",
        _summary(report, data),
        f"<p class='ok'>Reconciled: {_e(RECONCILE_RULE)} "
        f"({len(report.symbols)} symbols; stored snapshot + stored fills = stored lots).</p>",
        "<h2>Exposure through the day (% of equity)</h2>",
        exposure_chart(report),
        "<h2>Realized P&amp;L through the day (net of fees)</h2>",
        pnl_chart(report),
        "<h2>Positions</h2>",
        _positions(report),
        "<h2>Fills by class</h2>",
        _classes(report),
    ]
    if report.dual:
        parts += ["<h2>Baseline vs intraday</h2>", _dual(report)]
    parts += ["<h2>Mode changes</h2>", _modes(report), "</body></html>\n"]
    return "\n".join(parts)


def exposure_chart(report: EodReport) -> str:
    samples = report.exposure
    gross = [(s.ts_ns, float(s.gross_pct)) for s in samples]
    net = [(s.ts_ns, float(s.net_pct)) for s in samples]
    return line_chart(
        [Series("gross %", "#1f5fbf", gross), Series("net %", "#d97706", net)],
        report.timezone,
        unit="%",
        empty="no exposure samples stored for this day",
        limits=[(label, float(pct)) for label, pct in report.limits],
    )


def pnl_chart(report: EodReport) -> str:
    points = [(p.ts_ns, float(p.cumulative_net)) for p in report.pnl_points]
    return line_chart(
        [Series("cumulative realized P&L", "#1b7f3b", points, step=True)],
        report.timezone,
        unit="",
        empty="no fills this day",
    )


def line_chart(
    series: Sequence[Series],
    timezone: str,
    *,
    unit: str,
    empty: str,
    limits: Sequence[tuple[str, float]] = (),
) -> str:
    """An SVG line chart of ``series`` against exchange-local time; a note when empty.
    ``limits`` are dashed horizontal lines, labelled (the risk rules' gross limits)."""
    points = [point for line in series for point in line.points]
    head = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{_WIDTH}' height='{_HEIGHT}' "
            f"viewBox='0 0 {_WIDTH} {_HEIGHT}' role='img'>")  # fmt: skip
    if not points:
        note = f"<text x='{_WIDTH // 2}' y='{_HEIGHT // 2}' text-anchor='middle'>{_e(empty)}</text>"
        return f"{head}{note}</svg>"
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    if x1 - x0 < _NS_PER_MINUTE:  # one instant: widen so the point sits mid-chart
        x0, x1 = x0 - _NS_PER_MINUTE, x1 + _NS_PER_MINUTE
    values = [p[1] for p in points] + [value for _, value in limits]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    frame = _Frame(x0, x1, ticks[0], ticks[-1])
    body = [_axes(frame, ticks, timezone, unit)]
    body += [_limit_line(frame, label, value, unit) for label, value in limits]
    for index, line in enumerate(series):
        body.append(_polyline(frame, line))
        body.append(_legend(index, line))
    return head + "".join(body) + "</svg>"


@dataclass(frozen=True, slots=True)
class _Frame:
    x0: int
    x1: int
    y0: float
    y1: float

    def x(self, ts_ns: int) -> float:
        return _LEFT + (ts_ns - self.x0) / (self.x1 - self.x0) * (_WIDTH - _LEFT - _RIGHT)

    def y(self, value: float) -> float:
        span = _HEIGHT - _TOP - _BOTTOM
        return _TOP + (self.y1 - value) / (self.y1 - self.y0) * span


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round axis values (steps of 1, 2, 2.5 or 5 x 10^k) covering ``[low, high]``."""
    if high - low < 1e-9:
        high = low + 1.0
    raw = (high - low) / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    return [first + i * step for i in range(round((last - first) / step) + 1)]


def _axes(frame: _Frame, ticks: list[float], timezone: str, unit: str) -> str:
    out = []
    for value in ticks:
        y = frame.y(value)
        out.append(f"<line x1='{_LEFT}' y1='{y:.1f}' x2='{_WIDTH - _RIGHT}' y2='{y:.1f}' "
                   f"stroke='#e3e8ee'/>")  # fmt: skip
        out.append(f"<text x='{_LEFT - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11'>"
                   f"{value:,.2f}{_e(unit)}</text>")  # fmt: skip
    for i in range(5):
        ts = frame.x0 + (frame.x1 - frame.x0) * i // 4
        label = exchange_time(ts, timezone).strftime("%H:%M")
        out.append(f"<text x='{frame.x(ts):.1f}' y='{_HEIGHT - _BOTTOM + 16}' "
                   f"text-anchor='middle' font-size='11'>{label}</text>")  # fmt: skip
    if frame.y0 < 0 < frame.y1:
        y = frame.y(0.0)
        out.append(f"<line x1='{_LEFT}' y1='{y:.1f}' x2='{_WIDTH - _RIGHT}' y2='{y:.1f}' "
                   f"stroke='#8a96a3'/>")  # fmt: skip
    return "".join(out)


def _limit_line(frame: _Frame, label: str, value: float, unit: str) -> str:
    y = frame.y(value)
    return (f"<line x1='{_LEFT}' y1='{y:.1f}' x2='{_WIDTH - _RIGHT}' y2='{y:.1f}' "
            f"stroke='#b42318' stroke-dasharray='6 4'/>"
            f"<text x='{_WIDTH - _RIGHT - 4}' y='{y - 4:.1f}' text-anchor='end' font-size='11' "
            f"fill='#b42318'>{_e(label)} {value:g}{_e(unit)}</text>")  # fmt: skip


def _polyline(frame: _Frame, line: Series) -> str:
    coords: list[tuple[float, float]] = []
    for index, (ts, value) in enumerate(line.points):
        if line.step and index > 0:
            coords.append((frame.x(ts), coords[-1][1]))  # hold the last value until this fill
        coords.append((frame.x(ts), frame.y(value)))
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='{line.color}'/>"
                   for x, y in coords[:: 2 if line.step else 1])  # fmt: skip
    return (f"<polyline points='{text}' fill='none' stroke='{line.color}' "
            f"stroke-width='2'/>{dots}")  # fmt: skip


def _legend(index: int, line: Series) -> str:
    x = _LEFT + 10 + index * 170
    return (f"<rect x='{x}' y='8' width='12' height='12' fill='{line.color}'/>"
            f"<text x='{x + 18}' y='18' font-size='12'>{_e(line.label)}</text>")  # fmt: skip


def _summary(report: EodReport, data: dict[str, object]) -> str:
    figures = (
        ("realized intraday P&L", report.realized_intraday),
        ("baseline realized P&L", report.baseline_realized),
        ("fees", report.fees),
        ("net realized P&L", report.net_realized),
        ("unrealized baseline P&L", report.unrealized_baseline),
        ("unrealized intraday P&L", report.unrealized_intraday),
        ("unrealized P&L", report.unrealized),
        ("total P&L", report.total_pnl),
    )
    rows = [(name, money_display(value)) for name, value in figures]
    rows.append(("fills", f"{data['fill_count']:,}"))
    return _table(["figure", "value"], rows)


def _positions(report: EodReport) -> str:
    rows = [(line.symbol, f"{line.start:,}", f"{line.filled:,}", f"{line.end:,}",
             f"{line.mark.price:,}", line.mark.source.value)
            for line in report.symbols]  # fmt: skip
    return _table(["symbol", "start", "fills", "end", "mark", "mark from"], rows)


def _classes(report: EodReport) -> str:
    rows = [(name, f"{f.count:,}", f"{f.shares:,}", money_display(f.notional),
             money_display(f.fees)) for name, f in report.by_class.items()]  # fmt: skip
    return _table(["class", "count", "shares", "notional", "fees"], rows)


def _dual(report: EodReport) -> str:
    head = ["symbol", "start", "prior close", "baseline closed", "baseline realized",
            "baseline open", "baseline unrealized", "bought", "sold", "intraday realized",
            "intraday open", "intraday unrealized"]  # fmt: skip
    rows = [(line.symbol, f"{line.start:,}", line.prior_close or "", f"{line.baseline_closed:,}",
             money_display(line.baseline_realized), f"{line.baseline_open:,}",
             money_display(line.unrealized_baseline), f"{line.bought:,}", f"{line.sold:,}",
             money_display(line.realized_intraday), f"{line.intraday_open:,}",
             money_display(line.unrealized_intraday)) for line in report.symbols]  # fmt: skip
    return _table(head, rows)


def _modes(report: EodReport) -> str:
    if not report.mode_changes:
        return "<p>No mode changes stored for this day.</p>"
    rows = [(exchange_time(change.ts_ns, report.timezone).strftime("%H:%M:%S"),
             change.mode.value, change.reason, change.account or "all")
            for change in report.mode_changes]  # fmt: skip
    return _table(["time", "mode", "reason", "account"], rows)


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    header = "".join(f"<th>{_e(str(cell))}</th>" for cell in head)
    body = "".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    text = str(value)
    negative = text.startswith("-") and text[1:2].isdigit()
    return f"<td class='neg'>{_e(text)}</td>" if negative else f"<td>{_e(text)}</td>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
