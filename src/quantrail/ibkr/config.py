"""The ``ibkr`` config section: where the gateway is, which IB account trades for which of ours,
the contracts, pacing and reconnection.

Validation errors start with ``fieldname: `` so the config loader names the key path. No secret
lives here: TWS and IB Gateway authenticate the person at login, the API connection has none.
"""

from __future__ import annotations

import math

import msgspec


class IbkrContract(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A contract by conId, or by symbol/exchange/currency (a preferred: its IB symbol, e.g.
    ``PFF PRA``). ``primary_exchange`` disambiguates SMART-routed stocks."""

    con_id: int = 0
    sec_type: str = "STK"
    exchange: str = "SMART"
    primary_exchange: str = ""
    currency: str = "USD"
    ib_symbol: str = ""


class IbkrConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``accounts`` maps our account to the IB account code (``HAMMER: DU1234567``).
    ``max_messages_per_s`` is IB's API limit (50). ``market_data_type`` 1 is live, 3 delayed."""

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    accounts: dict[str, str] = msgspec.field(default_factory=dict)
    contracts: dict[str, IbkrContract] = msgspec.field(default_factory=dict)
    connect_timeout_s: float = 10.0
    reconnect_backoff_s: list[float] = msgspec.field(
        default_factory=lambda: [1.0, 2.0, 5.0, 10.0, 30.0]
    )
    max_messages_per_s: float = 50.0
    market_data_type: int = 1
    tick_by_tick: bool = False
    """Prints from IB's ``AllLast`` tick-by-tick data (with the exchange and the sale
    conditions, for truth ticks) instead of L1's last price and size."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port: must be a TCP port (1-65535), got {self.port}")
        if not (math.isfinite(self.connect_timeout_s) and self.connect_timeout_s > 0):
            raise ValueError(f"connect_timeout_s: must be > 0, got {self.connect_timeout_s}")
        if not self.reconnect_backoff_s or any(step <= 0 for step in self.reconnect_backoff_s):
            raise ValueError("reconnect_backoff_s: must be a non-empty list of seconds > 0")
        if not 0 < self.max_messages_per_s <= 50:
            raise ValueError(
                f"max_messages_per_s: must be in (0, 50] (IB limit), got {self.max_messages_per_s}"
            )
        if self.market_data_type not in (1, 2, 3, 4):
            raise ValueError(
                f"market_data_type: must be 1 (live), 2 (frozen), 3 (delayed) or 4, "
                f"got {self.market_data_type}"
            )

    def ib_account(self, account: str) -> str:
        """The IB account for one of ours (the same name when none is mapped)."""
        return self.accounts.get(account, account)

    def our_account(self, ib_account: str) -> str | None:
        for ours, theirs in self.accounts.items():
            if theirs == ib_account:
                return ours
        return None
