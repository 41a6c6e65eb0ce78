"""The de-risk planner: one step of reduce-only intents toward a target gross exposure.

A step walks the open positions MM_PURE before LT, largest notional first (ties by symbol), and
takes a slice of each (``fraction`` of |qty| rounded down to round lots, at least ``min_lots``
lots, never more than the position: a position smaller than a lot goes whole) until the step's
planned reduction covers the gap ``(gross % - target %) x equity / 100``. The next decision cycle
plans the next step from the positions as they are then. A step replaces the previous step's
working orders: a symbol planned again names the working intent it ``replaces``; working intents
for symbols not planned again are listed in ``cancels``. No intent ever flips a position.

Prices: SOFT_DERISK sells a long at the reference price - offset and covers a short at + offset,
the reference being the last truth tick, else the last print, else the quote mid. HARD_DERISK
sells at the bid and covers at the ask. Limits are put on the cent toward the market (sells
round down, buys round up) so rounding never makes a de-risk order more passive. A slice is
valued at the reference price (the limit price when there is none). A position that cannot be
priced is skipped and reported, never guessed.

Ids: ``idempotency_key`` is ``derisk:<account>:<session date>:<mode>:<step>:<symbol>`` and
``intent_id`` the first 32 hex digits of its SHA-256, so a redelivered decision plans the same
ids and the execution side drops the duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from quantrail.money import CENT, ZERO
from quantrail.risk.positions import Position, RiskInputError, require_name
from quantrail.risk.rules import DeriskStepRule, RiskRules
from quantrail.vocab import Bucket, Mode, Side

HUNDRED = Decimal(100)
BUCKET_ORDER = (Bucket.MM_PURE, Bucket.LT)
"""De-risk walks market-making inventory before long-term inventory."""


class PlannerError(RiskInputError):
    """Inputs a step cannot be planned from: names the field and the value."""


def _optional_price(field: str, value: Decimal | None) -> None:
    if value is not None and (
        not isinstance(value, Decimal) or not value.is_finite() or value <= 0
    ):
        raise PlannerError(f"{field} must be a finite Decimal > 0 or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class MarketView:
    """What the planner knows of one symbol's market; any part may be missing."""

    bid: Decimal | None = None
    ask: Decimal | None = None
    last_truth_tick: Decimal | None = None
    last_print: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("bid", "ask", "last_truth_tick", "last_print"):
            _optional_price(name, getattr(self, name))

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    def reference(self) -> tuple[Decimal, str] | None:
        """The SOFT_DERISK reference price and where it came from."""
        for price, source in (
            (self.last_truth_tick, "TRUTH_TICK"),
            (self.last_print, "LAST_PRINT"),
            (self.mid, "MID"),
        ):
            if price is not None:
                return price, source
        return None


@dataclass(frozen=True, slots=True)
class WorkingIntent:
    """A de-risk order of an earlier step that is still working."""

    intent_id: str
    symbol: str


@dataclass(frozen=True, slots=True)
class PlannedIntent:
    account: str
    symbol: str
    side: Side
    qty: int
    limit_price: Decimal
    price_source: str
    bucket: Bucket
    mode: Mode
    step: int
    intent_id: str
    idempotency_key: str
    replaces: str | None = None
    reduce_only: bool = True


@dataclass(frozen=True, slots=True)
class SkippedPosition:
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One step: the intents, the working intents to cancel, what could not be priced."""

    gap: Decimal
    planned_reduction: Decimal
    intents: tuple[PlannedIntent, ...]
    cancels: tuple[str, ...]
    skipped: tuple[SkippedPosition, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    position: Position
    side: Side
    limit_price: Decimal
    price_source: str
    value_price: Decimal

    @property
    def notional(self) -> Decimal:
        return abs(self.position.qty) * self.value_price


def slice_qty(abs_qty: int, rule: DeriskStepRule) -> int:
    """One step's shares of a position of ``abs_qty`` shares (see module doc)."""
    lots = int(abs_qty * rule.fraction // rule.round_lot)
    return min(max(lots, rule.min_lots) * rule.round_lot, abs_qty)


def derisk_key(account: str, session_date: date, mode: Mode, step: int, symbol: str) -> str:
    return f"derisk:{account}:{session_date.isoformat()}:{mode.value}:{step}:{symbol}"


def intent_id_for(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


class DeriskPlanner:
    def __init__(self, step_rule: DeriskStepRule, soft_price_offset: Decimal) -> None:
        self.step_rule = step_rule
        self.soft_price_offset = soft_price_offset

    @classmethod
    def from_rules(cls, rules: RiskRules) -> DeriskPlanner:
        return cls(rules.derisk_step, rules.soft_price_offset)

    def plan_step(
        self,
        *,
        account: str,
        session_date: date,
        mode: Mode,
        step_no: int,
        target_pct: Decimal,
        equity: Decimal,
        gross_pct: Decimal,
        positions: Iterable[Position],
        market: Mapping[str, MarketView],
        working: Sequence[WorkingIntent] = (),
    ) -> StepPlan:
        """Plan step ``step_no`` of a SOFT_ or HARD_DERISK toward ``target_pct`` (pure)."""
        _check_request(account, mode, step_no, target_pct, equity, gross_pct)
        gap = (gross_pct - target_pct) * equity / HUNDRED
        held = _open_positions(account, positions)
        if gap <= 0:
            cancels = tuple(sorted(w.intent_id for w in working))
            return StepPlan(gap, ZERO, (), cancels, ())
        candidates, skipped = self._candidates(mode, held, market)
        chosen: list[tuple[_Candidate, int]] = []
        planned = ZERO
        for candidate in sorted(candidates, key=_walk_order):
            if planned >= gap:
                break
            qty = slice_qty(abs(candidate.position.qty), self.step_rule)
            chosen.append((candidate, qty))
            planned += qty * candidate.value_price
        intents, cancels = _link_working(
            [_intent(c, q, account, session_date, mode, step_no) for c, q in chosen], working
        )
        return StepPlan(gap, planned, intents, cancels, tuple(skipped))

    def _candidates(
        self, mode: Mode, held: Sequence[Position], market: Mapping[str, MarketView]
    ) -> tuple[list[_Candidate], list[SkippedPosition]]:
        candidates: list[_Candidate] = []
        skipped: list[SkippedPosition] = []
        for position in held:
            view = market.get(position.symbol)
            found = None if view is None else self._price(mode, position, view)
            if isinstance(found, _Candidate):
                candidates.append(found)
            else:
                skipped.append(SkippedPosition(position.symbol, found or "no market view"))
        return candidates, skipped

    def _price(self, mode: Mode, position: Position, view: MarketView) -> _Candidate | str:
        """The candidate with its limit price, or why it cannot be priced."""
        side = Side.SELL if position.qty > 0 else Side.BUY
        reference = view.reference()
        if mode is Mode.HARD_DERISK:
            touch, source = (view.bid, "BID") if side is Side.SELL else (view.ask, "ASK")
            if touch is None:
                return f"HARD_DERISK needs the {source.lower()}, none known"
            raw = touch
        elif reference is None:
            return "SOFT_DERISK needs a truth tick, a print or a two-sided quote, none known"
        else:
            raw = reference[0] + side.sign * self.soft_price_offset  # sell -, buy +
            source = reference[1]
        limit = _on_cent(raw, side)
        if limit <= 0:
            return f"limit price would be {limit}, not > 0"
        value_price = reference[0] if reference is not None else limit
        return _Candidate(position, side, limit, source, value_price)


def _check_request(
    account: str, mode: Mode, step_no: int, target_pct: Decimal, equity: Decimal, gross: Decimal
) -> None:
    require_name("account", account, PlannerError)
    if mode not in (Mode.SOFT_DERISK, Mode.HARD_DERISK):
        raise PlannerError(f"mode must be SOFT_DERISK or HARD_DERISK, got {mode!r}")
    if isinstance(step_no, bool) or not isinstance(step_no, int) or step_no < 1:
        raise PlannerError(f"step_no must be an integer >= 1, got {step_no!r}")
    for name, value in (("target_pct", target_pct), ("gross_pct", gross)):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise PlannerError(f"{name} must be a finite Decimal >= 0, got {value!r}")
    if not isinstance(equity, Decimal) or not equity.is_finite() or equity <= 0:
        raise PlannerError(f"equity must be a finite Decimal > 0, got {equity!r}")


def _open_positions(account: str, positions: Iterable[Position]) -> list[Position]:
    seen: set[str] = set()
    held: list[Position] = []
    for position in positions:
        if position.account != account:
            raise PlannerError(
                f"position account must be {account!r}, got {position.account!r} "
                f"for {position.symbol}"
            )
        if position.symbol in seen:
            raise PlannerError(f"symbol appears twice in positions: {position.symbol!r}")
        seen.add(position.symbol)
        if not position.is_flat:
            held.append(position)
    return held


def _on_cent(price: Decimal, side: Side) -> Decimal:
    """Toward the market: a sell rounds down, a buy rounds up."""
    rounding = ROUND_FLOOR if side is Side.SELL else ROUND_CEILING
    return price.quantize(CENT, rounding=rounding)


def _walk_order(candidate: _Candidate) -> tuple[int, Decimal, str]:
    rank = BUCKET_ORDER.index(candidate.position.bucket)
    return rank, -candidate.notional, candidate.position.symbol


def _intent(
    candidate: _Candidate, qty: int, account: str, session_date: date, mode: Mode, step: int
) -> PlannedIntent:
    symbol = candidate.position.symbol
    key = derisk_key(account, session_date, mode, step, symbol)
    return PlannedIntent(
        account=account,
        symbol=symbol,
        side=candidate.side,
        qty=qty,
        limit_price=candidate.limit_price,
        price_source=candidate.price_source,
        bucket=candidate.position.bucket,
        mode=mode,
        step=step,
        intent_id=intent_id_for(key),
        idempotency_key=key,
    )


def _link_working(
    intents: list[PlannedIntent], working: Sequence[WorkingIntent]
) -> tuple[tuple[PlannedIntent, ...], tuple[str, ...]]:
    """Point each new intent at the working intent it replaces; cancel the rest."""
    by_symbol: dict[str, list[str]] = {}
    for w in sorted(working, key=lambda w: (w.symbol, w.intent_id)):
        by_symbol.setdefault(w.symbol, []).append(w.intent_id)
    linked: list[PlannedIntent] = []
    for intent in intents:
        ids = by_symbol.get(intent.symbol, [])
        if intent.intent_id in ids:
            ids.remove(intent.intent_id)  # a redelivered step: the same intent, not a new one
            linked.append(intent)
        elif ids:
            linked.append(_replacing(intent, ids.pop(0)))
        else:
            linked.append(intent)
    cancels = tuple(sorted(i for ids in by_symbol.values() for i in ids))
    return tuple(linked), cancels


def _replacing(intent: PlannedIntent, old_id: str) -> PlannedIntent:
    return replace(intent, replaces=old_id)
