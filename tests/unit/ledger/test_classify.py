from __future__ import annotations

import pytest

from quantrail.ledger.classify import ClassifiedLeg, FillClass, class_of, classify
from quantrail.vocab import Bucket, Direction, Effect, Side

LONG, SHORT = Direction.LONG, Direction.SHORT
INC, DEC = Effect.INCREASE, Effect.DECREASE


@pytest.mark.parametrize(
    ("bucket", "before", "side", "qty", "expected"),
    [
        (Bucket.LT, 0, Side.BUY, 100, FillClass.LT_LONG_INCREASE),
        (Bucket.LT, 500, Side.BUY, 100, FillClass.LT_LONG_INCREASE),
        (Bucket.LT, 500, Side.SELL, 100, FillClass.LT_LONG_DECREASE),
        (Bucket.LT, 0, Side.SELL, 100, FillClass.LT_SHORT_INCREASE),
        (Bucket.LT, -500, Side.SELL, 100, FillClass.LT_SHORT_INCREASE),
        (Bucket.LT, -500, Side.BUY, 100, FillClass.LT_SHORT_DECREASE),
        (Bucket.MM_PURE, 0, Side.BUY, 100, FillClass.MM_LONG_INCREASE),
        (Bucket.MM_PURE, 200, Side.SELL, 200, FillClass.MM_LONG_DECREASE),
        (Bucket.MM_PURE, -1, Side.SELL, 100, FillClass.MM_SHORT_INCREASE),
        (Bucket.MM_PURE, -300, Side.BUY, 100, FillClass.MM_SHORT_DECREASE),
    ],
)
def test_each_of_the_eight_classes(
    bucket: Bucket, before: int, side: Side, qty: int, expected: FillClass
) -> None:
    legs = classify(bucket, before, side, qty)

    assert [(leg.fill_class, leg.qty) for leg in legs] == [(expected, qty)]
    assert legs[0].name == expected.value


def test_all_eight_class_names_exist_and_are_spelled_book_direction_effect() -> None:
    names = {
        class_of(bucket, direction, effect).value
        for bucket in Bucket
        for direction in (LONG, SHORT)
        for effect in Effect
    }

    assert names == {c.value for c in FillClass}
    assert len(names) == 8
    assert "MM_SHORT_DECREASE" in names and "LT_LONG_INCREASE" in names


def test_a_sell_crossing_zero_splits_into_decrease_to_flat_then_short_increase() -> None:
    legs = classify(Bucket.LT, 100, Side.SELL, 300)

    assert legs == [
        ClassifiedLeg(FillClass.LT_LONG_DECREASE, 100, LONG, DEC),
        ClassifiedLeg(FillClass.LT_SHORT_INCREASE, 200, SHORT, INC),
    ]
    assert sum(leg.signed_qty for leg in legs) == -300


def test_a_buy_crossing_zero_splits_into_short_decrease_then_long_increase() -> None:
    legs = classify(Bucket.MM_PURE, -500, Side.BUY, 800)

    assert [(leg.name, leg.qty) for leg in legs] == [
        ("MM_SHORT_DECREASE", 500),
        ("MM_LONG_INCREASE", 300),
    ]
    assert sum(leg.signed_qty for leg in legs) == 800


def test_a_fill_to_exactly_flat_is_one_decrease_leg() -> None:
    legs = classify(Bucket.LT, -500, Side.BUY, 500)

    assert [(leg.name, leg.qty) for leg in legs] == [("LT_SHORT_DECREASE", 500)]


@pytest.mark.parametrize(
    ("before", "qty", "field", "shown"),
    [
        (0, 0, "qty", "0"),
        (0, -5, "qty", "-5"),
        (0, True, "qty", "True"),
        (1.5, 10, "position_before", "1.5"),
    ],
)
def test_bad_input_names_the_field_and_value(
    before: object, qty: object, field: str, shown: str
) -> None:
    with pytest.raises(ValueError, match=rf"{field}: .*\(value: {shown}\)"):
        classify(Bucket.LT, before, Side.BUY, qty)  # type: ignore[arg-type]


def test_flat_is_not_a_class_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        class_of(Bucket.LT, Direction.FLAT, Effect.INCREASE)
