"""AccountBook: positions from fills once per fill id, orders from lifecycles, terminal is final."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.order_events import (
    order_canceled,
    order_fill_corrected,
    order_filled,
    order_partially_filled,
    order_replaced,
    order_working,
)
from quantrail.risk.account_book import AccountBook
from quantrail.risk.baseline import BaselineRow
from quantrail.risk.exposure import OpenOrder
from quantrail.vocab import Bucket, OrderStatus, Side

D = Decimal


def book() -> AccountBook:
    return AccountBook("ACC1", [BaselineRow("ACME", 500, Bucket.LT, D("25.00")),
                                BaselineRow("FLAT", 0, Bucket.MM_PURE, D("9.99"))])  # fmt: skip


def test_baseline_positions_carry_the_prior_close_as_their_price() -> None:
    made = book()
    assert [(p.symbol, p.qty, p.avg_price) for p in made.positions] == [
        ("ACME", 500, D("25.00")),
        ("FLAT", 0, D(0)),
    ]
    assert (made.fallback_price("ACME"), made.fallback_price("NEW")) == (D("25.00"), None)


def test_a_fill_moves_the_position_once_per_fill_id() -> None:
    made = book()
    fill = order_partially_filled(qty=300, last_qty=100, price="25.10", fill_id="f-1")
    assert made.apply(fill) is True
    assert made.apply(fill) is False  # redelivered: nothing at all changes
    assert made.positions.qty("ACME") == 600
    assert made.open_orders() == [OpenOrder("ACME", Side.BUY, 200, D("25.10"), Bucket.LT)]
    assert made.has_fill("f-1") and made.order("ord-1").filled == 100


def test_an_older_event_arriving_late_does_not_bring_back_filled_shares() -> None:
    made = book()
    made.apply(order_partially_filled(qty=300, last_qty=200, fill_id="f-1"))
    assert made.apply(order_working(qty=300)) is False  # older news: still 100 left
    assert made.open_orders()[0].qty == 100


def test_terminal_is_final_and_a_first_seen_terminal_order_opens_nothing() -> None:
    made = book()
    made.apply(order_working(qty=300))
    assert made.apply(order_canceled(qty=300)) is True
    assert made.apply(order_working(qty=300)) is False
    assert made.open_orders() == []
    assert made.apply(order_canceled(order_id="ord-9", qty=50)) is False
    assert made.order("ord-9") is not None and not made.order("ord-9").live


def test_a_replace_ends_the_old_order_and_opens_the_successor() -> None:
    made = book()
    made.apply(order_working(qty=100, intent_id="int-1"))
    assert made.apply(order_replaced(new_order_id="ord-2", new_qty=150)) is True
    assert made.open_orders() == [OpenOrder("ACME", Side.BUY, 150, D("25.02"), Bucket.LT)]
    assert [o.order_id for o in made.orders_of_intent("int-1")] == ["ord-1", "ord-2"]
    assert [o.live for o in made.orders_of_intent("int-1")] == [False, True]


def test_a_replace_in_place_keeps_the_fills() -> None:
    made = book()
    made.apply(order_partially_filled(qty=100, last_qty=40, fill_id="f-1"))
    made.apply(order_replaced(new_order_id="ord-1", new_qty=150, new_limit_price=D("25.03")))
    assert made.open_orders() == [OpenOrder("ACME", Side.BUY, 110, D("25.03"), Bucket.LT)]


def test_a_fill_into_an_open_position_of_another_bucket_keeps_the_shares(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = book()
    made.apply(order_filled(qty=100, price="25", bucket=Bucket.MM_PURE, fill_id="f-1"))
    assert made.positions.get("ACME").qty == 600
    assert made.positions.get("ACME").bucket is Bucket.LT
    assert "books MM_PURE ACME into the open LT position" in caplog.text


def test_a_new_symbol_is_booked_in_the_fills_bucket_and_marked_at_it() -> None:
    made = book()
    made.apply(order_filled(symbol="NEW", side=Side.SELL, qty=200, price="12.34",
                            bucket=Bucket.MM_PURE, fill_id="f-1"))  # fmt: skip
    position = made.positions.get("NEW")
    assert (position.qty, position.bucket) == (-200, Bucket.MM_PURE)
    assert made.fallback_price("NEW") == D("12.34")


def test_an_event_of_another_account_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="account: this book is 'ACC1', got 'ACC2'"):
        book().apply(order_working(account="ACC2"))


def test_ended_orders_leave_the_live_index_so_open_orders_walks_only_live_ones() -> None:
    made = book()
    for n in range(300):  # a day of orders that ended: filled, canceled, replaced
        oid = f"old-{n}"
        made.apply(order_working(order_id=oid, intent_id=f"i-{n}", qty=100))
        if n % 3 == 0:
            made.apply(order_filled(order_id=oid, intent_id=f"i-{n}", fill_id=f"f-{n}"))
        elif n % 3 == 1:
            made.apply(order_canceled(order_id=oid, intent_id=f"i-{n}", qty=100))
        else:
            replaced = {"order_id": oid, "old_order_id": oid, "new_order_id": f"new-{n}"}
            made.apply(order_replaced(intent_id=f"i-{n}", **replaced))
            made.apply(order_canceled(order_id=f"new-{n}", intent_id=f"i-{n}", qty=100))
    made.apply(order_working(order_id="live-1", intent_id="i-live", qty=200))
    assert [o.order_id for o in made.live_orders()] == ["live-1"]
    assert made.open_orders() == [OpenOrder("ACME", Side.BUY, 200, D("25.01"), Bucket.LT)]
    # Ended orders are still known by id and by intent (late events, de-risk's lookups).
    ended = made.order("old-0")
    assert ended is not None and not ended.live
    assert [o.order_id for o in made.orders_of_intent("i-2")] == ["old-2", "new-2"]


def test_live_orders_keep_the_order_they_were_first_seen_in() -> None:
    made = book()
    for oid in ("a", "b", "c"):
        made.apply(order_working(order_id=oid, intent_id=f"i-{oid}", qty=100))
    made.apply(order_canceled(order_id="b", intent_id="i-b", qty=100))
    made.apply(order_working(order_id="a", intent_id="i-a", qty=100))  # again: stays first
    assert [o.order_id for o in made.live_orders()] == ["a", "c"]


def test_a_corrected_fill_changes_the_position_once() -> None:
    made = book()
    made.apply(order_partially_filled(qty=300, last_qty=100, price="25.10", fill_id="fill-1"))
    correction = order_fill_corrected(
        qty=300, last_qty=80, previous_qty=100, previous_price="25.10", price="25.05",
        cum_qty=80, leaves_qty=220, status=OrderStatus.PARTIALLY_FILLED,
    )  # fmt: skip
    assert made.apply(correction) is True
    assert made.apply(correction) is False  # a repeat changes nothing
    assert made.positions.qty("ACME") == 580 and made.order("ord-1").filled == 80
    assert made.open_orders() == [OpenOrder("ACME", Side.BUY, 220, D("25.10"), Bucket.LT)]
