"""The execution invariants are pure: a Seen built by hand breaks them with a clear diff line."""

from __future__ import annotations

from decimal import Decimal

from quantrail.scenario.compare import Seen, SeenIntent, differences
from quantrail.scenario.format import Expectation, IntentSpec
from quantrail.scenario.invariants import Execution, SeenFill, SeenOrder, execution_differences
from quantrail.vocab import Mode, Side

D = Decimal
SELL_PFA = SeenIntent("PFA", Side.SELL, 1600, D("24.99"), "i-pfa")
BUY_PFB = SeenIntent("PFB", Side.BUY, 600, D("25.01"), "i-pfb")
EXPECT = Expectation(
    mode=Mode.HARD_DERISK,
    intents=[
        IntentSpec(symbol="PFA", side=Side.SELL, qty=1600, price=D("24.99")),
        IntentSpec(symbol="PFB", side=Side.BUY, qty=600, price=D("25.01")),
    ],
    exact=True,
)


def clean() -> Execution:
    return Execution(
        intent_ids=("i-pfa", "i-pfb"),
        orders=(SeenOrder("O-pfa", "i-pfa", 1600), SeenOrder("O-pfb", "i-pfb", 600)),
        fills=(
            SeenFill("F1", "O-pfa", 1000),
            SeenFill("F2", "O-pfa", 600),
            SeenFill("F3", "O-pfb", 600),
        ),
    )


def seen(execution: Execution, intents: list[SeenIntent] | None = None) -> Seen:
    return Seen(Mode.HARD_DERISK, "CLOSE_ABOVE_LIMIT", intents or [SELL_PFA, BUY_PFB],
                execution=execution)  # fmt: skip


def test_a_clean_execution_passes() -> None:
    assert execution_differences(clean()) == []
    assert differences(EXPECT, seen(clean())) == []


def test_a_duplicated_order_fails_the_scenario_naming_intent_and_orders() -> None:
    run = clean()
    doubled = Execution(run.intent_ids, (*run.orders, SeenOrder("O-pfa-2", "i-pfa", 1600)),
                        run.fills)  # fmt: skip
    assert differences(EXPECT, seen(doubled)) == [
        "order duplicated: intent i-pfa (SELL 1600 PFA @ 24.99) has 2 orders: O-pfa, O-pfa-2"
    ]


def test_a_lost_order_fails_the_scenario() -> None:
    run = clean()
    lost = Execution(run.intent_ids, run.orders[1:], run.fills[2:])
    assert differences(EXPECT, seen(lost)) == [
        "order lost: intent i-pfa (SELL 1600 PFA @ 24.99) has no order"
    ]


def test_an_intent_of_another_account_is_named_by_id_alone() -> None:
    run = Execution(intent_ids=("desk-1",))
    assert execution_differences(run) == ["order lost: intent desk-1 has no order"]


def test_a_replace_successor_is_not_a_second_order_of_its_intent() -> None:
    run = clean()
    successor = SeenOrder("O-pfa.r1", "i-pfa", 1600, successor=True)
    assert execution_differences(Execution(run.intent_ids, (*run.orders, successor))) == []


def test_a_fill_id_twice_and_an_overfill_each_get_a_line() -> None:
    run = clean()
    again = Execution(run.intent_ids, run.orders, (*run.fills, SeenFill("F1", "O-pfa", 1000)))
    assert execution_differences(again) == [
        "fill duplicated: fill id F1 appears 2 times",
        "overfill: order O-pfa filled 2600 of qty 1600",
    ]


def test_a_failed_run_note_is_a_diff_line() -> None:
    run = Execution(notes=("execution service exited with code 1 (run 1)",))
    assert execution_differences(run) == ["execution service exited with code 1 (run 1)"]


def test_intents_count_by_distinct_id_so_exact_holds_for_a_redelivered_one() -> None:
    twice = seen(clean(), [SELL_PFA, SELL_PFA, BUY_PFB])
    assert twice.distinct_intents == [SELL_PFA, BUY_PFB]
    assert differences(EXPECT, twice) == []
    other = SeenIntent("PFA", Side.SELL, 1600, D("24.99"), "i-other")  # same terms, new id
    assert differences(EXPECT, seen(clean(), [SELL_PFA, other, BUY_PFB])) == [
        "intents not expected: SELL 1600 PFA @ 24.99"
    ]
