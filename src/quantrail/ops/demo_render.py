"""The demo day on the terminal: mode changes, orders and fills, exposure, P&L, the checks.

Every money figure carries its currency and thousands separators; every exposure figure says
when it was measured (a mode change's gross is the one that triggered it, the close's is the
last snapshot before the bell, so the two may differ by the market's drift in between).
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from quantrail.ops.demo_day import ACCOUNT, DemoSummary
from quantrail.ops.demo_strategy import STRATEGY_ACCOUNT, StrategySummary
from quantrail.session.phases import exchange_time

NEW_YORK = "America/New_York"


def render_day(console: Console, summary: DemoSummary) -> None:
    console.print(_modes(summary))
    console.print(_orders(summary))
    console.print(_exposure_line("open", summary.open_gross_pct, summary.open_ts_ns))
    console.print(_exposure_line("close", summary.close_gross_pct, summary.close_ts_ns))
    _pnl(console, summary)
    ok, no = "[green]yes[/green]", "[red]no[/red]"
    console.print(f"at or under 100% at the close: {ok if summary.flat_enough else no}")
    accounted = ok if summary.accounted else f"{no}: {', '.join(summary.unaccounted[:5])}"
    console.print(f"every de-risk intent accounted for: {accounted}")
    _strategy(console, summary.strategy)


def _modes(summary: DemoSummary) -> Table:
    modes = Table(title=f"mode changes on {summary.day} ({ACCOUNT})")
    # No "from" column: the row above says it, and 80 columns then fit every mode and reason.
    for column in ("New York", "mode", "reason", "gross % then"):
        modes.add_column(column, no_wrap=True)
    for change in summary.mode_changes:
        gross = change.inputs.get("gross_pct", "")
        modes.add_row(
            _clock(change.ts_event), change.mode.value, change.reason,
            f"{float(gross):.2f}" if gross else "-",
        )  # fmt: skip
    return modes


def _orders(summary: DemoSummary) -> Table:
    orders = Table(title="orders and fills")
    orders.add_column("what")
    orders.add_column("count", justify="right")
    orders.add_row("de-risk intents", f"{summary.intents:,}")
    for status, count in sorted(summary.order_status.items()):
        orders.add_row(f"  orders ending {status}", f"{count:,}")
    with_fills = ", ".join(
        f"{n:,} {status}" for status, n in sorted(summary.orders_with_fills.items())
    )
    orders.add_row(f"  orders with a fill ({with_fills or 'none'})",
                   f"{sum(summary.orders_with_fills.values()):,}")  # fmt: skip
    orders.add_row("fills (an order can fill in parts)", f"{summary.fills:,}")
    return orders


def _exposure_line(when: str, gross: float | None, ts_ns: int | None) -> str:
    if gross is None or ts_ns is None:
        return f"gross exposure at the {when}: no snapshot"
    return f"gross exposure at the {when} ({_clock(ts_ns)} New York): {gross:.2f}%"


def _pnl(console: Console, summary: DemoSummary) -> None:
    pnl, cur = summary.pnl, summary.currency
    console.print(f"fees {_money(cur, summary.fees)}")
    if pnl is None:
        return
    console.print(
        f"de-risking P&L: sales against the prior close {_money(cur, pnl.baseline_realized)}, "
        f"same-day round trips {_money(cur, pnl.intraday_realized)}, fees "
        f"{_money(cur, pnl.fees)}; net {_money(cur, pnl.net)}",
        soft_wrap=True,
    )


def _money(currency: str, value: Decimal) -> str:
    return f"{currency} {value:,.2f}"


def _clock(ts_ns: int) -> str:
    return exchange_time(ts_ns, NEW_YORK).strftime("%H:%M:%S")


def _strategy(console: Console, strategy: StrategySummary) -> None:
    """The breakout desk: the risk kernel's decisions by reason, its trades, both days' P&L."""
    kernel = Table(title=f"breakout trading {STRATEGY_ACCOUNT}: risk kernel decisions")
    kernel.add_column("decision")
    kernel.add_column("count", justify="right")
    kernel.add_row("advisories", str(strategy.signals))
    for decision, count in sorted(strategy.decisions.items()):
        kernel.add_row(decision, str(count))
    for reason, count in strategy.vetoes.most_common():
        kernel.add_row(f"  vetoed {reason}", str(count))
    console.print(kernel)
    exits = ", ".join(f"{reason} {count}" for reason, count in sorted(strategy.exits.items()))
    console.print(
        f"breakout positions opened {strategy.opened}, closed {strategy.closed}"
        + (f" ({exits})" if exits else ""),
        markup=False,
    )
    realized, fees = _money("USD", strategy.realized_pnl), _money("USD", strategy.fees)
    console.print(f"breakout realized P&L {realized}, fees {fees}", markup=False)
    for account, (usd, pct) in sorted(strategy.daily_pnl.items()):
        day = f"day's P&L {account}: {_money('USD', usd)} ({pct:+.3f}% of equity)"
        console.print(day, markup=False)
