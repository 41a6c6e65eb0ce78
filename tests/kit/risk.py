"""Builders for risk tests: positions, market views, policy inputs (plain values, no mocks)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quantrail.risk.planner import MarketView
from quantrail.risk.policy import BucketLoad, PolicyInputs
from quantrail.risk.positions import Position
from quantrail.risk.rules import RiskRules
from quantrail.vocab import Bucket, Phase

ACCOUNT = "ACC1"
SESSION_DATE = date(2024, 6, 3)
RULES = RiskRules()


def D(value: str | int) -> Decimal:
    return Decimal(value)


def position(
    symbol: str,
    qty: int,
    bucket: Bucket = Bucket.LT,
    avg_price: str = "10",
    account: str = ACCOUNT,
) -> Position:
    return Position(account, symbol, qty, bucket, D(avg_price) if qty else D(0))


def market(
    bid: str | None = None,
    ask: str | None = None,
    truth: str | None = None,
    last_print: str | None = None,
) -> MarketView:
    def price(value: str | None) -> Decimal | None:
        return None if value is None else D(value)

    return MarketView(
        bid=price(bid), ask=price(ask), last_truth_tick=price(truth), last_print=price(last_print)
    )


def quoted(price: str, half_spread: str = "0.01") -> MarketView:
    """A full view around ``price``: truth tick and print at price, bid/ask ± half spread."""
    p, h = D(price), D(half_spread)
    return MarketView(bid=p - h, ask=p + h, last_truth_tick=p, last_print=p)


def policy_inputs(
    phase: Phase,
    gross: str,
    potential: str | None = None,
    lt_potential: str = "0",
    mm_potential: str = "0",
    exposure_age_s: float = 1.0,
    session_age_s: float = 0.5,
) -> PolicyInputs:
    """Inputs with the default bucket maxes (LT 90, MM_PURE 30)."""
    return PolicyInputs(
        phase=phase,
        gross_pct=D(gross),
        potential_gross_pct=D(potential if potential is not None else gross),
        buckets={
            Bucket.LT: BucketLoad(potential_pct=D(lt_potential), max_pct=D(90)),
            Bucket.MM_PURE: BucketLoad(potential_pct=D(mm_potential), max_pct=D(30)),
        },
        exposure_age_s=exposure_age_s,
        session_age_s=session_age_s,
    )
