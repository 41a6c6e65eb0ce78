"""The kill switch as the execution service obeys it (pure: the service does the I/O).

An activation (``account`` None: every account) cancels every open order of its scope and
denies every non-reducing order until a ``KillSwitchReset`` (sent by a person; a reset without
an account clears every activation). With ``flatten``, once the scope's cancels are confirmed
(no open order left but flatten orders), each open position gets a reduce-only MARKET order
closing it. The LiquidityGuard may cut such an order to a chunk; the next chunk follows when the
symbol has no open order and its min interval has passed. A flatten order's intent id is
``flatten:<activation event id>:<account>:<symbol>:<position qty>``, so one position is tried
once (a denied odd lot is not retried every tick) and a restart finds the ids in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from quantrail.events import Event, KillSwitchActivated, KillSwitchReset
from quantrail.execution.order import Order, order_id_for_intent
from quantrail.risk.liquidity import LiquidityGuard
from quantrail.risk.positions import Position, PositionBook
from quantrail.vocab import Mode, OrderStatus, OrderType, Side, TimeInForce

FLATTEN_PREFIX = "flatten:"


class KillSwitch:
    def __init__(self) -> None:
        self.activations: dict[str | None, KillSwitchActivated] = {}
        self._tried: set[str] = set()

    def apply(self, event: Event) -> bool:
        """Record an activation or reset; True for an activation (orders are to be canceled)."""
        if isinstance(event, KillSwitchActivated):
            self.activations[event.account] = event
            return True
        if isinstance(event, KillSwitchReset):
            if event.account is None:
                self.activations.clear()
            self.activations.pop(event.account, None)
        return False

    def active(self, account: str) -> bool:
        return None in self.activations or account in self.activations

    def to_cancel(self, activation: KillSwitchActivated, orders: Iterable[Order]) -> list[Order]:
        """Open orders of the activation's scope, but its own flatten orders and those whose
        cancel is already on its way."""
        own = _own_prefix(activation)
        return [
            order
            for order in orders
            if activation.account in (None, order.account)
            and order.status is not OrderStatus.PENDING_CANCEL
            and not order.intent_id.startswith(own)
        ]

    def flatten_orders(
        self,
        books: Mapping[str, PositionBook],
        open_orders: Iterable[Order],
        guard: LiquidityGuard,
        now_ns: int,
    ) -> list[tuple[KillSwitchActivated, Order]]:
        """The flatten orders due now, each with the activation that asks for it."""
        orders = list(open_orders)
        due: list[tuple[KillSwitchActivated, Order]] = []
        for scope, activation in self.activations.items():
            if not activation.flatten:
                continue
            own = _own_prefix(activation)
            for account, book in sorted(books.items()):
                mine = [o for o in orders if o.account == account]
                if scope not in (None, account) or any(
                    not o.intent_id.startswith(own) for o in mine
                ):
                    continue  # not in scope, or cancels still unconfirmed
                busy = {o.symbol for o in mine}
                for held in book.open_positions():
                    if held.symbol in busy or _too_soon(guard, held.symbol, now_ns):
                        continue
                    intent_id = f"{own}{held.account}:{held.symbol}:{held.qty}"
                    if intent_id not in self._tried:
                        self._tried.add(intent_id)
                        due.append((activation, _flatten_order(intent_id, held, now_ns)))
        return due


def _own_prefix(activation: KillSwitchActivated) -> str:
    return f"{FLATTEN_PREFIX}{activation.event_id}:"


def _too_soon(guard: LiquidityGuard, symbol: str, now_ns: int) -> bool:
    """Sending now would only earn a RATE_LIMIT denial (and burn the position's intent id)."""
    last = guard.last_submitted_ns(symbol)
    return last is not None and now_ns - last < guard.config.limits_for(symbol).min_interval_ns


def _flatten_order(intent_id: str, held: Position, now_ns: int) -> Order:
    return Order(
        order_id=order_id_for_intent(intent_id),
        intent_id=intent_id,
        account=held.account,
        symbol=held.symbol,
        side=Side.SELL if held.qty > 0 else Side.BUY,
        qty=abs(held.qty),
        order_type=OrderType.MARKET,
        limit_price=None,
        tif=TimeInForce.DAY,
        bucket=held.bucket,
        created_ns=now_ns,
        reduce_only=True,
        mode=Mode.HARD_DERISK,
    )
