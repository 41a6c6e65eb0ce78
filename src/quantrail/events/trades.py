"""Trade intents and trade requests: what the decision engine wants and what execution must do.

An intent (``trades.intent.created``) is the decision engine's wish; the risk kernel approves,
vetoes or modifies it. A request (``trades.request.*``) is a command to the execution service,
the only component that talks to a venue.

The field checks at the bottom are shared with ``orders.py``: an order-shaped event with a zero
quantity, a non-finite price or a limit price that disagrees with its order type is refused
when built and when decoded, so it never reaches a venue or the ledger.
"""

from __future__ import annotations

from typing import Literal

from quantrail.events.base import Event, Money
from quantrail.vocab import Bucket, Direction, Mode, OrderType, Side, TimeInForce

Urgency = Literal["LOW", "MEDIUM", "HIGH", "URGENT"]
"""How hard to push: passive corrections are LOW, hard de-risk is URGENT."""


class IntentCreated(Event, frozen=True, kw_only=True, tag="trades.intent.created"):
    """The decision engine wants an order; nothing is sent until the risk kernel approves.

    ``step`` counts chunks of a chunked reduction (0 for a single intent);
    ``replaces_intent_id`` names the intent this one supersedes (re-pricing a de-risk step).
    """

    intent_id: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price: Money | None = None
    tif: TimeInForce = TimeInForce.DAY
    bucket: Bucket
    mode: Mode
    reason: str = ""
    reduce_only: bool = False
    step: int = 0
    replaces_intent_id: str | None = None
    urgency: Urgency = "MEDIUM"
    position_id: str = ""
    """For an exit: the position it closes."""
    stop_price: Money | None = None
    """For a stop exit: the stop level that triggered it (a bar backtest fills it there)."""

    def __post_init__(self) -> None:
        require_text("intent_id", self.intent_id)
        require_text("symbol", self.symbol)
        require_qty("qty", self.qty)
        require_limit(self.order_type, self.limit_price)
        if self.step < 0:
            raise ValueError(f"step: must be >= 0, got {self.step}")


class SubmitOrder(Event, frozen=True, kw_only=True, tag="trades.request.submit"):
    """Command: place this (already approved and sized) order.

    ``evaluation_id`` is required: every order passes the risk kernel. The seed's sizing fields
    (direction, entry_price, stop_loss, risk_amount, risk_percent) are kept for the audit trail.
    """

    request_id: str
    evaluation_id: str
    intent_id: str = ""
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price: Money | None = None
    tif: TimeInForce = TimeInForce.DAY
    bucket: Bucket
    reduce_only: bool = False
    direction: Direction | None = None
    entry_price: Money | None = None
    stop_loss: Money | None = None
    risk_amount: Money | None = None
    risk_percent: float | None = None
    signal_id: str = ""
    strategy: str = ""
    approval_max_qty: int = 0
    """Copied from the evaluation: the approved size, its time and its signature, so execution
    can check the approval without trusting the request (``quantrail.risk.signing``)."""
    approval_ts_ns: int = 0
    approval_signature: str = ""
    approval_key_id: str = ""

    def __post_init__(self) -> None:
        require_text("request_id", self.request_id)
        require_text("evaluation_id", self.evaluation_id)
        require_text("symbol", self.symbol)
        require_qty("qty", self.qty)
        require_limit(self.order_type, self.limit_price)
        require_price("entry_price", self.entry_price)
        require_price("stop_loss", self.stop_loss)
        require_finite("risk_amount", self.risk_amount)


class CancelOrder(Event, frozen=True, kw_only=True, tag="trades.request.cancel"):
    """Command: cancel a working order."""

    order_id: str
    reason: str = ""
    symbol: str = ""  # the order's symbol: its shard when trades.request is sharded (bus.shards)

    def __post_init__(self) -> None:
        require_text("order_id", self.order_id)


class ReplaceOrder(Event, frozen=True, kw_only=True, tag="trades.request.replace"):
    """Command: replace a working limit order with a new total quantity and limit price.

    Both are required (no "unchanged" marker) so a replace always says exactly what will work.
    """

    order_id: str
    qty: int
    limit_price: Money
    reason: str = ""
    symbol: str = ""  # the order's symbol: its shard when trades.request is sharded (bus.shards)

    def __post_init__(self) -> None:
        require_text("order_id", self.order_id)
        require_qty("qty", self.qty)
        require_price("limit_price", self.limit_price)


def require_text(name: str, value: str) -> None:
    if not value:
        raise ValueError(f"{name}: must not be empty, got {value!r}")


def require_qty(name: str, value: int) -> None:
    """Order quantities are whole shares, strictly positive (the side carries the sign)."""
    if value <= 0:
        raise ValueError(f"{name}: must be > 0 shares, got {value}")


def require_finite(name: str, value: Money | None) -> None:
    if value is not None and not _as_money(name, value).is_finite():
        raise ValueError(f"{name}: must be a finite amount, got {value}")


def require_price(name: str, value: Money | None) -> None:
    if value is not None and (not _as_money(name, value).is_finite() or value <= 0):
        raise ValueError(f"{name}: must be a finite price > 0, got {value}")


def _as_money(name: str, value: object) -> Money:
    # Constructors do not type-check: a float or str here would break exact arithmetic later.
    if not isinstance(value, Money):
        raise TypeError(f"{name}: must be a Decimal, got {value!r} ({type(value).__name__})")
    return value


def require_limit(order_type: OrderType, limit_price: Money | None) -> None:
    """A LIMIT order needs a limit price; a MARKET order must not carry one."""
    if order_type is OrderType.LIMIT and limit_price is None:
        raise ValueError("limit_price: required for a LIMIT order, got None")
    if order_type is OrderType.MARKET and limit_price is not None:
        raise ValueError(f"limit_price: must be None for a MARKET order, got {limit_price}")
    require_price("limit_price", limit_price)
