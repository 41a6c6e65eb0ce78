"""LiquidityGuard: pre-trade sizing that every order path passes.

The guard resizes an order down or denies it, and says why each time. Rules, in this order:

1. caps resize down: ``max_qty`` (ABOVE_MAX), then ``max_adv_fraction`` of average daily volume
   (ADV_CAP; the config's ``adv`` per symbol, else ``default_adv``), then
   ``max_displayed_fraction`` of the size displayed on the side the order would take
   (DISPLAYED_CAP); each share cap is ``floor(volume * fraction)`` shares;
2. round down to whole round lots (ROUND_LOT);
3. below ``min_qty`` after all that: DENY (BELOW_MIN);
4. an order for the same symbol less than ``min_interval_s`` ago: DENY (RATE_LIMIT);
5. ``max_open_orders_per_symbol`` working orders already: DENY (OPEN_ORDER_CAP).

Every rule is evaluated, so a denied order carries every reason that applied. Reduce-only orders
(de-risking) get one relief: the two market-share caps never cut them below the smallest order
the guard would pass (``min_qty`` rounded up to a lot), so HARD_DERISK can still act in a thin
name. Everything else, rate limit and open-order cap included, applies to them too.

``check`` does not change the guard; ``record_submitted`` tells it an order went out so the
per-symbol interval holds even before the order registry reports it.
"""

from __future__ import annotations

import enum
import math
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import msgspec

from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Side


class LiquidityCode(enum.StrEnum):
    """Why the guard resized or denied an order."""

    ABOVE_MAX = "ABOVE_MAX"
    ADV_CAP = "ADV_CAP"
    DISPLAYED_CAP = "DISPLAYED_CAP"
    ROUND_LOT = "ROUND_LOT"
    BELOW_MIN = "BELOW_MIN"
    RATE_LIMIT = "RATE_LIMIT"
    OPEN_ORDER_CAP = "OPEN_ORDER_CAP"


class GuardAction(enum.StrEnum):
    PASS = "PASS"
    RESIZE = "RESIZE"
    DENY = "DENY"


def _check_int(name: str, value: object, minimum: int) -> None:
    # bool is an int subclass; True shares is a bug, not a quantity.
    if type(value) is not int:
        raise ValueError(f"{name}: must be an integer (value: {value!r})")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum} (value: {value!r})")


def _check_fraction(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name}: must be a Decimal (value: {value!r})")
    if not Decimal(0) < value <= Decimal(1):
        raise ValueError(f"{name}: must be > 0 and <= 1 (value: {value})")


def _check_seconds(name: str, value: object) -> None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not 0 <= value < math.inf:  # type: ignore[operator]
        raise ValueError(f"{name}: must be a finite number of seconds >= 0 (value: {value!r})")


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class LiquidityLimits(_Section, frozen=True, kw_only=True):
    """The limits for one symbol; ``LiquidityConfig`` holds the defaults plus overrides."""

    round_lot: int = 100
    min_qty: int = 100
    max_qty: int = 10_000
    max_adv_fraction: Decimal = Decimal("0.05")
    max_displayed_fraction: Decimal = Decimal("0.5")
    min_interval_s: float = 2.0
    max_open_orders_per_symbol: int = 3

    def __post_init__(self) -> None:
        _check_int("round_lot", self.round_lot, 1)
        _check_int("min_qty", self.min_qty, 1)
        _check_int("max_qty", self.max_qty, 1)
        _check_fraction("max_adv_fraction", self.max_adv_fraction)
        _check_fraction("max_displayed_fraction", self.max_displayed_fraction)
        _check_seconds("min_interval_s", self.min_interval_s)
        _check_int("max_open_orders_per_symbol", self.max_open_orders_per_symbol, 1)
        if self.largest_lot_qty < self.smallest_passing_qty:
            # No order could ever pass: a config mistake, not a trading decision.
            raise ValueError(
                f"max_qty: {self.max_qty} in lots of {self.round_lot} leaves no size "
                f">= min_qty {self.min_qty}"
            )

    @property
    def smallest_passing_qty(self) -> int:
        """``min_qty`` rounded up to a whole lot: the smallest order the guard passes."""
        return -(-self.min_qty // self.round_lot) * self.round_lot

    @property
    def largest_lot_qty(self) -> int:
        return self.max_qty // self.round_lot * self.round_lot

    @property
    def min_interval_ns(self) -> int:
        return round(self.min_interval_s * NS_PER_SECOND)


class LiquidityOverride(_Section, frozen=True, kw_only=True):
    """Per-symbol changes to the defaults; a field left out (None) keeps the default."""

    round_lot: int | None = None
    min_qty: int | None = None
    max_qty: int | None = None
    max_adv_fraction: Decimal | None = None
    max_displayed_fraction: Decimal | None = None
    min_interval_s: float | None = None
    max_open_orders_per_symbol: int | None = None

    def changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not None
        }


DEFAULT_ADV = 1_000_000
"""Shares a day assumed for a symbol the ``adv`` map does not name."""


class LiquidityConfig(LiquidityLimits, frozen=True, kw_only=True):
    """Default limits for every symbol, plus ``overrides`` keyed by exact symbol.

    ``adv`` is average daily volume in shares per exact symbol; a symbol it does not name gets
    ``default_adv``. Both feed the ``max_adv_fraction`` cap.
    """

    overrides: dict[str, LiquidityOverride] = msgspec.field(default_factory=dict)
    default_adv: int = DEFAULT_ADV
    adv: dict[str, int] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        for symbol in self.overrides:
            _check_symbol("overrides", symbol)
            try:
                self.limits_for(symbol)
            except ValueError as exc:
                raise ValueError(f"overrides: {symbol}: {exc}") from None
        _check_int("default_adv", self.default_adv, 1)
        for symbol, volume in self.adv.items():
            _check_symbol("adv", symbol)
            _check_int(f"adv: {symbol}", volume, 1)

    def limits_for(self, symbol: str) -> LiquidityLimits:
        defaults = {name: getattr(self, name) for name in LiquidityLimits.__struct_fields__}
        override = self.overrides.get(symbol)
        if override is not None:
            defaults.update(override.changes())
        return LiquidityLimits(**defaults)

    def adv_for(self, symbol: str) -> int:
        """Average daily volume of ``symbol`` in shares: its ``adv`` entry, else the default."""
        return self.adv.get(symbol, self.default_adv)


def _check_symbol(section: str, symbol: str) -> None:
    if not symbol.strip():
        raise ValueError(f"{section}: symbol must not be blank (value: {symbol!r})")


class ProposedOrder(msgspec.Struct, frozen=True, kw_only=True):
    """The order a path wants to send, before sizing."""

    symbol: str
    side: Side
    qty: int
    reduce_only: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise ValueError(f"symbol: must be a non-blank string (value: {self.symbol!r})")
        if not isinstance(self.side, Side):
            raise ValueError(f"side: must be a Side (value: {self.side!r})")
        _check_int("qty", self.qty, 1)


class LiquidityView(msgspec.Struct, frozen=True, kw_only=True):
    """What the market and the order registry say about the symbol right now.

    ``displayed_size`` is the size displayed on the side the order would take (the ask for a
    buy, the bid for a sell). ``last_order_ns`` is the last order the registry knows of.
    """

    adv: int
    displayed_size: int
    open_orders_for_symbol: int = 0
    last_order_ns: int | None = None

    def __post_init__(self) -> None:
        _check_int("adv", self.adv, 0)
        _check_int("displayed_size", self.displayed_size, 0)
        _check_int("open_orders_for_symbol", self.open_orders_for_symbol, 0)
        if self.last_order_ns is not None:
            _check_int("last_order_ns", self.last_order_ns, 0)


class GuardReason(msgspec.Struct, frozen=True, kw_only=True):
    code: LiquidityCode
    text: str


class GuardResult(msgspec.Struct, frozen=True, kw_only=True):
    """The decision: the final qty (0 when denied) and one reason per rule that applied."""

    action: GuardAction
    symbol: str
    requested_qty: int
    qty: int
    reasons: tuple[GuardReason, ...] = ()

    @property
    def codes(self) -> tuple[LiquidityCode, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_details(self) -> dict[str, Any]:
        """Plain JSON-able fields for the reason event the caller publishes."""
        return {
            "action": str(self.action),
            "symbol": self.symbol,
            "requested_qty": self.requested_qty,
            "qty": self.qty,
            "reasons": [{"code": str(r.code), "text": r.text} for r in self.reasons],
        }


def _share_cap(volume: int, fraction: Decimal) -> int:
    return int((volume * fraction).to_integral_value(rounding=ROUND_FLOOR))


class LiquidityGuard:
    """Sizes orders against the config; remembers the last submission per symbol."""

    def __init__(self, config: LiquidityConfig) -> None:
        self._config = config
        self._default_limits = config.limits_for("")
        self._override_limits = {symbol: config.limits_for(symbol) for symbol in config.overrides}
        self._last_submitted_ns: dict[str, int] = {}

    @property
    def config(self) -> LiquidityConfig:
        return self._config

    def record_submitted(self, symbol: str, now_ns: int) -> None:
        """An order for ``symbol`` went out at ``now_ns``; keeps the later of two times."""
        _check_int("now_ns", now_ns, 0)
        previous = self._last_submitted_ns.get(symbol)
        if previous is None or now_ns > previous:
            self._last_submitted_ns[symbol] = now_ns

    def last_submitted_ns(self, symbol: str) -> int | None:
        return self._last_submitted_ns.get(symbol)

    def check(self, order: ProposedOrder, market: LiquidityView, now_ns: int) -> GuardResult:
        _check_int("now_ns", now_ns, 0)
        limits = self._override_limits.get(order.symbol, self._default_limits)
        qty, reasons = self._size(order, market, limits)
        reasons += self._gates(order.symbol, market, limits, now_ns)
        denied = any(r.code in _DENY_CODES for r in reasons)
        if denied:
            action, qty = GuardAction.DENY, 0
        else:
            action = GuardAction.RESIZE if qty != order.qty else GuardAction.PASS
        return GuardResult(
            action=action,
            symbol=order.symbol,
            requested_qty=order.qty,
            qty=qty,
            reasons=tuple(reasons),
        )

    def _size(
        self, order: ProposedOrder, market: LiquidityView, limits: LiquidityLimits
    ) -> tuple[int, list[GuardReason]]:
        reasons: list[GuardReason] = []
        qty = order.qty
        if qty > limits.max_qty:
            reasons.append(_reason(LiquidityCode.ABOVE_MAX, f"{qty} > max_qty {limits.max_qty}"))
            qty = limits.max_qty
        for code, cap, what in self._share_caps(order, market, limits):
            if qty > cap:
                reasons.append(_reason(code, f"{qty} cut to {cap} ({what})"))
                qty = cap
        lots = qty // limits.round_lot * limits.round_lot
        if lots != qty:
            text = f"{qty} rounded down to {lots} (round lot {limits.round_lot})"
            reasons.append(_reason(LiquidityCode.ROUND_LOT, text))
            qty = lots
        if qty < limits.min_qty:
            text = f"{qty} < min_qty {limits.min_qty}"
            reasons.append(_reason(LiquidityCode.BELOW_MIN, text))
        return qty, reasons

    def _share_caps(
        self, order: ProposedOrder, market: LiquidityView, limits: LiquidityLimits
    ) -> list[tuple[LiquidityCode, int, str]]:
        adv_cap = _share_cap(market.adv, limits.max_adv_fraction)
        shown_cap = _share_cap(market.displayed_size, limits.max_displayed_fraction)
        # De-risking must be able to act in a thin name: one passing lot is always allowed.
        floor = limits.smallest_passing_qty if order.reduce_only else 0
        adv_what = f"{limits.max_adv_fraction} of ADV {market.adv}"
        shown_what = f"{limits.max_displayed_fraction} of displayed {market.displayed_size}"
        if order.reduce_only:
            adv_what += f", reduce-only floor {floor}"
            shown_what += f", reduce-only floor {floor}"
        return [
            (LiquidityCode.ADV_CAP, max(adv_cap, floor), adv_what),
            (LiquidityCode.DISPLAYED_CAP, max(shown_cap, floor), shown_what),
        ]

    def _gates(
        self, symbol: str, market: LiquidityView, limits: LiquidityLimits, now_ns: int
    ) -> list[GuardReason]:
        reasons: list[GuardReason] = []
        last = self._last_order_ns(symbol, market)
        # A clock that seems to run backwards counts as "too soon": the safe side.
        if last is not None and now_ns - last < limits.min_interval_ns:
            waited_s = (now_ns - last) / NS_PER_SECOND
            text = f"last order {waited_s:.3f}s ago < min_interval_s {limits.min_interval_s}"
            reasons.append(_reason(LiquidityCode.RATE_LIMIT, text))
        if market.open_orders_for_symbol >= limits.max_open_orders_per_symbol:
            text = (
                f"{market.open_orders_for_symbol} open orders >= "
                f"max_open_orders_per_symbol {limits.max_open_orders_per_symbol}"
            )
            reasons.append(_reason(LiquidityCode.OPEN_ORDER_CAP, text))
        return reasons

    def _last_order_ns(self, symbol: str, market: LiquidityView) -> int | None:
        """The later of what the registry reports and what this guard recorded."""
        known = (market.last_order_ns, self._last_submitted_ns.get(symbol))
        return max((t for t in known if t is not None), default=None)


_DENY_CODES = frozenset(
    {LiquidityCode.BELOW_MIN, LiquidityCode.RATE_LIMIT, LiquidityCode.OPEN_ORDER_CAP}
)


def _reason(code: LiquidityCode, text: str) -> GuardReason:
    return GuardReason(code=code, text=text)
