"""The ``backtest`` config section: starting equity, the bar fill model's slippage and fees.

Money is exact: write amounts as strings in YAML (``"0.005"``). Validation errors start with
``fieldname: `` so the config loader names the key path.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec


class BacktestConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``slippage_ticks`` ticks of ``tick_size`` against the order on a fill at the next bar's
    open; fees ``fee_per_share`` with at least ``min_fee_per_order`` per order."""

    initial_equity: Decimal = Decimal("100000")
    slippage_ticks: int = 1
    tick_size: Decimal = Decimal("0.01")
    fee_per_share: Decimal = Decimal("0.005")
    min_fee_per_order: Decimal = Decimal("1.00")

    def __post_init__(self) -> None:
        if not self.initial_equity.is_finite() or self.initial_equity <= 0:
            raise ValueError(f"initial_equity: must be > 0, got {self.initial_equity}")
        if self.slippage_ticks < 0:
            raise ValueError(f"slippage_ticks: must be >= 0, got {self.slippage_ticks}")
        if not self.tick_size.is_finite() or self.tick_size <= 0:
            raise ValueError(f"tick_size: must be > 0, got {self.tick_size}")
        for name in ("fee_per_share", "min_fee_per_order"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"{name}: must be a finite amount >= 0, got {value}")
