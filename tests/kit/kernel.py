"""Builders for the risk kernel and the position sizer: advisories, daily status, kernel state,
the config and the services.

The defaults tell the hand-sized story of docs/risk_kernel.md: account ``ACC1`` has 100,000
equity; a LONG advisory on ACME at entry 10.00 with its stop at 9.50, edge 72 and confidence
0.7, at ``T0``; 1 % risk per trade buys 2,000 shares (20,000 notional, under the 25 % cap).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kit.event_base import ACCOUNT, SYMBOL, T0
from kit.risk_events import risk_daily_status
from kit.strategy_events import signal_issued
from quantrail.config import AccountConfig, Config, config_from_mapping
from quantrail.events import RiskDailyStatusUpdated, SignalIssued
from quantrail.risk.kernel import KernelState
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.risk.kernel_service import RiskKernelService
from quantrail.risk.signing import SigningKey
from quantrail.strategy.config import SizerConfig
from quantrail.strategy.sizer_service import SizerService
from quantrail.vocab import Bucket

EQUITY = Decimal("100000")
ENTRY = "10.00"
STOP = "9.50"
NY = "America/New_York"
SECOND_NS = 1_000_000_000
TEST_KEY = SigningKey.from_secret(b"kernel-test-key-1")
OLD_KEY = SigningKey.from_secret(b"kernel-test-key-0")


def signal_id(n: int = 1, symbol: str = SYMBOL) -> str:
    return f"sig:test:{symbol}:{T0 + n}"


def advisory(n: int = 1, symbol: str = SYMBOL, **overrides: Any) -> SignalIssued:
    """The ``n``-th LONG advisory (its own signal id), entry 10.00, stop 9.50."""
    sid = signal_id(n, symbol)
    chain = {"account": ACCOUNT, "correlation_id": sid, "idempotency_key": sid, "signal_id": sid}
    priced = {"stop_price": STOP, "entry_price": ENTRY, "strategy": "breakout"}
    timing = {"timeframe": "1m", "ts_data_ns": T0}
    return signal_issued(symbol, **{**chain, **priced, **timing, **overrides})


def daily_status(**overrides: Any) -> RiskDailyStatusUpdated:
    """ACC1 on 2024-03-15: down 1 %, 1 point below its high-water mark, no kill switch."""
    defaults = {
        "daily_pnl_percent": -1.0, "daily_pnl_usd": "-1000.00", "open_positions": 0,
        "total_exposure_percent": 20.0, "drawdown_from_hwm": 1.0, "risk_budget_remaining": 4.0,
        "equity": "99000.00",
    }  # fmt: skip
    return risk_daily_status(**{**defaults, **overrides})


def kernel_state(**overrides: Any) -> KernelState:
    """A known account with 100,000 equity, fresh market data, nothing else against it."""
    values: dict[str, Any] = {"account_known": True, "equity": EQUITY, "market_data_ns": T0}
    values.update(overrides)
    return KernelState(**values)


def kernel_config(**overrides: Any) -> RiskKernelConfig:
    return RiskKernelConfig(**overrides)


def accounts(equity: Decimal = EQUITY) -> list[AccountConfig]:
    return [AccountConfig(name=ACCOUNT, equity=equity)]


def kernel_service(
    key: SigningKey | None = TEST_KEY, trades_chaos: bool = False, **config: Any
) -> RiskKernelService:
    return RiskKernelService(
        kernel_config(**config), accounts(), timezone=NY, key=key, trades_chaos=trades_chaos
    )


def sizer_service(**config: Any) -> SizerService:
    return SizerService(SizerConfig(**config), Bucket.MM_PURE)


def chain_config(**sections: Any) -> Config:
    """A config tree with ACC1 (100,000) and the given sections (``risk_kernel={...}``)."""
    return config_from_mapping(
        {"risk": {"accounts": [{"name": ACCOUNT, "equity": str(EQUITY)}]}, **sections}
    )
