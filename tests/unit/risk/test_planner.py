"""The de-risk planner: walk order, slices, coverage, prices, ids, replacing working orders."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal

import pytest

from kit.risk import ACCOUNT, RULES, SESSION_DATE, D, market, position, quoted
from quantrail.risk.planner import (
    DeriskPlanner,
    MarketView,
    PlannerError,
    SkippedPosition,
    StepPlan,
    WorkingIntent,
    slice_qty,
)
from quantrail.risk.positions import Position
from quantrail.vocab import Bucket, Mode, Side

PLANNER = DeriskPlanner.from_rules(RULES)
EQUITY = D(1000000)
# The worked example of docs/risk.md: 1 150 000 gross on 1 000 000 equity = 115 %.
BOOK = [
    position("SPY", 2000, Bucket.MM_PURE),  # 200 000 at 100
    position("QQQ", -1000, Bucket.MM_PURE),  # 50 000 at 50
    position("TINY", 50, Bucket.MM_PURE),  # 1 000 at 20
    position("AAPL", 2500, Bucket.LT),  # 500 000 at 200
    position("XOM", -3000, Bucket.LT),  # 300 000 at 100
    position("MSFT", 240, Bucket.LT),  # 99 000 at 412.50
]
MARKET = {
    "SPY": quoted("100"),
    "QQQ": quoted("50"),
    "TINY": quoted("20"),
    "AAPL": quoted("200"),
    "XOM": quoted("100"),
    "MSFT": quoted("412.50"),
}


def _plan(
    target: str = "100",
    gross: str = "115",
    mode: Mode = Mode.SOFT_DERISK,
    positions: Sequence[Position] = BOOK,
    view: dict[str, MarketView] | None = None,
    working: Sequence[WorkingIntent] = (),
    step: int = 1,
) -> StepPlan:
    return PLANNER.plan_step(
        account=ACCOUNT,
        session_date=SESSION_DATE,
        mode=mode,
        step_no=step,
        target_pct=D(target),
        equity=EQUITY,
        gross_pct=D(gross),
        positions=positions,
        market=MARKET if view is None else view,
        working=working,
    )


def _rows(plan: StepPlan) -> list[tuple[str, Side, int, Decimal]]:
    return [(i.symbol, i.side, i.qty, i.limit_price) for i in plan.intents]


@pytest.mark.parametrize(
    ("abs_qty", "expected"),
    [
        (10000, 1000),  # 10 %
        (2999, 200),  # 299.9 rounds down to 2 lots
        (1050, 100),  # 105 -> 1 lot
        (150, 100),  # 15 -> at least one lot
        (100, 100),  # one lot: the whole position
        (99, 99),  # smaller than a lot: whole position, never more
        (1, 1),
    ],
)
def test_slice_is_ten_percent_in_round_lots_at_least_one_never_more(
    abs_qty: int, expected: int
) -> None:
    assert slice_qty(abs_qty, RULES.derisk_step) == expected


def test_scenario_b_late_115_first_step_walks_mm_before_lt_largest_first() -> None:
    plan = _plan()
    assert plan.gap == D(150000)  # (115 - 100) x 1 000 000 / 100
    assert _rows(plan) == [
        ("SPY", Side.SELL, 200, D("99.99")),  # 20 000
        ("QQQ", Side.BUY, 100, D("50.01")),  # 5 000
        ("TINY", Side.SELL, 50, D("19.99")),  # 1 000 (odd lot: whole)
        ("AAPL", Side.SELL, 200, D("199.99")),  # 250 -> 200: 40 000
        ("XOM", Side.BUY, 300, D("100.01")),  # 30 000
        ("MSFT", Side.SELL, 100, D("412.49")),  # 24 -> one lot: 41 250
    ]
    # 137 250 < 150 000: the next cycle takes the next step
    assert plan.planned_reduction == D(137250)
    assert all(i.reduce_only and i.step == 1 and i.mode is Mode.SOFT_DERISK for i in plan.intents)
    assert [i.price_source for i in plan.intents] == ["TRUTH_TICK"] * 6
    assert [i.bucket for i in plan.intents] == [Bucket.MM_PURE] * 3 + [Bucket.LT] * 3
    assert plan.cancels == ()
    assert plan.skipped == ()


def test_step_stops_once_the_gap_is_covered() -> None:
    plan = _plan(target="110")  # gap 50 000
    assert plan.gap == D(50000)
    assert [i.symbol for i in plan.intents] == ["SPY", "QQQ", "TINY", "AAPL"]
    assert plan.planned_reduction == D(66000)  # 20 000 + 5 000 + 1 000 + 40 000


def test_a_gap_covered_by_the_first_slice_takes_one_intent() -> None:
    plan = _plan(target="114.99")  # gap 100
    assert _rows(plan) == [("SPY", Side.SELL, 200, D("99.99"))]


def test_mm_pure_goes_first_even_when_lt_is_larger_and_ties_go_by_symbol() -> None:
    book = [
        position("BIG", 100000, Bucket.LT),
        position("BBB", 1000, Bucket.MM_PURE),
        position("AAA", 1000, Bucket.MM_PURE),
    ]
    view = {s: quoted("10") for s in ("BIG", "BBB", "AAA")}
    plan = _plan(target="0", gross="102", positions=book, view=view)
    assert [i.symbol for i in plan.intents] == ["AAA", "BBB", "BIG"]


def test_never_more_than_the_position_and_never_a_flip() -> None:
    book = [position("ONE", 100), position("ODD", -40), position("FLAT", 0)]
    view = {"ONE": quoted("10"), "ODD": quoted("10")}
    plan = _plan(target="0", gross="50", positions=book, view=view)
    assert _rows(plan) == [("ONE", Side.SELL, 100, D("9.99")), ("ODD", Side.BUY, 40, D("10.01"))]


def test_soft_price_falls_back_to_last_print_then_mid() -> None:
    book = [position("P", 1000), position("M", -1000), position("S", 1000)]
    view = {
        "P": market(bid="9.90", ask="10.10", last_print="10.02"),
        "M": market(bid="10.00", ask="10.01"),  # mid 10.005 + 0.01 = 10.015 -> buy rounds up
        "S": market(bid="10.00", ask="10.01"),  # mid 10.005 - 0.01 = 9.995 -> sell rounds down
    }
    plan = _plan(target="0", gross="50", positions=book, view=view)
    prices = {i.symbol: (i.limit_price, i.price_source) for i in plan.intents}
    assert prices == {
        "P": (D("10.01"), "LAST_PRINT"),
        "M": (D("10.02"), "MID"),
        "S": (D("9.99"), "MID"),
    }


def test_hard_derisk_sells_at_the_bid_and_covers_at_the_ask() -> None:
    book = [position("L", 1000), position("S", -1000)]
    view = {
        "L": market(bid="9.95", ask="10.05", truth="10.00"),
        "S": market(bid="19.90", ask="20.10", truth="20.00"),
    }
    plan = _plan(target="0", gross="30", mode=Mode.HARD_DERISK, positions=book, view=view)
    assert _rows(plan) == [("S", Side.BUY, 100, D("20.10")), ("L", Side.SELL, 100, D("9.95"))]
    assert [i.price_source for i in plan.intents] == ["ASK", "BID"]


def test_unpriceable_positions_are_skipped_and_reported() -> None:
    book = [position("NOVIEW", 1000), position("NOBID", 1000), position("OK", 1000)]
    view = {"NOBID": market(ask="10.01", truth="10"), "OK": quoted("10")}
    plan = _plan(target="0", gross="30", mode=Mode.HARD_DERISK, positions=book, view=view)
    assert [i.symbol for i in plan.intents] == ["OK"]
    assert plan.skipped == (
        SkippedPosition("NOVIEW", "no market view"),
        SkippedPosition("NOBID", "HARD_DERISK needs the bid, none known"),
    )
    soft = _plan(target="0", gross="30", positions=[position("Q", 100)], view={"Q": market()})
    assert soft.intents == ()
    assert soft.skipped[0].reason.startswith("SOFT_DERISK needs a truth tick")


def test_a_soft_price_that_would_not_be_positive_is_skipped() -> None:
    plan = _plan(
        target="0",
        gross="1",
        positions=[position("PENNY", 100)],
        view={"PENNY": market(truth="0.01")},
    )
    assert plan.intents == ()
    assert plan.skipped == (SkippedPosition("PENNY", "limit price would be 0.00, not > 0"),)


def test_same_inputs_give_the_same_ids_and_keys() -> None:
    first, again = _plan(), _plan()
    assert first == again
    spy = first.intents[0]
    assert spy.idempotency_key == "derisk:ACC1:2024-06-03:SOFT_DERISK:1:SPY"
    assert spy.intent_id == hashlib.sha256(spy.idempotency_key.encode()).hexdigest()[:32]
    ids = {i.intent_id for i in first.intents}
    assert len(ids) == len(first.intents)
    assert ids.isdisjoint(i.intent_id for i in _plan(step=2).intents)
    assert ids.isdisjoint(i.intent_id for i in _plan(mode=Mode.HARD_DERISK).intents)


def test_the_next_step_replaces_working_orders_instead_of_stacking() -> None:
    step1 = _plan(target="114.99")
    working = [WorkingIntent(i.intent_id, i.symbol) for i in step1.intents]
    working.append(WorkingIntent("old-xom", "XOM"))
    step2 = _plan(target="114.99", step=2, working=working)
    assert [(i.symbol, i.step, i.replaces) for i in step2.intents] == [
        ("SPY", 2, step1.intents[0].intent_id)
    ]
    assert step2.intents[0].intent_id != step1.intents[0].intent_id
    assert step2.cancels == ("old-xom",)


def test_a_redelivered_step_is_the_same_intent_not_a_replacement() -> None:
    step1 = _plan(target="114.99")
    working = [WorkingIntent(step1.intents[0].intent_id, "SPY")]
    again = _plan(target="114.99", working=working)
    assert again.intents == step1.intents
    assert again.intents[0].replaces is None
    assert again.cancels == ()


def test_target_reached_plans_nothing_and_cancels_working() -> None:
    working = [WorkingIntent("w2", "XOM"), WorkingIntent("w1", "SPY")]
    plan = _plan(target="115", working=working)
    assert plan.gap == D(0)
    assert (plan.intents, plan.cancels, plan.planned_reduction) == ((), ("w1", "w2"), D(0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mode": Mode.THROTTLE_NEW_ORDERS}, "mode must be SOFT_DERISK or HARD_DERISK"),
        ({"step": 0}, "step_no must be an integer >= 1, got 0"),
        ({"target": "-1"}, "target_pct must be a finite Decimal >= 0, got Decimal('-1')"),
        (
            {"positions": [position("SPY", 1, account="B")]},
            "position account must be 'ACC1', got 'B' for SPY",
        ),
        (
            {"positions": [position("SPY", 1), position("SPY", 2)]},
            "symbol appears twice in positions: 'SPY'",
        ),
    ],
)
def test_bad_requests_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(PlannerError) as caught:
        _plan(**change)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_market_view_refuses_bad_prices() -> None:
    with pytest.raises(
        PlannerError, match=re.escape("bid must be a finite Decimal > 0 or None, got 10.0")
    ):
        MarketView(bid=10.0)  # type: ignore[arg-type]
    with pytest.raises(
        PlannerError, match=re.escape("last_print must be a finite Decimal > 0 or None")
    ):
        MarketView(last_print=D(0))
