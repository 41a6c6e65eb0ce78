"""The trading chain's services for a backtest, built through the contract's builders.

Each service of ``docs/chain.md`` is built by ``build_<name>_service(config)`` in its module.
They are imported lazily, by module path, so a build that lacks one still runs the others and
says which are missing. Execution is built here with the backtest's venue (the bar venue on
bars, the config's simulated venue on quotes and prints).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import cast

from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.execution.registry import registry_for
from quantrail.execution.service import ExecutionService
from quantrail.execution.venues import Venue
from quantrail.runtime.service import Service

CHAIN: tuple[tuple[str, str], ...] = (
    ("candles", "quantrail.marketdata.candle_service"),
    ("regime", "quantrail.strategy.regime_service"),
    ("signals", "quantrail.strategy.advisory_service"),
    ("risk_kernel", "quantrail.risk.kernel_service"),
    ("sizer", "quantrail.strategy.sizer_service"),
    ("positions", "quantrail.strategy.position_service"),
    ("exit_brain", "quantrail.strategy.exit_service"),
    ("killswitch", "quantrail.risk.kill_switch_service"),
    ("audit", "quantrail.audit.service"),
)
"""(service name, module) in start order; the builder is ``build_<name>_service``."""

EXECUTION_TICK_S = 5.0
"""How often (simulated seconds) execution applies the venue's reports in a backtest."""


@dataclasses.dataclass(frozen=True, slots=True)
class ChainServices:
    services: list[Service]
    built: list[str]
    missing: list[str]


def find_builder(name: str, module_path: str) -> Callable[[Config], Service] | None:
    """The builder, or None when its module is not part of this build (any other import
    error is a real fault and is raised)."""
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_path == missing or module_path.startswith(f"{missing}."):
            return None  # the module itself, or a package above it, is not in this build
        raise
    builder = getattr(module, f"build_{name}_service", None)
    return cast("Callable[[Config], Service] | None", builder)


def build_chain(config: Config, bus: EventBus, venue: Venue) -> ChainServices:
    """Every chain service this build has, plus execution on ``venue``."""
    services: list[Service] = []
    built: list[str] = []
    missing: list[str] = []
    for name, module_path in CHAIN:
        builder = find_builder(name, module_path)
        if builder is None:
            missing.append(name)
            continue
        services.append(builder(config))
        built.append(name)
    services.append(ExecutionService(config, registry_for(bus), venue, tick_s=EXECUTION_TICK_S))
    built.append("execution")
    return ChainServices(services, built, missing)
