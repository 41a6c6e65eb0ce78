"""Building the execution service for the runner from the config tree."""

from __future__ import annotations

from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.execution.registry import registry_for
from quantrail.execution.service import ExecutionService
from quantrail.execution.venues import make_venue
from quantrail.runtime.clock import Clock
from quantrail.runtime.service import Service


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
    return ExecutionService(config, registry_for(bus), make_venue(config.execution), tick_s=tick_s)
