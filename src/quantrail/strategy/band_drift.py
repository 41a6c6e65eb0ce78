"""LT band drift controller: small passive intents that bring the LT bucket back into its band.

The band is ``target ± band_pct`` in percentage points of equity (target 80, band 5: 75..85).
``lt_current_pct`` is the LT bucket's gross exposure %. The controller acts only in
``Mode.NORMAL`` and only while the bucket is strictly outside the band; on the band edge or
inside it, it emits nothing, which is how it stops.

- Above the band it reduces LT gross: sells LT longs at the ask and buys back LT shorts at the
  bid, largest absolute notional first. Both are reduce-only and never cross zero.
- Below the band it buys more of existing LT longs at the bid, largest first. It never opens a
  position and never adds to a short (a new short needs a borrow and a person's decision).

Prices are passive: a buy at ``bid - price_offset``, a sell at ``ask + price_offset``, never at
or through the other side; a locked or crossed quote (bid >= ask) is skipped. One intent per
symbol per cycle, at most ``max_intents_per_cycle``, each at most ``step_qty`` shares and
``max_notional_per_intent``, in whole lots. A cycle stops adding intents once their notional
covers the distance back to the band edge. A symbol is left alone for ``min_interval_s`` after
its last intent. Ids and idempotency keys hash account, trading date, cycle and symbol.

``enabled`` (default False) is for the service that runs the controller: a desk that has not
configured a band gets no corrective orders. ``evaluate(..., record=False)`` plans without
remembering, for a caller that calls ``note`` only once the intents are published (and after a
restart, for the intents it finds on the stream).
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from quantrail.money import CENT, ZERO
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Bucket, Mode, OrderType, Side, TimeInForce

STEP_QTY_RANGE = (100, 500)
BAND_PCT_RANGE = (Decimal(5), Decimal(10))


class DriftReason(enum.StrEnum):
    LT_ABOVE_BAND = "LT_ABOVE_BAND"
    LT_BELOW_BAND = "LT_BELOW_BAND"


def _check_int(name: str, value: object, minimum: int) -> None:
    if type(value) is not int:
        raise ValueError(f"{name}: must be an integer (value: {value!r})")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum} (value: {value!r})")


def _check_decimal(name: str, value: object) -> Decimal:
    # Money and percentages are exact: a float here would be a bug upstream.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(
            f"{name}: must be a Decimal, not {type(value).__name__} (value: {value!r})"
        )
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name}: must be finite (value: {value!r})")
    return number


class BandDriftConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    enabled: bool = False
    band_pct: Decimal = Decimal(5)
    round_lot: int = 100
    step_qty: int = 200
    max_intents_per_cycle: int = 3
    max_notional_per_intent: Decimal = Decimal(25_000)
    price_offset: Decimal = ZERO
    min_interval_s: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ValueError(f"enabled: must be true or false (value: {self.enabled!r})")
        band = _check_decimal("band_pct", self.band_pct)
        if not BAND_PCT_RANGE[0] <= band <= BAND_PCT_RANGE[1]:
            raise ValueError(f"band_pct: must be within 5..10 (value: {self.band_pct})")
        _check_int("round_lot", self.round_lot, 1)
        _check_int("step_qty", self.step_qty, 1)
        low, high = STEP_QTY_RANGE
        if not low <= self.step_qty <= high or self.step_qty % self.round_lot:
            raise ValueError(
                f"step_qty: must be within {low}..{high} and a multiple of round_lot "
                f"{self.round_lot} (value: {self.step_qty})"
            )
        _check_int("max_intents_per_cycle", self.max_intents_per_cycle, 1)
        if _check_decimal("max_notional_per_intent", self.max_notional_per_intent) <= ZERO:
            raise ValueError(
                f"max_notional_per_intent: must be > 0 (value: {self.max_notional_per_intent})"
            )
        offset = _check_decimal("price_offset", self.price_offset)
        if offset < ZERO or offset != offset.quantize(CENT):
            raise ValueError(
                f"price_offset: must be >= 0 in whole cents (value: {self.price_offset})"
            )
        is_number = isinstance(self.min_interval_s, int | float) and not isinstance(
            self.min_interval_s, bool
        )
        if not is_number or not 0 <= self.min_interval_s < math.inf:
            raise ValueError(
                f"min_interval_s: must be a finite number >= 0 (value: {self.min_interval_s!r})"
            )

    @property
    def min_interval_ns(self) -> int:
        return round(self.min_interval_s * NS_PER_SECOND)


class LtPosition(msgspec.Struct, frozen=True, kw_only=True):
    """One LT position and its quote: ``qty`` signed (negative is short), ``price`` the mark."""

    symbol: str
    qty: int
    bid: Decimal
    ask: Decimal
    price: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise ValueError(f"symbol: must be a non-blank string (value: {self.symbol!r})")
        if type(self.qty) is not int:
            raise ValueError(f"qty: must be an integer (value: {self.qty!r})")
        for name in ("bid", "ask", "price"):
            if _check_decimal(name, getattr(self, name)) <= ZERO:
                raise ValueError(
                    f"{name}: must be > 0 for {self.symbol} (value: {getattr(self, name)})"
                )

    @property
    def notional(self) -> Decimal:
        return abs(self.qty) * self.price


class CorrectiveIntent(msgspec.Struct, frozen=True, kw_only=True):
    """A passive LIMIT DAY order idea for the LT book; the risk kernel still has the last word."""

    intent_id: str
    idempotency_key: str
    account: str
    symbol: str
    side: Side
    qty: int
    limit_price: Decimal
    reduce_only: bool
    reason: DriftReason
    ts_ns: int
    cycle: int
    trading_date: date
    lt_current_pct: Decimal
    lt_target_pct: Decimal
    bucket: Bucket = Bucket.LT
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.DAY

    @property
    def notional(self) -> Decimal:
        return self.qty * self.limit_price


def intent_key(account: str, trading_date: date, cycle: int, symbol: str) -> str:
    """sha256 of the JSON array [kind, account, date, cycle, symbol]: no separator ambiguity."""
    parts = ["lt_band_drift", account, trading_date.isoformat(), cycle, symbol]
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()


class _Cycle(msgspec.Struct, frozen=True, kw_only=True):
    """What one evaluate call knows: shared by every intent it makes."""

    reason: DriftReason
    now_ns: int
    trading_date: date
    cycle: int
    current_pct: Decimal
    target_pct: Decimal

    @property
    def reduces(self) -> bool:
        """Above the band every intent reduces a position; below it every intent adds."""
        return self.reason is DriftReason.LT_ABOVE_BAND


class BandDriftController:
    """Decides corrective intents for one account; remembers each symbol's last intent."""

    def __init__(self, config: BandDriftConfig, account: str) -> None:
        if not isinstance(account, str) or not account.strip():
            raise ValueError(f"account: must be a non-blank string (value: {account!r})")
        self._config = config
        self._account = account
        self._last_intent_ns: dict[str, int] = {}

    @property
    def config(self) -> BandDriftConfig:
        return self._config

    def last_intent_ns(self, symbol: str) -> int | None:
        return self._last_intent_ns.get(symbol)

    def note(self, symbol: str, ts_ns: int) -> None:
        """An intent for ``symbol`` went out at ``ts_ns``: the symbol waits ``min_interval_s``."""
        _check_int("ts_ns", ts_ns, 0)
        self._last_intent_ns[symbol] = max(ts_ns, self._last_intent_ns.get(symbol, ts_ns))

    def evaluate(
        self,
        mode: Mode,
        lt_current_pct: Decimal,
        lt_target_pct: Decimal,
        equity: Decimal,
        lt_positions: Sequence[LtPosition],
        now_ns: int,
        *,
        trading_date: date,
        cycle: int,
        record: bool = True,
    ) -> list[CorrectiveIntent]:
        """The intents for this cycle (maybe none); records their time per symbol if ``record``."""
        current = _check_decimal("lt_current_pct", lt_current_pct)
        target = _check_decimal("lt_target_pct", lt_target_pct)
        equity_value = _check_decimal("equity", equity)
        if equity_value <= ZERO:
            raise ValueError(f"equity: must be > 0 (value: {equity})")
        _check_inputs(mode, lt_positions, now_ns, trading_date, cycle)
        gap = current - target
        if mode is not Mode.NORMAL or abs(gap) <= self._config.band_pct:
            return []
        reason = DriftReason.LT_ABOVE_BAND if gap > 0 else DriftReason.LT_BELOW_BAND
        # Notional that brings the bucket back to the band edge; the last intent may pass it.
        needed = (abs(gap) - self._config.band_pct) * equity_value / 100
        context = _Cycle(
            reason=reason,
            now_ns=now_ns,
            trading_date=trading_date,
            cycle=cycle,
            current_pct=current,
            target_pct=target,
        )
        intents = self._plan(context, self._candidates(reason, lt_positions, now_ns), needed)
        for intent in intents if record else ():
            self.note(intent.symbol, now_ns)
        return intents

    def _candidates(
        self, reason: DriftReason, positions: Sequence[LtPosition], now_ns: int
    ) -> list[LtPosition]:
        if reason is DriftReason.LT_ABOVE_BAND:
            eligible = [p for p in positions if p.qty != 0]
        else:
            eligible = [p for p in positions if p.qty > 0]
        ready = [p for p in eligible if p.bid < p.ask and self._interval_passed(p.symbol, now_ns)]
        # Largest first; the symbol breaks ties so the same inputs give the same intents.
        return sorted(ready, key=lambda p: (-p.notional, p.symbol))

    def _interval_passed(self, symbol: str, now_ns: int) -> bool:
        last = self._last_intent_ns.get(symbol)
        return last is None or now_ns - last >= self._config.min_interval_ns

    def _plan(
        self, context: _Cycle, candidates: list[LtPosition], needed: Decimal
    ) -> list[CorrectiveIntent]:
        intents: list[CorrectiveIntent] = []
        covered = ZERO
        for position in candidates:
            if len(intents) >= self._config.max_intents_per_cycle or covered >= needed:
                break
            intent = self._intent(context, position, needed - covered)
            if intent is not None:
                intents.append(intent)
                covered += intent.notional
        return intents

    def _intent(
        self, context: _Cycle, position: LtPosition, remaining: Decimal
    ) -> CorrectiveIntent | None:
        side, price = self._side_and_price(context.reason, position)
        if price <= ZERO:
            return None
        qty = self._qty(position, price, remaining, reduce_only=context.reduces)
        if qty == 0:
            return None
        key = intent_key(self._account, context.trading_date, context.cycle, position.symbol)
        return CorrectiveIntent(
            intent_id=key[:32],
            idempotency_key=f"lt_band_drift:{key}",
            account=self._account,
            symbol=position.symbol,
            side=side,
            qty=qty,
            limit_price=price,
            reduce_only=context.reduces,
            reason=context.reason,
            ts_ns=context.now_ns,
            cycle=context.cycle,
            trading_date=context.trading_date,
            lt_current_pct=context.current_pct,
            lt_target_pct=context.target_pct,
        )

    def _side_and_price(self, reason: DriftReason, position: LtPosition) -> tuple[Side, Decimal]:
        # Above the band a long is sold and a short bought back; below it longs are bought.
        buys = reason is DriftReason.LT_BELOW_BAND or position.qty < 0
        if buys:
            return Side.BUY, position.bid - self._config.price_offset
        return Side.SELL, position.ask + self._config.price_offset

    def _qty(
        self, position: LtPosition, price: Decimal, remaining: Decimal, *, reduce_only: bool
    ) -> int:
        lot = self._config.round_lot
        by_notional = int(
            (self._config.max_notional_per_intent / price).to_integral_value(ROUND_FLOOR)
        )
        # Enough whole lots to cover what is left of the gap, and no more.
        to_cover = int((remaining / price).to_integral_value(ROUND_CEILING))
        to_cover = -(-to_cover // lot) * lot
        qty = min(self._config.step_qty, by_notional, to_cover)
        if reduce_only:
            qty = min(qty, abs(position.qty))  # never through zero
        return qty // lot * lot


def _check_inputs(
    mode: Mode, positions: Sequence[LtPosition], now_ns: int, trading_date: date, cycle: int
) -> None:
    if not isinstance(mode, Mode):
        raise ValueError(f"mode: must be a Mode (value: {mode!r})")
    _check_int("now_ns", now_ns, 0)
    _check_int("cycle", cycle, 0)
    # A datetime is a date too, but its isoformat carries the time and would change every key.
    if isinstance(trading_date, datetime) or not isinstance(trading_date, date):
        raise ValueError(f"trading_date: must be a date (value: {trading_date!r})")
    seen: set[str] = set()
    for position in positions:
        if not isinstance(position, LtPosition):
            raise ValueError(f"lt_positions: must hold LtPosition values (value: {position!r})")
        if position.symbol in seen:
            raise ValueError(f"lt_positions: symbol listed twice (value: {position.symbol!r})")
        seen.add(position.symbol)
