"""Reading what a scenario did back from its bus: the mode, the intents, the orders and fills.

Only the streams and the mode state are read (``state:mode:<ACCOUNT>``, ``trades.intent``,
``exposure.snapshot``, ``trades.order``), never a service's memory, so the same reading works on
either transport and whatever the services do inside.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from quantrail.bus.bus import EventBus
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.orders import OrderEvent, OrderFill, OrderReplaced
from quantrail.events.trades import IntentCreated
from quantrail.scenario.compare import Seen, SeenIntent
from quantrail.scenario.invariants import Execution, SeenFill, SeenOrder
from quantrail.vocab import Mode


async def observe(bus: EventBus, account: str, execution: Execution | None) -> Seen:
    """The scenario's ``Seen``: mode and intents of ``account``, the last exposure figure."""
    state = await bus.get_state(f"mode:{account}")
    intents = [
        e for e in await bus.read_events("trades.intent")
        if isinstance(e, IntentCreated) and e.account == account
    ]  # fmt: skip
    snapshots = [
        e for e in await bus.read_events("exposure.snapshot")
        if isinstance(e, ExposureSnapshot) and e.account == account
    ]  # fmt: skip
    gross = Decimal(repr(snapshots[-1].gross_exposure_pct)) if snapshots else None
    return Seen(
        mode=Mode(state.get("mode", Mode.NORMAL.value)),
        reason=state.get("reason", ""),
        intents=[SeenIntent(i.symbol, i.side, i.qty, i.limit_price, i.intent_id) for i in intents],
        gross_exposure_pct=gross,
        execution=execution,
    )


async def observe_execution(
    bus: EventBus, restarts: int = 0, notes: tuple[str, ...] = ()
) -> Execution:
    """Intents (every account), orders and fills as ``trades.intent``/``trades.order`` hold them.

    An event published twice over (the same event but for its id) counts once."""
    intents = [e for e in await bus.read_events("trades.intent") if isinstance(e, IntentCreated)]
    orders = _once_each(
        [e for e in await bus.read_events("trades.order") if isinstance(e, OrderEvent)]
    )
    successors = {
        e.new_order_id for e in orders
        if isinstance(e, OrderReplaced) and e.new_order_id != e.order_id
    }  # fmt: skip
    return Execution(
        intent_ids=tuple(dict.fromkeys(i.intent_id for i in intents)),
        orders=_orders(orders, successors),
        fills=tuple(
            SeenFill(e.fill_id, e.order_id, e.last_qty) for e in orders if isinstance(e, OrderFill)
        ),
        restarts=restarts,
        notes=notes,
    )


def _once_each(events: list[OrderEvent]) -> list[OrderEvent]:
    """Copies of one event (equal in every field but ``event_id``) kept once. A fill id reused
    with other figures is kept twice even under one idempotency key: that is the duplicated
    (or, by the key, silently dropped) fill the invariants look for."""
    kept: dict[bytes, OrderEvent] = {}
    for event in events:
        kept.setdefault(msgspec.json.encode(msgspec.structs.replace(event, event_id="")), event)
    return list(kept.values())


def _orders(events: list[OrderEvent], successors: set[str]) -> tuple[SeenOrder, ...]:
    """One per order id: the first intent id it names, the quantity of its latest event."""
    intent_of: dict[str, str] = {}
    qty_of: dict[str, int] = {}
    for event in events:
        if event.intent_id:
            intent_of.setdefault(event.order_id, event.intent_id)
        qty_of[event.order_id] = event.qty
    return tuple(
        SeenOrder(order_id, intent_of.get(order_id, ""), qty, order_id in successors)
        for order_id, qty in qty_of.items()
    )
