"""``quantrail top``: the desk's essentials in a terminal (Rich live), for a desk without a browser.

Per account: mode and reason, the kill switch, exposure now against its limits, buckets, P&L,
open orders and positions (counts); then alerts and stream health. It renders the same
snapshot dict the dashboard pushes (``DeskView.snapshot()``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quantrail.ops.desk_feed import DeskFeed

MODE_STYLE = {
    "NORMAL": "bold green",
    "THROTTLE_NEW_ORDERS": "bold yellow",
    "SOFT_DERISK": "bold dark_orange",
    "HARD_DERISK": "bold white on red",
}
REFRESH_S = 0.5


def render_desk(state: dict[str, Any]) -> RenderableType:
    limits = state["limits"]
    tolerance = limits["tolerance_pct"]
    head = Text.assemble(
        ("quantrail top", "bold"), f"  namespace {state.get('namespace', '')}",
        f"  phase {state['phase'] or '-'}",
        f"  tolerance {tolerance}%" if tolerance is not None else "",
        f"  limits {limits['close_limit_pct']}/{limits['derisk_pct']}/{limits['hard_cap_pct']}%",
        (f"  {state['feed_error']}", "bold red") if state.get("feed_error") else "",
    )  # fmt: skip
    parts: list[RenderableType] = [head]
    parts += [_account(account) for account in state["accounts"]]
    parts += [_alerts(state["alerts"]), _streams(state["streams"], state["dead_letters"])]
    parts.append(_services(state["health"]))
    return Group(*parts)


def _services(health: list[dict[str, Any]]) -> Text:
    text = Text("services: ", style="dim")
    for beat in health:
        style = "green" if beat["status"] == "HEALTHY" else "bold red"
        text.append(f"{beat['service']} ")
        text.append(beat["status"], style=style)
        text.append("  ")
    return text if health else Text("services: no heartbeat yet", style="dim")


def _account(acct: dict[str, Any]) -> Panel:
    mode = Text.assemble(
        ("mode ", "dim"), (acct["mode"], MODE_STYLE.get(acct["mode"], "bold")),
        f"  {acct['mode_reason']}",
    )  # fmt: skip
    kill = acct["kill"]
    kill_line = (
        Text(
            f"KILL SWITCH ACTIVE by {kill['by']} ({kill['trigger']}): {kill['reason']}",
            style="bold white on red",
        )
        if kill["active"]
        else Text("kill switch off", style="dim")
    )
    now = acct["now"]
    exposure = (
        Text("no exposure snapshot yet", style="dim")
        if now is None
        else Text(
            f"gross {now['gross_pct']:.1f}%  long {now['long_pct']:.1f}%  "
            f"short {now['short_pct']:.1f}%  potential {now['potential_pct']:.1f}%  "
            f"equity {now['equity']}"
        )
    )
    buckets = "  ".join(
        f"{name} {b['current_pct']:.1f}/{b['potential_pct']:.1f}% (max {b['max_pct']:.0f})"
        for name, b in acct["buckets"].items()
    )
    pnl = acct["pnl"]
    pnl_line = (
        f"P&L [{pnl['source']}] intraday {pnl['realized_intraday'] or '-'}  baseline "
        f"{pnl['baseline'] or '-'}  unrealized {pnl['unrealized'] or '-'}  total {pnl['total']}"
        if pnl["source"] != "none"
        else f"P&L: {pnl['note']}"
    )
    counts = f"open orders {len(acct['orders'])}  positions {len(acct['positions'])}"
    lines = [mode, kill_line, exposure, Text(buckets), Text(pnl_line), Text(counts)]
    return Panel(Group(*lines), title=acct["name"], title_align="left")


def _alerts(alerts: list[dict[str, Any]]) -> Table:
    table = Table(title="recent alerts", title_justify="left", expand=True)
    for column in ("severity", "account", "message"):
        table.add_column(column)
    for alert in alerts[:5]:
        table.add_row(alert["severity"], alert["account"] or "-", alert["message"])
    return table


def _streams(rows: list[dict[str, Any]], dead_letters: int) -> Table:
    table = Table(title=f"streams ({dead_letters} dead letters)", title_justify="left")
    for column in ("stream", "length", "pending", "lag"):
        table.add_column(column, justify="left" if column == "stream" else "right")
    for row in rows:
        lag = "-" if row["lag"] is None else str(row["lag"])
        table.add_row(row["stream"], str(row["length"]), str(row["pending"]), lag)
    return table


async def run_top(feed: DeskFeed, namespace: str, console: Console | None = None) -> None:
    """Follow the desk and redraw on every change, until cancelled (Ctrl-C)."""

    def state() -> dict[str, Any]:
        return feed.view.snapshot() | {"namespace": namespace, "feed_error": feed.error}

    task = asyncio.create_task(feed.run(), name="desk-feed")
    seen = -1
    try:
        with Live(render_desk(state()), console=console, auto_refresh=False) as live:
            while not task.done():
                seen = await feed.wait_change(seen, REFRESH_S * 4)
                live.update(render_desk(state()), refresh=True)
                await asyncio.sleep(REFRESH_S)  # a redraw pace, not a wait for an effect
    finally:
        feed.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
