"""The desk view folds events into what the dashboard and `top` show."""

from __future__ import annotations

from decimal import Decimal

from kit.desk import desk_story
from kit.event_base import ACCOUNT
from kit.order_events import order_canceled, order_partially_filled, order_replaced, order_working
from kit.position_events import position_closed, position_updated
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_mode_changed
from kit.system_events import alert
from quantrail.ops.desk_view import DeskLimits, DeskView, LedgerPnl
from quantrail.risk.rules import RiskRules
from quantrail.vocab import Mode


def folded(*events: object) -> DeskView:
    view = DeskView(DeskLimits.from_rules(RiskRules()), [ACCOUNT])
    for event in events:
        view.apply(event)  # type: ignore[arg-type]
    return view


def test_limits_come_from_the_rules_100_120_130_and_each_phase_tolerance() -> None:
    limits = DeskLimits.from_rules(RiskRules())
    assert (limits.close_limit_pct, limits.derisk_pct, limits.hard_cap_pct) == (100, 120, 130)
    assert limits.tolerance("MID") == 120 and limits.tolerance("LATE") == 115


def test_the_story_gives_mode_exposure_with_tolerance_orders_positions_alerts() -> None:
    state = folded(*desk_story()).snapshot()
    acct = state["accounts"][0]
    assert state["phase"] == "MID" and state["limits"]["tolerance_pct"] == 120
    assert (acct["mode"], acct["mode_reason"]) == ("NORMAL", "all limits met")
    assert acct["exposure"]["gross_pct"] == [100.0, 110.0]
    assert acct["exposure"]["potential_pct"][-1] == 118.0
    assert acct["exposure"]["tolerance_pct"] == [120.0, 120.0]
    assert acct["buckets"]["LT"]["current_pct"] == 80.0
    assert [o["order_id"] for o in acct["orders"]] == ["ord-w1"]
    assert [(p["symbol"], p["qty"]) for p in acct["positions"]] == [("ACME", 400)]
    assert acct["pnl"]["source"] == "risk.daily_status" and acct["pnl"]["total"] == "-12500.00"
    assert state["alerts"][0]["message"] == "LT bucket near its max"
    assert [h["service"] for h in state["health"]] == ["execution"]


def test_an_order_leaves_the_open_orders_when_it_ends_and_moves_on_a_replace() -> None:
    view = folded(order_working(order_id="a"), order_working(order_id="b"))
    view.apply(order_partially_filled(order_id="a", qty=300, last_qty=100))
    view.apply(order_replaced(order_id="b", old_order_id="b", new_order_id="b2", new_qty=50))
    view.apply(order_canceled(order_id="zzz"))
    rows = {o["order_id"]: o for o in view.snapshot()["accounts"][0]["orders"]}
    assert set(rows) == {"a", "b2"}
    assert rows["a"]["filled"] == 100 and rows["b2"]["qty"] == 50
    view.apply(order_canceled(order_id="a"))
    assert [o["order_id"] for o in view.snapshot()["accounts"][0]["orders"]] == ["b2"]


def test_a_flat_or_closed_position_is_gone() -> None:
    view = folded(position_updated(qty=100, position_id="p1"), position_updated(position_id="p2"))
    view.apply(position_updated(qty=0, position_id="p1"))
    view.apply(position_closed(position_id="p2"))
    assert view.snapshot()["accounts"][0]["positions"] == []


def test_the_kill_switch_shows_who_and_why_and_a_reset_clears_it() -> None:
    view = folded(kill_switch_activated(activated_by="risk_kernel"))
    kill = view.snapshot()["accounts"][0]["kill"]
    assert kill["active"] and kill["by"] == "risk_kernel"
    assert kill["trigger"] == "daily_loss_exceeded"
    view.apply(kill_switch_reset(reset_by="jane.doe", reason="loss reviewed"))
    kill = view.snapshot()["accounts"][0]["kill"]
    assert not kill["active"] and (kill["reset_by"], kill["reset_reason"]) == (
        "jane.doe", "loss reviewed",
    )  # fmt: skip


def test_an_event_without_account_applies_to_every_account() -> None:
    view = DeskView(DeskLimits(), ["A", "B"])
    view.apply(risk_mode_changed(mode=Mode.HARD_DERISK, account=None))
    assert [a["mode"] for a in view.snapshot()["accounts"]] == ["HARD_DERISK", "HARD_DERISK"]


def test_a_new_account_in_the_events_gets_its_own_desk() -> None:
    view = folded(risk_mode_changed(account="OTHER"))
    assert [a["name"] for a in view.snapshot()["accounts"]] == [ACCOUNT, "OTHER"]


def test_the_ledger_pnl_wins_over_the_daily_status_and_sums_exactly() -> None:
    view = folded(*desk_story())
    pnl = LedgerPnl(Decimal("120.50"), Decimal("-20.25"), Decimal("10.10"), Decimal("1.35"))
    view.set_ledger_pnl(ACCOUNT, pnl)
    shown = view.snapshot()["accounts"][0]["pnl"]
    assert shown["source"] == "ledger" and shown["total"] == "109.00"
    assert (shown["realized_intraday"], shown["baseline"]) == ("120.50", "-20.25")


def test_alerts_keep_the_latest_twenty_newest_first() -> None:
    view = folded(*(alert(alert_id=f"a{i}", message=f"m{i}") for i in range(25)))
    messages = [a["message"] for a in view.snapshot()["alerts"]]
    assert len(messages) == 20 and messages[0] == "m24" and messages[-1] == "m5"


def test_marks_are_the_open_positions_prices() -> None:
    view = folded(position_updated(qty=100, current_price="26.50"))
    assert view.marks(ACCOUNT) == {"ACME": Decimal("26.50")}


def test_a_new_session_date_starts_the_exposure_chart_afresh() -> None:
    from kit.market_events import session_clock
    from kit.position_events import exposure_snapshot

    view = folded(session_clock(session_date="2024-03-14"), exposure_snapshot())
    view.apply(session_clock(session_date="2024-03-14"))
    assert len(view.snapshot()["accounts"][0]["exposure"]["gross_pct"]) == 1
    view.apply(session_clock(session_date="2024-03-15"))
    view.apply(exposure_snapshot(gross_exposure_pct=90.0))
    assert view.snapshot()["accounts"][0]["exposure"]["gross_pct"] == [90.0]
