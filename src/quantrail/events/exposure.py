"""Exposure snapshots: gross, net, per bucket and per group, current and potential.

Percentages are of equity (``gross = (|long| + |short|) / equity * 100``). Notionals are exact
money; ``short_notional`` is a positive magnitude. *Potential* adds every open order that would
increase exposure if it filled (worst case).
"""

from __future__ import annotations

import msgspec

from quantrail.events.base import Event, Money
from quantrail.money import ZERO
from quantrail.vocab import Bucket


class BucketExposure(msgspec.Struct, frozen=True, kw_only=True):
    """One book's exposure: current, potential, its target and its maximum (money and %)."""

    current: Money
    current_pct: float
    potential: Money
    potential_pct: float
    target: Money
    target_pct: float
    max: Money
    max_pct: float


class GroupExposure(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol group's long and short notionals (positive magnitudes) and its gross %."""

    long_notional: Money
    short_notional: Money
    gross_pct: float


class ExposureSnapshot(Event, frozen=True, kw_only=True, tag="exposure.snapshot.updated"):
    """An account's exposure at ``ts_event``, priced with marks as of ``prices_as_of_ns``.

    ``account`` is required here. ``buckets`` is keyed by bucket name (``LT``, ``MM_PURE``),
    ``group_exposure`` by group name.
    """

    account: str
    equity: Money
    long_notional: Money
    short_notional: Money
    gross_exposure_pct: float
    long_gross_pct: float
    short_gross_pct: float
    net_exposure_pct: float
    potential_gross_pct: float
    buckets: dict[str, BucketExposure] = {}
    group_exposure: dict[str, GroupExposure] = {}
    open_orders_potential: Money = ZERO
    open_orders_potential_pct: float = 0.0
    prices_as_of_ns: int

    def __post_init__(self) -> None:
        if not self.account:
            raise ValueError(f"account: must not be empty, got {self.account!r}")
        if self.short_notional < 0:
            raise ValueError(
                f"short_notional: must be a positive magnitude, got {self.short_notional}"
            )
        known = {bucket.value for bucket in Bucket}
        for name in self.buckets:
            if name not in known:
                raise ValueError(f"buckets: unknown bucket {name!r} (known: {sorted(known)})")
