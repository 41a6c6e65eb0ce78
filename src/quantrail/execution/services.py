"""Building the execution service for the runner from the config tree."""

from __future__ import annotations

from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.execution.registry import registry_for
from quantrail.execution.service import ExecutionService
from quantrail.execution.venues import Venue, make_venue
from quantrail.execution.venues.ibkr import IbkrVenue, IdStore
from quantrail.runtime.clock import Clock
from quantrail.runtime.service import Service

IBKR_STATE = "ibkr"


def build_execution_service(
    config: Config,
    bus: EventBus,
    clock: Clock,
    *,
    tick_s: float = 0.1,
) -> Service:
    """The execution service on ``bus``: the registry its transport calls for (Redis or the
    in-process one), the venue ``config.execution`` names. The service reads time through its
    context, which the runner gives ``clock``; it is taken here so every builder looks alike.
    ADV per symbol comes from ``config.liquidity`` (``adv``, ``default_adv``)."""
    del clock  # the runner binds it; nothing to do with it before start
    venue: Venue
    if config.execution.venue == "ibkr":
        venue = IbkrVenue(config.ibkr, ids=bus_id_store(bus))
    else:
        venue = make_venue(config.execution)
    return ExecutionService(config, registry_for(bus), venue, tick_s=tick_s)


def bus_id_store(bus: EventBus) -> IdStore:
    """The IB order id high-water mark in the bus's state (``state:ibkr``): shared by every
    execution instance of the namespace and kept across restarts."""

    async def load() -> int:
        return int((await bus.get_state(IBKR_STATE)).get("next_order_id", "0"))

    async def save(value: int) -> None:
        await bus.set_state(IBKR_STATE, {"next_order_id": str(value)})

    return IdStore(load, save)
