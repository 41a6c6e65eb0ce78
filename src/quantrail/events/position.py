"""Position events from the ledger: a position's state, its opening and its closing.

``PositionUpdated.qty`` is signed (long > 0, short < 0, flat 0). Opening and closing events
carry a ``direction`` and an unsigned ``qty``. Hold times are whole seconds, as in the seeds.
"""

from __future__ import annotations

from quantrail.events.base import Event, Money
from quantrail.money import ZERO
from quantrail.vocab import Bucket, Direction


class PositionUpdated(Event, frozen=True, kw_only=True, tag="position.state.updated"):
    """A position's state changed (fill or new mark); ``entry_price`` is the average cost."""

    position_id: str
    symbol: str
    bucket: Bucket
    qty: int
    entry_price: Money
    current_price: Money
    unrealized_pnl: Money
    unrealized_pnl_percent: float
    stop_loss: Money | None = None
    age_seconds: int = 0
    realized_pnl: Money = ZERO
    strategy: str = ""

    @property
    def direction(self) -> Direction:
        if self.qty > 0:
            return Direction.LONG
        return Direction.SHORT if self.qty < 0 else Direction.FLAT


class PositionOpened(Event, frozen=True, kw_only=True, tag="position.state.opened"):
    """A position went from flat to ``qty`` shares in ``direction``."""

    position_id: str
    symbol: str
    bucket: Bucket
    direction: Direction
    qty: int
    entry_price: Money
    stop_loss: Money | None = None
    risk_amount: Money | None = None
    strategy: str = ""
    signal_id: str = ""
    evaluation_id: str = ""
    request_id: str = ""

    def __post_init__(self) -> None:
        _require_open_direction(self.direction, self.qty)


class PositionClosed(Event, frozen=True, kw_only=True, tag="position.state.closed"):
    """A position went back to flat; ``qty`` is the size that was closed."""

    position_id: str
    symbol: str
    bucket: Bucket
    direction: Direction
    qty: int
    entry_price: Money
    exit_price: Money
    realized_pnl: Money
    realized_pnl_percent: float
    hold_duration_seconds: int
    exit_reason: str = ""
    fees: Money = ZERO
    """Every fee of the position's fills, entry and exit (``realized_pnl`` is before fees)."""
    opened_ns: int = 0
    strategy: str = ""
    signal_id: str = ""
    evaluation_id: str = ""

    def __post_init__(self) -> None:
        _require_open_direction(self.direction, self.qty)


def _require_open_direction(direction: Direction, qty: int) -> None:
    if direction is Direction.FLAT:
        raise ValueError("direction: must be LONG or SHORT, got FLAT")
    if qty <= 0:
        raise ValueError(f"qty: must be > 0 shares (direction gives the side), got {qty}")
