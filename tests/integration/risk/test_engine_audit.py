"""The decision engine audits what it decides: each announced mode and each de-risk step is an
``audit.decision.logged`` in the same batch, in the decision's chain (case B of the seeds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integration.risk.test_engine import run_case, tape
from kit.market_events import trade_print
from quantrail.config import AccountConfig
from quantrail.events import DecisionAudited, IntentCreated, RiskModeChanged
from quantrail.events.base import Event
from quantrail.session import ExchangeCalendar


async def test_a_mode_change_and_a_derisk_step_are_audited(
    rig: Callable[..., Any], services_for: Callable[..., Any], calendar: ExchangeCalendar,
    account_with: Callable[..., AccountConfig],
) -> None:  # fmt: skip
    account = account_with([("AAA", 8500, "LT", "100"), ("MMA", 3000, "MM_PURE", "100")])

    def market(ts: int) -> list[Event]:
        return [trade_print("AAA", "100.50", 200, **tape(ts)),
                trade_print("MMA", "100.50", 300, **tape(ts))]  # fmt: skip

    running = await run_case(rig, services_for, calendar, account, "2026-11-20 15:46", market)
    [change] = await running.events(RiskModeChanged)
    audits = await running.events(DecisionAudited)
    kinds = {a.decision_type: a for a in audits}
    assert sorted(kinds) == ["derisk_plan", "mode_change"]
    mode = kinds["mode_change"]
    assert mode.decision_id == f"audit:{change.idempotency_key}"
    assert mode.output["mode"] == "SOFT_DERISK" and mode.reasoning == change.reason
    assert mode.correlation_id == change.correlation_id and mode.account == "ACC1"
    plan = kinds["derisk_plan"]
    intents = await running.events(IntentCreated)
    assert [i["intent_id"] for i in plan.output["intents"]] == [i.intent_id for i in intents]
    assert plan.input_summary == {"mode": "SOFT_DERISK", "reason": "LATE_ABOVE_DERISK_LEVEL"}
