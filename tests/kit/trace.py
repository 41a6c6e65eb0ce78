"""A trade's chain built by hand, one correlation id throughout, for ``quantrail trace``.

signal (09:30:00.000 New York) -> evaluation (+0.250 s) -> request (+0.100 s) -> order
submitted, partly filled (``fill-1``), filled (``fill-2``) -> position opened -> exit decision
-> position closed: nine events, plus one of another chain that must not show.
"""

from __future__ import annotations

from kit.event_base import T0
from kit.order_events import order_filled, order_partially_filled, order_submitted
from kit.position_events import position_closed, position_opened
from kit.risk_events import risk_evaluation
from kit.strategy_events import exit_decision, signal_issued
from quantrail.events import Event

CORRELATION = "sig:trend:ACME:1710509400000000000"
POSITION = "pos:ACC1:ACME:fill-1"
MS = 1_000_000


def hand_chain() -> list[Event]:
    chained = {"correlation_id": CORRELATION}
    order = {"order_id": "ord-1", "request_id": "req:eval:" + CORRELATION, **chained}
    return [
        signal_issued(signal_id=CORRELATION, ts_event=T0, **chained),
        risk_evaluation(
            evaluation_id="eval:" + CORRELATION,
            signal_id=CORRELATION,
            ts_event=T0 + 250 * MS,
            **chained,
        ),
        _request(T0 + 350 * MS),
        order_submitted(ts_event=T0 + 400 * MS, **order),
        order_partially_filled(
            qty=100, last_qty=40, fill_id="fill-1", ts_event=T0 + 900 * MS, **order
        ),
        order_filled(
            qty=100, fill_id="fill-2", last_qty=60, cum_qty=100, ts_event=T0 + 1500 * MS, **order
        ),
        position_opened(position_id=POSITION, ts_event=T0 + 1600 * MS, **chained),
        exit_decision(position_id=POSITION, ts_event=T0 + 600_000 * MS, **chained),
        position_closed(position_id=POSITION, ts_event=T0 + 601_000 * MS, **chained),
        signal_issued(signal_id="sig:other", ts_event=T0 + 100 * MS, correlation_id="sig:other"),
    ]


def _request(ts: int) -> Event:
    from kit.order_events import submit_order

    return submit_order(
        request_id="req:eval:" + CORRELATION, evaluation_id="eval:" + CORRELATION,
        ts_event=ts, correlation_id=CORRELATION,
    )  # fmt: skip
