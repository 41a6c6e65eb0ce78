"""The desk view as a JSON-ready dict: what the dashboard's page and ``quantrail top`` read.

Money is an exact string (``"1234.50"``), percentages are floats, times are int ns UTC.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from quantrail.events import OrderReplaced

if TYPE_CHECKING:
    from quantrail.ops.desk_view import AccountDesk, DeskView, OpenOrder


def desk_dict(view: DeskView) -> dict[str, Any]:
    limits = view.limits
    return {
        "phase": view.phase,
        "session_date": view.session_date,
        "limits": {
            "close_limit_pct": limits.close_limit_pct,
            "derisk_pct": limits.derisk_pct,
            "hard_cap_pct": limits.hard_cap_pct,
            "tolerance_pct": limits.tolerance(view.phase) if view.phase else None,
        },
        "accounts": [_account(desk) for _name, desk in sorted(view.accounts.items())],
        "alerts": [
            {
                "ts_ns": a.ts_event,
                "severity": a.severity,
                "message": a.message,
                "account": a.account or "",
                "source": a.source,
            }
            for a in view.alerts
        ],
        "health": [
            {"service": name, "status": h.status, "ts_ns": h.ts_event, "uptime_s": h.uptime_seconds}
            for name, h in sorted(view.health.items())
        ],
        "streams": view.streams,
        "dead_letters": view.dead_letters,
        "events_seen": view.events_seen,
        "last_event_ns": view.last_event_ns,
    }


def _account(desk: AccountDesk) -> dict[str, Any]:
    latest = desk.latest
    return {
        "name": desk.name,
        "mode": desk.mode,
        "mode_reason": desk.mode_reason,
        "mode_since_ns": desk.mode_since_ns,
        "exposure": {
            "ts_ns": [p.ts_ns for p in desk.exposure],
            "gross_pct": [p.gross_pct for p in desk.exposure],
            "long_pct": [p.long_pct for p in desk.exposure],
            "short_pct": [p.short_pct for p in desk.exposure],
            "potential_pct": [p.potential_pct for p in desk.exposure],
            "tolerance_pct": [p.tolerance_pct for p in desk.exposure],
        },
        "now": None
        if latest is None
        else {
            "equity": str(latest.equity),
            "gross_pct": latest.gross_exposure_pct,
            "long_pct": latest.long_gross_pct,
            "short_pct": latest.short_gross_pct,
            "net_pct": latest.net_exposure_pct,
            "potential_pct": latest.potential_gross_pct,
        },
        "buckets": {
            name: {
                "current_pct": b.current_pct,
                "potential_pct": b.potential_pct,
                "target_pct": b.target_pct,
                "max_pct": b.max_pct,
            }
            for name, b in sorted((latest.buckets if latest else {}).items())
        },
        "groups": {
            name: {
                "long": str(g.long_notional),
                "short": str(g.short_notional),
                "gross_pct": g.gross_pct,
            }
            for name, g in sorted((latest.group_exposure if latest else {}).items())
        },
        "orders": [_order(o) for _id, o in sorted(desk.orders.items())],
        "positions": [
            {
                "symbol": p.symbol,
                "bucket": p.bucket.value,
                "qty": p.qty,
                "entry": str(p.entry_price),
                "price": str(p.current_price),
                "unrealized": str(p.unrealized_pnl),
            }
            for p in sorted(desk.positions.values(), key=lambda p: (p.symbol, p.position_id))
        ],
        "pnl": _pnl(desk),
        "kill": {
            "active": desk.kill.active,
            "trigger": desk.kill.trigger,
            "by": desk.kill.by,
            "reason": desk.kill.reason,
            "since_ns": desk.kill.since_ns,
            "flatten": desk.kill.flatten,
            "reset_by": desk.kill.reset_by,
            "reset_reason": desk.kill.reset_reason,
        },
    }


def _order(row: OpenOrder) -> dict[str, Any]:
    event = row.event
    qty, limit = event.qty, event.limit_price
    order_id = event.order_id
    if isinstance(event, OrderReplaced):
        qty, limit, order_id = event.new_qty, event.new_limit_price, event.new_order_id
    return {
        "order_id": order_id,
        "symbol": event.symbol,
        "side": event.side.value,
        "qty": qty,
        "filled": row.filled,
        "limit": "" if limit is None else str(limit),
        "bucket": event.bucket.value,
        "status": event.status.value,
    }


def _pnl(desk: AccountDesk) -> dict[str, Any]:
    """The ledger's figures when it has the day, else the risk kernel's daily status."""
    ledger = desk.ledger_pnl
    if ledger is not None:
        realized = ledger.realized_intraday + ledger.baseline_realized
        total = realized + ledger.unrealized - ledger.fees
        return {
            "source": "ledger",
            "realized_intraday": str(ledger.realized_intraday),
            "baseline": str(ledger.baseline_realized),
            "unrealized": str(ledger.unrealized),
            "fees": str(ledger.fees),
            "total": str(total),
            "note": desk.ledger_note,
        }
    daily = desk.daily
    if daily is None:
        return {"source": "none", "note": desk.ledger_note or "no P&L yet"}
    return {
        "source": "risk.daily_status",
        "realized_intraday": _text(daily.realized_pnl),
        "baseline": "",
        "unrealized": _text(daily.unrealized_pnl),
        "fees": _text(daily.fees),
        "total": str(daily.daily_pnl_usd),
        "note": desk.ledger_note,
    }


def _text(value: Decimal | None) -> str:
    """An exact amount, or "" when the status does not carry it."""
    return "" if value is None else str(value)
