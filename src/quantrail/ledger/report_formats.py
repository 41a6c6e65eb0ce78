"""The EOD report as JSON and as CSV. Money is a decimal string rounded to the cent.

JSON: one object (keys below, in this order). CSV: one long table ``section,key,field,value``
(``summary,,fees,1.75``; ``class,LT_LONG_INCREASE,shares,600``; ``position,XYZ,end,500``;
``pnl,<time>,cumulative_net_pnl,78.25``; ``mode_change,<time>,mode,SOFT_DERISK``), so a
spreadsheet or a script reads any figure without knowing the layout. Machine formats keep plain
numbers; the HTML adds thousands separators.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal

from quantrail.ledger.journal import ExposureSample
from quantrail.ledger.report import RECONCILE_RULE, EodReport, SymbolLine
from quantrail.money import cents
from quantrail.session.phases import format_exchange_time

_PCT = Decimal("0.01")


def money_text(value: Decimal) -> str:
    """A money figure to the cent, as a string; never ``-0.00``."""
    rounded = cents(value)
    return str(rounded.copy_abs() if rounded == 0 else rounded)


def money_display(value: Decimal) -> str:
    """A money figure to the cent with thousands separators, for people (HTML, the terminal)."""
    rounded = cents(value)
    return f"{rounded.copy_abs() if rounded == 0 else rounded:,}"


def pct_text(value: Decimal) -> str:
    rounded = value.quantize(_PCT)
    return str(rounded.copy_abs() if rounded == 0 else rounded)


def report_dict(report: EodReport) -> dict[str, object]:
    """The report as plain JSON-ready data."""
    out: dict[str, object] = {
        "account": report.account,
        "date": report.day.isoformat(),
        "timezone": report.timezone,
        "fill_count": report.fill_count,
        "realized_intraday_pnl": money_text(report.realized_intraday),
        "baseline_realized_pnl": money_text(report.baseline_realized),
        "fees": money_text(report.fees),
        "net_realized_pnl": money_text(report.net_realized),
        "unrealized_pnl": money_text(report.unrealized),
        "unrealized_baseline_pnl": money_text(report.unrealized_baseline),
        "unrealized_intraday_pnl": money_text(report.unrealized_intraday),
        "total_pnl": money_text(report.total_pnl),
        "by_class": {
            name: {
                "count": figures.count,
                "shares": figures.shares,
                "notional": money_text(figures.notional),
                "fees": money_text(figures.fees),
            }
            for name, figures in report.by_class.items()
        },
        "positions_start": report.positions_start,
        "fills_net": report.fills_net,
        "positions_end": report.positions_end,
        "reconciliation": {"rule": RECONCILE_RULE, "ok": True, "symbols": len(report.symbols)},
        "marks": {
            line.symbol: {"price": str(line.mark.price), "source": line.mark.source.value}
            for line in report.symbols
        },
        "exposure_close": _exposure(report, report.exposure_close),
        "exposure_through_day": [_exposure(report, sample) for sample in report.exposure],
        "pnl_through_day": [
            {
                "ts_ns": point.ts_ns,
                "time": _time(report, point.ts_ns),
                "fill_id": point.fill_id,
                "cumulative_net_pnl": money_text(point.cumulative_net),
            }
            for point in report.pnl_points
        ],
        "mode_changes": [
            {
                "ts_ns": change.ts_ns,
                "time": _time(report, change.ts_ns),
                "mode": change.mode.value,
                "reason": change.reason,
                "account": change.account,
            }
            for change in report.mode_changes
        ],
    }
    if report.dual:
        out["dual"] = {line.symbol: _sides(line) for line in report.symbols}
    return out


def report_json(report: EodReport) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"


def report_csv(report: EodReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "key", "field", "value"])
    writer.writerows(_csv_rows(report))
    return buffer.getvalue()


def _csv_rows(report: EodReport) -> Iterator[list[object]]:
    data = report_dict(report)
    for name in ("account", "date", "fill_count", "realized_intraday_pnl", "baseline_realized_pnl",
                 "fees", "net_realized_pnl", "unrealized_pnl", "unrealized_baseline_pnl",
                 "unrealized_intraday_pnl", "total_pnl"):  # fmt: skip
        yield ["summary", "", name, data[name]]
    yield ["summary", "", "reconciliation", f"ok: {RECONCILE_RULE}"]
    for name, figures in report.by_class.items():
        yield ["class", name, "count", figures.count]
        yield ["class", name, "shares", figures.shares]
        yield ["class", name, "notional", money_text(figures.notional)]
        yield ["class", name, "fees", money_text(figures.fees)]
    for line in report.symbols:
        yield ["position", line.symbol, "start", line.start]
        yield ["position", line.symbol, "fills", line.filled]
        yield ["position", line.symbol, "end", line.end]
        yield ["position", line.symbol, "mark", str(line.mark.price)]
        yield ["position", line.symbol, "mark_source", line.mark.source.value]
    close = data["exposure_close"]
    if isinstance(close, dict):
        yield from (["exposure_close", "", field, value] for field, value in close.items())
    for point in report.pnl_points:
        when = _time(report, point.ts_ns)
        yield ["pnl", when, "fill_id", point.fill_id]
        yield ["pnl", when, "cumulative_net_pnl", money_text(point.cumulative_net)]
    for change in report.mode_changes:
        when = _time(report, change.ts_ns)
        yield ["mode_change", when, "mode", change.mode.value]
        yield ["mode_change", when, "reason", change.reason]
        yield ["mode_change", when, "account", change.account or "all"]
    if report.dual:
        for line in report.symbols:
            for side, numbers in _sides(line).items():
                for name, value in numbers.items():
                    yield [side, line.symbol, name, value]


def _sides(line: SymbolLine) -> dict[str, dict[str, object]]:
    """One symbol's baseline and intraday ledgers side by side."""
    prior = str(line.prior_close) if line.prior_close is not None else None
    return {
        "baseline": {
            "start": line.start,
            "prior_close": prior,
            "closed": line.baseline_closed,
            "realized_pnl": money_text(line.baseline_realized),
            "open": line.baseline_open,
            "unrealized_pnl": money_text(line.unrealized_baseline),
        },
        "intraday": {
            "bought": line.bought,
            "sold": line.sold,
            "realized_pnl": money_text(line.realized_intraday),
            "fees": money_text(line.fees),
            "open": line.intraday_open,
            "unrealized_pnl": money_text(line.unrealized_intraday),
        },
    }


def _exposure(report: EodReport, sample: ExposureSample | None) -> dict[str, object] | None:
    if sample is None:
        return None
    return {
        "ts_ns": sample.ts_ns,
        "time": _time(report, sample.ts_ns),
        "equity": money_text(sample.equity),
        "long_notional": money_text(sample.long_notional),
        "short_notional": money_text(sample.short_notional),
        "gross_pct": pct_text(sample.gross_pct),
        "net_pct": pct_text(sample.net_pct),
    }


def _time(report: EodReport, ts_ns: int) -> str:
    return format_exchange_time(ts_ns, report.timezone)
