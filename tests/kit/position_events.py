"""Builders of an account's book: positions and the exposure snapshot they add up to.

The defaults: ``ACC1`` holds 100 ACME long in the LT book, equity 1,000,000 at 100% gross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kit.event_base import ACCOUNT, PRICE, SYMBOL, T0, build, envelope
from quantrail.events import (
    BucketExposure,
    ExposureSnapshot,
    GroupExposure,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
)
from quantrail.vocab import Bucket, Direction


def bucket_exposure(**overrides: Any) -> BucketExposure:
    """The LT book at 80% of 1,000,000 equity: on target, 90% max."""
    defaults: dict[str, Any] = {
        "current": "800000",
        "current_pct": 80.0,
        "potential": "850000",
        "potential_pct": 85.0,
        "target": "800000",
        "target_pct": 80.0,
        "max": "900000",
        "max_pct": 90.0,
    }
    return build(BucketExposure, defaults, overrides)


def exposure_snapshot(**overrides: Any) -> ExposureSnapshot:
    """1,000,000 equity, 800,000 long + 200,000 short: 100% gross, 60% net."""
    defaults = envelope(
        account=ACCOUNT,
        equity="1000000",
        long_notional="800000",
        short_notional="200000",
        gross_exposure_pct=100.0,
        long_gross_pct=80.0,
        short_gross_pct=20.0,
        net_exposure_pct=60.0,
        potential_gross_pct=105.0,
        buckets={
            "LT": bucket_exposure(),
            "MM_PURE": bucket_exposure(
                current=Decimal(200000),
                current_pct=20.0,
                potential=Decimal(200000),
                potential_pct=20.0,
                target=Decimal(200000),
                target_pct=20.0,
                max=Decimal(300000),
                max_pct=30.0,
            ),
        },
        group_exposure={
            "banks": GroupExposure(
                long_notional=Decimal(300000), short_notional=Decimal(50000), gross_pct=35.0
            )
        },
        open_orders_potential="50000",
        open_orders_potential_pct=5.0,
        prices_as_of_ns=T0,
    )
    return build(ExposureSnapshot, defaults, overrides)


def position_updated(qty: int = 100, **overrides: Any) -> PositionUpdated:
    """100 ACME long at 25.01 marked at 25.11: +10.00 unrealized (0.3998%)."""
    defaults = envelope(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        qty=qty,
        entry_price=PRICE,
        current_price="25.11",
        unrealized_pnl="10.00",
        unrealized_pnl_percent=0.3998,
    )
    return build(PositionUpdated, defaults, overrides)


def position_opened(**overrides: Any) -> PositionOpened:
    defaults = envelope(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        direction=Direction.LONG,
        qty=100,
        entry_price=PRICE,
    )
    return build(PositionOpened, defaults, overrides)


def position_closed(**overrides: Any) -> PositionClosed:
    """100 ACME bought at 25.01 and sold at 25.26: +25.00 realized (0.9996%)."""
    defaults = envelope(
        account=ACCOUNT,
        position_id="pos-1",
        symbol=SYMBOL,
        bucket=Bucket.LT,
        direction=Direction.LONG,
        qty=100,
        entry_price=PRICE,
        exit_price="25.26",
        realized_pnl="25.00",
        realized_pnl_percent=0.9996,
        hold_duration_seconds=600,
        exit_reason="target",
    )
    return build(PositionClosed, defaults, overrides)
