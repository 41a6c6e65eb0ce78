"""The ``dashboard`` section of the config: where it listens and where its action token is.

The token is read from a file (``token_file``) or else from the environment variable named by
``token_env``; with neither set the dashboard is read-only. The token itself is never in the
config file, never logged and never printed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


class DashboardConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8050
    token_env: str = "QUANTRAIL_DASHBOARD_TOKEN"
    token_file: str | None = None
    ledger_interval_s: float = 5.0
    """How often the day's P&L is read from the ledger's SQL."""
    streams_interval_s: float = 1.0
    """How often stream health (length, lag, pending, dead letters) is read."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65_535:
            raise ValueError(f"port: must be 0..65535, got {self.port}")
        for name in ("ledger_interval_s", "streams_interval_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be > 0, got {value}")


class TokenError(ValueError):
    """The configured token file cannot be read or is empty."""


def action_token(config: DashboardConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The token that unlocks actions, or None (read-only)."""
    env = os.environ if env is None else env
    if config.token_file:
        path = Path(config.token_file)
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise TokenError(
                f"dashboard.token_file: cannot read {str(path)!r} ({exc.strerror})"
            ) from None
        if not text:
            raise TokenError(f"dashboard.token_file: {str(path)!r} is empty")
        return text
    token = env.get(config.token_env, "").strip()
    return token or None
