"""Every service by name, built from the config: for ``quantrail up`` and ``quantrail service``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from quantrail.audit.service import build_audit_service
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.execution.services import build_execution_service
from quantrail.ledger.services import build_ledger_service
from quantrail.marketdata.candle_service import build_candles_service
from quantrail.marketdata.features_service import build_features_service
from quantrail.marketdata.replay import read_market_file
from quantrail.marketdata.service import MarketDataService
from quantrail.marketdata.synthetic import SyntheticMarket, default_universe
from quantrail.ops.health_service import build_health_service
from quantrail.ops.service_names import SERVICE_NAMES
from quantrail.risk.kernel_service import build_risk_kernel_service
from quantrail.risk.kill_switch_service import build_killswitch_service
from quantrail.risk.services import build_risk_services
from quantrail.runtime.clock import NS_PER_SECOND, Clock
from quantrail.runtime.service import Service
from quantrail.strategy.advisory_service import build_signals_service
from quantrail.strategy.exit_service import build_exit_brain_service
from quantrail.strategy.position_service import build_positions_service
from quantrail.strategy.regime_service import build_regime_service
from quantrail.strategy.sizer_service import build_sizer_service


def build_services(
    config: Config, bus: EventBus, clock: Clock, names: list[str], market: str = "none"
) -> list[Service]:
    """The named services (in a sensible start order); ``market`` feeds the marketdata one:
    ``synthetic`` (seeded by ``execution.seed``) or a market file path."""
    unknown = [name for name in names if name not in SERVICE_NAMES]
    if unknown:
        raise ValueError(f"service: unknown {unknown[0]!r}; known: {', '.join(SERVICE_NAMES)}")
    session, exposure, engine = build_risk_services(config, clock)
    builders: dict[str, Callable[[], Service]] = {
        "session": lambda: session,
        "exposure": lambda: exposure,
        "engine": lambda: engine,
        "execution": lambda: build_execution_service(config, bus, clock),
        "ledger": lambda: build_ledger_service(config),
        "marketdata": lambda: _market_service(config, clock, market),
        "features": lambda: build_features_service(config),
        "positions": lambda: build_positions_service(config),
        "exit_brain": lambda: build_exit_brain_service(config),
        "risk_kernel": lambda: build_risk_kernel_service(config),
        "sizer": lambda: build_sizer_service(config),
        "candles": lambda: build_candles_service(config),
        "regime": lambda: build_regime_service(config),
        "signals": lambda: build_signals_service(config),
        "killswitch": lambda: build_killswitch_service(config),
        "audit": lambda: build_audit_service(config),
        "health": lambda: build_health_service(config),
    }
    return [builders[name]() for name in SERVICE_NAMES if name in names]


def _market_service(config: Config, clock: Clock, market: str) -> Service:
    if market == "synthetic":
        start = clock.now_ns()
        source = SyntheticMarket(default_universe(), config.execution.seed, start, NS_PER_SECOND)
        return MarketDataService(source.events_until(start + 24 * 3600 * NS_PER_SECOND))
    if market in ("", "none"):
        return MarketDataService(iter(()))
    if market == "ibkr":
        from quantrail.marketdata.ibkr_source import IbkrMarketDataService, ibkr_symbols

        return IbkrMarketDataService(config.ibkr, ibkr_symbols(config))
    return MarketDataService(iter(read_market_file(Path(market))))
