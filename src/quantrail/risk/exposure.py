"""Exposure of one account: gross, long, short, net, per bucket, per group, current and potential.

Money figures are exact ``Decimal``s (sums of shares x price; nothing is rounded here, reports
round with ``money.cents``). Percentages are ``Decimal`` quotients ``notional x 100 / equity`` at
the default 28 significant digits, so 1 300 000 of 1 000 000 equity is exactly ``130``.

Potential = current + every open order that would increase |position| if it filled (worst
case). Orders are taken per symbol and side, in the order given: the shares that would first
reduce the position count 0, only the part past zero counts. Both sides of a two-sided quote
count (we never assume one side's fill cancels the other's). An order is valued at the higher of
its limit and the mark (a market order at the mark): the larger notional is the worse case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantrail.money import ZERO
from quantrail.risk.positions import (
    Position,
    RiskInputError,
    require_name,
    require_price,
    require_shares,
)
from quantrail.risk.rules import BucketLimit
from quantrail.vocab import Bucket, Side

UNGROUPED = "UNGROUPED"
"""The group of a symbol missing from the symbol -> group map (so nothing goes unreported)."""

HUNDRED = Decimal(100)


class ExposureError(RiskInputError):
    """Inputs exposure cannot be computed from: names the field and the value."""


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A working order's remaining quantity; ``limit_price`` ``None`` is a market order."""

    symbol: str
    side: Side
    qty: int
    limit_price: Decimal | None
    bucket: Bucket

    def __post_init__(self) -> None:
        require_name("symbol", self.symbol, ExposureError)
        if not isinstance(self.side, Side):
            raise ExposureError(f"side must be a Side, got {self.side!r}")
        require_shares("qty", self.qty, ExposureError)
        if self.limit_price is not None:
            require_price("limit_price", self.limit_price, ExposureError)


@dataclass(frozen=True, slots=True)
class BucketExposure:
    current: Decimal
    current_pct: Decimal
    potential: Decimal
    potential_pct: Decimal
    target: Decimal
    target_pct: Decimal
    max: Decimal
    max_pct: Decimal


@dataclass(frozen=True, slots=True)
class GroupExposure:
    long_notional: Decimal
    short_notional: Decimal
    gross_pct: Decimal


@dataclass(frozen=True, slots=True)
class ExposureFigures:
    """Field names match the ``ExposureSnapshot`` event's. Short notional is a magnitude (>= 0)."""

    account: str
    equity: Decimal
    long_notional: Decimal
    short_notional: Decimal
    gross_exposure_pct: Decimal
    long_gross_pct: Decimal
    short_gross_pct: Decimal
    net_exposure_pct: Decimal
    potential_gross_pct: Decimal
    buckets: Mapping[Bucket, BucketExposure]
    group_exposure: Mapping[str, GroupExposure]
    open_orders_potential: Decimal
    open_orders_potential_pct: Decimal


def compute_exposure(
    account: str,
    equity: Decimal,
    positions: Iterable[Position],
    prices: Mapping[str, Decimal],
    open_orders: Iterable[OpenOrder],
    buckets: Mapping[Bucket, BucketLimit],
    groups: Mapping[str, str],
) -> ExposureFigures:
    """All exposure figures of ``account`` at the given marks (pure)."""
    require_name("account", account, ExposureError)
    if not isinstance(equity, Decimal) or not equity.is_finite() or equity <= 0:
        raise ExposureError(f"equity must be a finite Decimal > 0, got {equity!r}")
    held = _index_positions(account, positions)
    marks = {symbol: _mark(prices, symbol) for symbol in held}
    notional = {symbol: abs(p.qty) * marks[symbol] for symbol, p in held.items()}
    long_total = sum((notional[s] for s, p in held.items() if p.qty > 0), ZERO)
    short_total = sum((notional[s] for s, p in held.items() if p.qty < 0), ZERO)
    increases = _order_increases(held, list(open_orders), prices)
    orders_potential = sum((value for _, value in increases), ZERO)

    def pct(value: Decimal) -> Decimal:
        return value * HUNDRED / equity

    gross = long_total + short_total
    return ExposureFigures(
        account=account,
        equity=equity,
        long_notional=long_total,
        short_notional=short_total,
        gross_exposure_pct=pct(gross),
        long_gross_pct=pct(long_total),
        short_gross_pct=pct(short_total),
        net_exposure_pct=pct(long_total - short_total),
        potential_gross_pct=pct(gross + orders_potential),
        buckets=_bucket_figures(held, notional, increases, buckets, equity),
        group_exposure=_group_figures(held, notional, groups, equity),
        open_orders_potential=orders_potential,
        open_orders_potential_pct=pct(orders_potential),
    )


def _index_positions(account: str, positions: Iterable[Position]) -> dict[str, Position]:
    """Open positions by symbol; flat ones are skipped (they carry no exposure)."""
    held: dict[str, Position] = {}
    seen: set[str] = set()
    for position in positions:
        if position.account != account:
            raise ExposureError(
                f"position account must be {account!r}, got {position.account!r} "
                f"for {position.symbol}"
            )
        if position.symbol in seen:
            raise ExposureError(f"symbol appears twice in positions: {position.symbol!r}")
        seen.add(position.symbol)
        if not position.is_flat:
            held[position.symbol] = position
    return held


def _mark(prices: Mapping[str, Decimal], symbol: str) -> Decimal:
    if symbol not in prices:
        raise ExposureError(f"prices has no mark for symbol {symbol!r}")
    return require_price(f"prices[{symbol!r}]", prices[symbol], ExposureError)


def _order_increases(
    held: Mapping[str, Position], orders: Sequence[OpenOrder], prices: Mapping[str, Decimal]
) -> list[tuple[Bucket, Decimal]]:
    """(bucket, notional) of the exposure-increasing part of every open order."""
    # Shares that would reduce the position before the order side crosses zero, per side.
    reducible: dict[tuple[str, Side], int] = {}
    increases: list[tuple[Bucket, Decimal]] = []
    for order in orders:
        key = (order.symbol, order.side)
        if key not in reducible:
            reducible[key] = _reducible_shares(held.get(order.symbol), order.side)
        reducing = min(reducible[key], order.qty)
        reducible[key] -= reducing
        increasing = order.qty - reducing
        if increasing:
            increases.append((order.bucket, increasing * _order_price(order, prices)))
    return increases


def _reducible_shares(position: Position | None, side: Side) -> int:
    if position is None or position.qty * side.sign >= 0:
        return 0
    return abs(position.qty)


def _order_price(order: OpenOrder, prices: Mapping[str, Decimal]) -> Decimal:
    mark = prices.get(order.symbol)
    if mark is not None:
        require_price(f"prices[{order.symbol!r}]", mark, ExposureError)
    if order.limit_price is None:
        if mark is None:
            raise ExposureError(f"prices has no mark for market order in {order.symbol!r}")
        return mark
    return order.limit_price if mark is None else max(order.limit_price, mark)


def _bucket_figures(
    held: Mapping[str, Position],
    notional: Mapping[str, Decimal],
    increases: Sequence[tuple[Bucket, Decimal]],
    limits: Mapping[Bucket, BucketLimit],
    equity: Decimal,
) -> dict[Bucket, BucketExposure]:
    current = dict.fromkeys(limits, ZERO)
    added = dict.fromkeys(limits, ZERO)
    for symbol, position in held.items():
        _require_bucket(limits, position.bucket, symbol)
        current[position.bucket] += notional[symbol]
    for bucket, value in increases:
        _require_bucket(limits, bucket, "an open order")
        added[bucket] += value
    figures: dict[Bucket, BucketExposure] = {}
    for bucket in sorted(limits, key=list(Bucket).index):
        limit, potential = limits[bucket], current[bucket] + added[bucket]
        figures[bucket] = BucketExposure(
            current=current[bucket],
            current_pct=current[bucket] * HUNDRED / equity,
            potential=potential,
            potential_pct=potential * HUNDRED / equity,
            target=equity * limit.target_pct / HUNDRED,
            target_pct=limit.target_pct,
            max=equity * limit.max_pct / HUNDRED,
            max_pct=limit.max_pct,
        )
    return figures


def _require_bucket(limits: Mapping[Bucket, BucketLimit], bucket: Bucket, owner: str) -> None:
    if bucket not in limits:
        raise ExposureError(f"buckets has no limits for bucket {bucket!r} (used by {owner})")


def _group_figures(
    held: Mapping[str, Position],
    notional: Mapping[str, Decimal],
    groups: Mapping[str, str],
    equity: Decimal,
) -> dict[str, GroupExposure]:
    """Every group named in the map (zeros when nothing is held) plus UNGROUPED if used."""
    longs = dict.fromkeys(groups.values(), ZERO)
    shorts = dict.fromkeys(groups.values(), ZERO)
    for symbol, position in held.items():
        group = groups.get(symbol, UNGROUPED)
        side_totals = longs if position.qty > 0 else shorts
        longs.setdefault(group, ZERO)
        shorts.setdefault(group, ZERO)
        side_totals[group] += notional[symbol]
    return {
        group: GroupExposure(
            long_notional=longs[group],
            short_notional=shorts[group],
            gross_pct=(longs[group] + shorts[group]) * HUNDRED / equity,
        )
        for group in sorted(longs)
    }
