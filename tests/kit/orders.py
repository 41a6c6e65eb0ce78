"""Builders for execution tests: orders with sensible defaults and a seeded simulated venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantrail.execution.order import Order
from quantrail.execution.venues.base import Applied, VenueReport, apply_report
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.vocab import Bucket, OrderStatus, OrderType, Side, TimeInForce

T0 = 1_700_000_000_000_000_000
"""A fixed start time (int ns UTC) for execution tests."""

MS = 1_000_000


def new_order(**overrides: Any) -> Order:
    """A NEW day limit order to buy 1,000 XYZ at 10.00 for the LT book; override any field."""
    fields: dict[str, Any] = {
        "order_id": "O-1",
        "intent_id": "I-1",
        "account": "ACC-1",
        "symbol": "XYZ",
        "side": Side.BUY,
        "qty": 1000,
        "order_type": OrderType.LIMIT,
        "limit_price": Decimal("10.00"),
        "tif": TimeInForce.DAY,
        "bucket": Bucket.LT,
        "created_ns": T0,
    }
    fields.update(overrides)
    return Order(**fields)


def working_order(**overrides: Any) -> Order:
    """An order the venue has acknowledged and that rests (status WORKING)."""
    order = new_order(**overrides)
    order.move_to(OrderStatus.SUBMITTED, T0)
    order.accept(f"V-{order.order_id}", T0 + 1)
    order.move_to(OrderStatus.WORKING, T0 + 1)
    return order


def simulated_venue(**overrides: Any) -> SimulatedVenue:
    """A touch-model venue with zero latency, IBKR-like fees (0.0035/share, 0.35 minimum)."""
    settings: dict[str, Any] = {
        "seed": 7,
        "latency_ns": 0,
        "fee_per_share": Decimal("0.0035"),
        "min_fee": Decimal("0.35"),
        "fill_model": "touch",
    }
    settings.update(overrides)
    return SimulatedVenue(**settings)


def apply_reports(orders: dict[str, Order], reports: list[VenueReport]) -> list[Applied]:
    """Apply each report to the order it names, in order (as the execution service does)."""
    return [apply_report(orders[report.order_id], report) for report in reports]
