"""Every service by name, in start order (a light module: the CLI's help reads it)."""

from __future__ import annotations

SERVICE_NAMES = (
    "session",
    "exposure",
    "engine",
    "execution",
    "ledger",
    "marketdata",
    "features",
    "candles",
    "regime",
    "signals",
    "risk_kernel",
    "sizer",
    "positions",
    "exit_brain",
    "killswitch",
    "audit",
    "health",
)
