"""The order: what we asked a venue to do and what it has done so far.

An ``Order`` is mutable, but only through its methods, and every status change goes through the
state machine's table. Fill money is kept exactly: ``filled_notional`` is the sum of
``qty * price`` over fills, so the average price is derived, never rounded and stored.

Replace is cancel-then-new (see ``request_replace`` / ``confirm_cancel``): the old order ends
CANCELED, keeps what it filled and links to its successor, which works the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from quantrail.execution.state_machine import InvalidTransition, transition
from quantrail.money import ZERO
from quantrail.vocab import Bucket, Mode, OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus

# Statuses in which a late venue ack is only news (the order already moved on): we record the
# venue's id and change nothing.
_ACK_OVERTAKEN = frozenset(S) - {S.NEW, S.SUBMITTED, S.REJECTED, S.DENIED}
_PENDING = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})
_REPLACEMENT_SUFFIX = re.compile(r"^(?P<base>.+)\.r(?P<n>\d+)$")


class OverfillError(ValueError):
    """A fill for more shares than the order has left."""


def order_id_for_intent(intent_id: str) -> str:
    """The order id an intent gets: the same intent always maps to the same order.

    Delivered twice, an intent yields the same id, so the registry's create-if-absent keeps one
    order. Successors made by a replace get ``replacement_id`` instead, so they never clash.
    """
    require_text("intent_id", intent_id)
    return "O" + hashlib.sha256(intent_id.encode()).hexdigest()[:24]


def replacement_id(order_id: str) -> str:
    """``X`` -> ``X.r1`` -> ``X.r2``: deterministic, so a redelivered cancel ack gives one id."""
    found = _REPLACEMENT_SUFFIX.match(order_id)
    if found is None:
        return f"{order_id}.r1"
    return f"{found['base']}.r{int(found['n']) + 1}"


@dataclasses.dataclass(slots=True, kw_only=True)
class Order:
    """One order. Quantities are whole shares; prices and fees are exact Decimals.

    ``replace_qty``/``replace_price`` hold a replace request in flight (0/None when none):
    they survive a fill that races the request, so the cancel ack still brings the successor.
    ``mode`` is the risk mode the order was created under (the probabilistic fill model uses it).
    """

    order_id: str
    intent_id: str
    account: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    bucket: Bucket
    created_ns: int
    client_order_id: str = ""
    status: OrderStatus = S.NEW
    filled_qty: int = 0
    filled_notional: Decimal = ZERO
    fees: Decimal = ZERO
    venue_order_id: str = ""
    replaces_order_id: str = ""
    replaced_by_order_id: str = ""
    updated_ns: int = 0
    reduce_only: bool = False
    mode: Mode = Mode.NORMAL
    replace_qty: int = 0
    replace_price: Decimal | None = None
    fill_ids: list[str] = dataclasses.field(default_factory=list)
    evaluation_id: str = ""
    """The risk approval a strategy request traded on (empty for internal orders)."""
    stop_price: Decimal | None = None
    """For a stop exit: the stop level that triggered it (a bar venue fills there)."""

    def __post_init__(self) -> None:
        if not self.client_order_id:
            self.client_order_id = self.order_id
        _validate(self)
        self.updated_ns = max(self.updated_ns, self.created_ns)

    # --- derived -------------------------------------------------------------------------

    @property
    def unfilled_qty(self) -> int:
        """Shares not yet filled, whatever the status (what a fill may still take)."""
        return self.qty - self.filled_qty

    @property
    def leaves_qty(self) -> int:
        """Shares still working at the venue: 0 once the order is terminal."""
        return 0 if self.status.is_terminal else self.unfilled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    @property
    def avg_fill_price(self) -> Decimal | None:
        """Exact to the Decimal context (28 digits); None before the first fill."""
        if self.filled_qty == 0:
            return None
        return self.filled_notional / self.filled_qty

    # --- lifecycle -----------------------------------------------------------------------

    def move_to(self, target: OrderStatus, ts_ns: int) -> OrderStatus:
        """Change status through the table (raises ``InvalidTransition``, changing nothing)."""
        self.status = transition(self.order_id, self.status, target)
        self.updated_ns = ts_ns
        if self.status.is_terminal:
            self._clear_replace()
        return self.status

    def accept(self, venue_order_id: str, ts_ns: int) -> bool:
        """The venue's ack: SUBMITTED -> ACCEPTED. True when the status changed.

        An ack overtaken by a fill or a cancel only records the venue's id.
        """
        require_text("venue_order_id", venue_order_id)
        if self.venue_order_id and self.venue_order_id != venue_order_id:
            raise ValueError(
                f"venue_order_id: order {self.order_id!r} already has "
                f"{self.venue_order_id!r}, got {venue_order_id!r}"
            )
        if self.status is S.SUBMITTED:
            self.move_to(S.ACCEPTED, ts_ns)
            self.venue_order_id = venue_order_id
            return True
        if self.status in _ACK_OVERTAKEN:
            self.venue_order_id = venue_order_id
            return False
        raise InvalidTransition(self.order_id, self.status, S.ACCEPTED)

    def apply_fill(self, fill_id: str, qty: int, price: Decimal, fee: Decimal, ts_ns: int) -> bool:
        """Add one execution. False (and no change) when ``fill_id`` was already applied.

        Refuses a fill larger than what is unfilled; ``fee`` may be negative (a rebate).
        """
        require_text("fill_id", fill_id)
        if fill_id in self.fill_ids:
            return False
        require_shares("qty", qty)
        require_price("price", price)
        require_finite("fee", fee)
        if qty > self.unfilled_qty:
            raise OverfillError(
                f"qty: fill {fill_id!r} of {qty} shares exceeds the {self.unfilled_qty} unfilled "
                f"on order {self.order_id!r} (qty {self.qty}, filled {self.filled_qty})"
            )
        target = S.FILLED if qty == self.unfilled_qty else S.PARTIALLY_FILLED
        self.move_to(target, ts_ns)
        self.filled_qty += qty
        self.filled_notional += qty * price
        self.fees += fee
        self.fill_ids.append(fill_id)
        return True

    def correct_fill(
        self,
        fill_id: str,
        correction_id: str,
        was: tuple[int, Decimal, Decimal],
        now: tuple[int, Decimal, Decimal],
        ts_ns: int,
    ) -> bool:
        """The venue replaced an execution of ours: ``was`` (qty, price, fee) out, ``now`` in.
        False (and no change) when ``correction_id`` was already applied.

        The status never moves: a correction restates a past execution, IB does not reopen or
        complete an order by it. A quantity change moves ``filled_qty`` (refused beyond the
        order's quantity or below one share); ``correction_id`` joins ``fill_ids``, so the
        reconciliation after a restart knows it as booked."""
        require_text("fill_id", fill_id)
        require_text("correction_id", correction_id)
        if correction_id in self.fill_ids:
            return False
        if fill_id not in self.fill_ids:
            raise ValueError(f"fill_id: {fill_id!r} is not a fill of order {self.order_id!r}")
        (was_qty, was_price, was_fee), (qty, price, fee) = was, now
        require_shares("qty", qty)
        require_price("price", price)
        require_finite("fee", fee)
        filled = self.filled_qty - was_qty + qty
        if not 0 < filled <= self.qty:
            raise OverfillError(
                f"qty: correction {correction_id!r} to {qty} shares makes {filled} filled on "
                f"order {self.order_id!r} of {self.qty}"
            )
        self.filled_qty = filled
        self.filled_notional += qty * price - was_qty * was_price
        self.fees += fee - was_fee
        self.fill_ids.append(correction_id)
        self.updated_ns = max(self.updated_ns, ts_ns)
        return True

    def request_cancel(self, ts_ns: int) -> None:
        """A cancel is on its way; it overrides a replace in flight (no successor will come)."""
        self.move_to(S.PENDING_CANCEL, ts_ns)
        self._clear_replace()

    def request_replace(self, new_qty: int, new_price: Decimal, ts_ns: int) -> None:
        """Ask for new terms. ``new_qty`` is the new total, filled shares included (as FIX
        OrderQty): the successor works ``new_qty - filled_qty`` as counted at the cancel ack."""
        if self.order_type is not OrderType.LIMIT:
            raise ValueError(f"order_type: only LIMIT orders are replaced, got {self.order_type}")
        require_shares("new_qty", new_qty)
        require_price("new_price", new_price)
        if new_qty <= self.filled_qty:
            raise ValueError(
                f"new_qty: {new_qty} is not above the {self.filled_qty} already filled on "
                f"order {self.order_id!r}; cancel instead"
            )
        self.move_to(S.PENDING_REPLACE, ts_ns)
        self.replace_qty = new_qty
        self.replace_price = new_price

    def cancel_rejected(self, ts_ns: int) -> bool:
        """The venue refused our cancel or replace. True when the status changed.

        A pending order goes back to WORKING (or PARTIALLY_FILLED if it has fills); an order
        that a fill already moved on (often to FILLED: the usual reason for the refusal) keeps
        its status and only forgets the replace request.
        """
        self._clear_replace()
        if self.status not in _PENDING:
            return False
        self.move_to(S.PARTIALLY_FILLED if self.filled_qty else S.WORKING, ts_ns)
        return True

    def confirm_cancel(self, ts_ns: int) -> Order | None:
        """The venue canceled the order: CANCELED, and the successor if a replace was asked.

        The successor is NEW (submit it next); None when there was no replace or nothing is
        left of the requested total.
        """
        successor = self._successor(ts_ns)
        self.move_to(S.CANCELED, ts_ns)
        if successor is not None:
            self.replaced_by_order_id = successor.order_id
        return successor

    def _successor(self, ts_ns: int) -> Order | None:
        remaining = self.replace_qty - self.filled_qty
        if self.replace_qty == 0 or remaining <= 0:
            return None
        new_id = replacement_id(self.order_id)
        return Order(
            order_id=new_id,
            intent_id=self.intent_id,
            account=self.account,
            symbol=self.symbol,
            side=self.side,
            qty=remaining,
            order_type=self.order_type,
            limit_price=self.replace_price,
            tif=self.tif,
            bucket=self.bucket,
            created_ns=ts_ns,
            replaces_order_id=self.order_id,
            reduce_only=self.reduce_only,
            mode=self.mode,
            stop_price=self.stop_price,
            evaluation_id=self.evaluation_id,
        )

    def _clear_replace(self) -> None:
        self.replace_qty = 0
        self.replace_price = None

    # --- storage (a Redis hash: str -> str) ----------------------------------------------

    def to_dict(self) -> dict[str, str]:
        """Every field as a string; ``avg_fill_price`` is added for readers and ignored back."""
        out = {name: _CODECS[name][0](getattr(self, name)) for name in _FIELD_NAMES}
        avg = self.avg_fill_price
        out["avg_fill_price"] = "" if avg is None else str(avg)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Order:
        """The inverse of ``to_dict``; a missing field with a default takes the default."""
        unknown = set(data) - set(_FIELD_NAMES) - {"avg_fill_price"}
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: unknown order field")
        kwargs: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            if name in data:
                kwargs[name] = _decode(name, data[name])
            elif name in _REQUIRED:
                raise ValueError(f"{name}: missing from the stored order")
        return cls(**kwargs)


# --- validation (the require_* checks are shared with the venues) --------------------------


def _validate(order: Order) -> None:
    for name in ("order_id", "client_order_id", "account", "symbol"):
        require_text(name, getattr(order, name))
    for field in dataclasses.fields(order):
        kind = _ENUMS.get(str(field.type))
        value = getattr(order, field.name)
        if kind is not None and not isinstance(value, kind):
            raise ValueError(f"{field.name}: must be a {kind.__name__}, got {value!r}")
    require_shares("qty", order.qty)
    _require_limit(order.order_type, "limit_price", order.limit_price)
    require_count("filled_qty", order.filled_qty)
    if order.filled_qty > order.qty:
        raise ValueError(f"filled_qty: {order.filled_qty} exceeds qty {order.qty}")
    require_finite("filled_notional", order.filled_notional)
    if (order.filled_qty == 0) != (order.filled_notional == 0) or order.filled_notional < 0:
        raise ValueError(
            f"filled_notional: {order.filled_notional} does not fit filled_qty {order.filled_qty}"
        )
    require_finite("fees", order.fees)
    require_count("created_ns", order.created_ns)
    require_count("updated_ns", order.updated_ns)
    require_count("replace_qty", order.replace_qty)
    if order.replace_qty:
        require_price("replace_price", order.replace_price)
    elif order.replace_price is not None:
        raise ValueError(
            f"replace_price: must be None without replace_qty, got {order.replace_price}"
        )
    if order.stop_price is not None:
        require_price("stop_price", order.stop_price)
    if not isinstance(order.reduce_only, bool):
        raise ValueError(f"reduce_only: must be a bool, got {order.reduce_only!r}")


def require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: must be a non-empty string, got {value!r}")


def require_count(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}: must be an integer >= 0, got {value!r}")


def require_shares(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: must be a whole number of shares > 0, got {value!r}")


def require_finite(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name}: must be a finite Decimal, got {value!r}")


def require_price(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name}: must be a finite Decimal price > 0, got {value!r}")


def _require_limit(order_type: OrderType, name: str, price: Decimal | None) -> None:
    if order_type is OrderType.MARKET:
        if price is not None:
            raise ValueError(f"{name}: must be None for a MARKET order, got {price}")
        return
    require_price(name, price)


# --- string codecs for to_dict / from_dict, chosen by each field's declared type -----------

_ENUMS: dict[str, type[Any]] = {
    kind.__name__: kind for kind in (Side, OrderType, TimeInForce, Bucket, OrderStatus, Mode)
}
_Codec = tuple[Callable[[Any], str], Callable[[str], Any]]
_CODEC_BY_TYPE: dict[str, _Codec] = {
    **{name: (str, kind) for name, kind in _ENUMS.items()},
    "str": (str, str),
    "int": (str, int),
    "Decimal": (str, Decimal),
    "Decimal | None": (
        lambda value: "" if value is None else str(value),
        lambda text: None if text == "" else Decimal(text),
    ),
    "bool": (
        lambda value: "true" if value else "false",
        lambda text: {"true": True, "false": False}[text],
    ),
    "list[str]": (
        lambda value: msgspec.json.encode(value).decode(),
        lambda text: msgspec.json.decode(text, type=list[str]),
    ),
}
# A new field of a type with no codec fails here, at import, not in production.
_CODECS = {field.name: _CODEC_BY_TYPE[str(field.type)] for field in dataclasses.fields(Order)}
_FIELD_NAMES = tuple(_CODECS)
_REQUIRED = frozenset(
    field.name
    for field in dataclasses.fields(Order)
    if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
)
_DECODE_ERRORS = (ValueError, KeyError, InvalidOperation, msgspec.DecodeError)


def _decode(name: str, text: str) -> Any:
    try:
        return _CODECS[name][1](text)
    except _DECODE_ERRORS:
        raise ValueError(f"{name}: cannot read {text!r}") from None
