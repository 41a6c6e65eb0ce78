"""A trade's chain from any id in it (pure: the CLI reads the streams).

``find_correlation`` looks for the event that carries the id (as its event id, or as one of the
chain's ids: signal, evaluation, request, intent, order, fill, position, decision) and returns
its correlation id; ``chain_of`` keeps the events of that correlation, in time order (the step
order breaks a tie); ``render_chain`` gives one line per event in exchange time with the time
since the previous step.
"""

from __future__ import annotations

from collections.abc import Iterable

from quantrail.events.base import Event
from quantrail.session.phases import format_exchange_time

TRACE_STREAMS = (
    "signals.advisory", "risk.evaluation", "trades.request", "trades.intent", "trades.order",
    "position.state", "exit.decision", "exit.stop", "audit.decision",
)  # fmt: skip
ID_FIELDS = (
    "event_id", "signal_id", "evaluation_id", "request_id", "intent_id", "order_id", "fill_id",
    "position_id", "decision_id",
)  # fmt: skip
_STEPS = {
    "signals.advisory": "signal", "risk.evaluation": "evaluation", "trades.request": "request",
    "trades.intent": "intent", "trades.order": "order", "position.state": "position",
    "exit.decision": "exit", "exit.stop": "stop", "audit.decision": "audit",
}  # fmt: skip
_RANK = {stream: rank for rank, stream in enumerate(TRACE_STREAMS)}
_SHOWN = (
    "signal_id", "evaluation_id", "decision", "veto_reason", "request_id", "intent_id",
    "order_id", "fill_id", "symbol", "side", "direction", "qty", "last_qty", "last_price",
    "position_id", "realized_pnl", "exit_reason", "reason", "decision_type",
)  # fmt: skip


def _stream(event: Event) -> str:
    return event.kind.rsplit(".", 1)[0]


def find_correlation(events: Iterable[Event], wanted: str) -> str | None:
    """The correlation id of the first event carrying ``wanted``; None when none does."""
    for event in events:
        if any(getattr(event, name, None) == wanted for name in ID_FIELDS):
            return event.correlation_id or event.event_id
    return None


def chain_of(events: Iterable[Event], correlation_id: str) -> list[Event]:
    chain = [
        e for e in events if e.correlation_id == correlation_id or e.event_id == correlation_id
    ]
    return sorted(chain, key=lambda e: (e.ts_event, _RANK.get(_stream(e), len(_RANK))))


def render_chain(chain: list[Event], timezone: str) -> list[str]:
    lines: list[str] = []
    previous: int | None = None
    for event in chain:
        gap = "" if previous is None else f"+{(event.ts_event - previous) / 1e9:.3f}s"
        previous = event.ts_event
        step = _STEPS.get(_stream(event), _stream(event))
        when = format_exchange_time(event.ts_event, timezone)
        lines.append(f"{when} {gap:>10}  {step:<10} {event.kind:<28} {_summary(event)}")
    return lines


def _summary(event: Event) -> str:
    parts = []
    for name in _SHOWN:
        value = getattr(event, name, None)
        if value not in (None, "", 0):
            parts.append(f"{name}={getattr(value, 'value', value)}")
    return " ".join(parts)
