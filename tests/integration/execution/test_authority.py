"""Only the risk kernel authorizes an order: execution refuses requests without a valid approval.

ACC1 starts 500 ACME long (the harness baseline). Each refused request is denied
``UNAPPROVED_REQUEST`` with a WARNING alert and an audit record, and nothing reaches the venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integration.execution.harness import Harness, execution_config
from kit.event_base import SYMBOL, T0
from kit.market_events import quote
from kit.order_events import intent, submit_order
from kit.poll import eventually
from kit.risk_events import risk_evaluation
from quantrail.bus.bus import EventBus
from quantrail.events import AlertTriggered, DecisionAudited, RiskEvaluationCompleted, SubmitOrder
from quantrail.execution.order import order_id_for_intent
from quantrail.risk.signing import SigningKey, approval_message, sign
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Direction, Side

SECRET = "test-signing-key-0123456789"


@pytest.fixture
async def harness(bus: EventBus, tmp_path: Path) -> AsyncIterator[Harness]:
    running = Harness(bus, execution_config(tmp_path))
    yield running
    await running.close()


def signed(evaluation: RiskEvaluationCompleted) -> RiskEvaluationCompleted:
    import msgspec

    message = approval_message(
        evaluation_id=evaluation.evaluation_id, account=evaluation.account, symbol=SYMBOL,
        direction=Direction.LONG, max_qty=400, ts_ns=evaluation.ts_event,
    )  # fmt: skip
    signature, key_id = sign(SigningKey.from_secret(SECRET.encode()), message)
    return msgspec.structs.replace(evaluation, signature=signature, key_id=key_id)


def request_for(evaluation: RiskEvaluationCompleted, request_id: str, **fields: Any) -> SubmitOrder:
    defaults: dict[str, Any] = {
        "request_id": request_id, "intent_id": "", "evaluation_id": evaluation.evaluation_id,
        "qty": 100, "direction": Direction.LONG, "approval_max_qty": 400,
        "approval_ts_ns": evaluation.ts_event, "approval_signature": evaluation.signature,
        "approval_key_id": evaluation.key_id,
    }  # fmt: skip
    return submit_order(**{**defaults, **fields})


async def denied(harness: Harness, request_id: str) -> str:
    """The denial's reason, after checking the alert and the audit record exist."""
    order_id = order_id_for_intent(request_id)
    events = await harness.wait_kind(order_id, "denied")
    assert [e.kind.rsplit(".", 1)[-1] for e in events] == ["denied"]  # never submitted
    assert events[-1].reason_code == "UNAPPROVED_REQUEST"
    # On a cluster the alert and the audit record are written beside the denial, to other
    # nodes: seen within a deadline, not necessarily at the same instant.
    await eventually(
        lambda: harness.read("system.alert"),
        lambda alerts: any(isinstance(a, AlertTriggered) and order_id in a.message for a in alerts),
        what=f"the alert for {order_id}",
    )
    await eventually(
        lambda: harness.read("audit.decision"),
        lambda audits: any(
            isinstance(a, DecisionAudited) and a.decision_id == f"{order_id}:unapproved"
            for a in audits
        ),
        what=f"the audit record for {order_id}",
    )
    assert harness.service is not None
    assert all(r.order_id != order_id for r in harness.service.venue.open_orders())
    return str(events[-1].reason)


async def test_requests_without_a_valid_approval_are_denied_each_for_its_reason(
    harness: Harness,
) -> None:
    approved = risk_evaluation(evaluation_id="eval-ok", ts_event=T0)
    vetoed = risk_evaluation("VETOED", evaluation_id="eval-no", ts_event=T0)
    old = risk_evaluation(evaluation_id="eval-old", ts_event=T0 - 301 * NS_PER_SECOND)
    await harness.start()
    await harness.show(quote(bid_size=5000, ask_size=5000))
    await harness.publish(approved, vetoed, old)
    await harness.publish(request_for(approved, "r-first"))
    await harness.wait_kind(order_id_for_intent("r-first"), "working")
    await harness.publish(
        submit_order(request_id="r-made-up", intent_id="", evaluation_id="made-up-eval"),
        request_for(vetoed, "r-vetoed"),
        request_for(approved, "r-reused"),
        request_for(old, "r-expired"),
    )
    assert "no such evaluation 'made-up-eval'" in await denied(harness, "r-made-up")
    assert "was VETOED" in await denied(harness, "r-vetoed")
    assert "already used by request 'r-first'" in await denied(harness, "r-reused")
    assert "expired" in await denied(harness, "r-expired")


async def test_a_size_above_the_approval_is_denied(harness: Harness) -> None:
    approved = risk_evaluation(evaluation_id="eval-big", ts_event=T0)
    await harness.start()
    await harness.show(quote(bid_size=5000, ask_size=5000))
    await harness.publish(approved, request_for(approved, "r-big", qty=500))
    assert "size 500 is above the approved 400" in await denied(harness, "r-big")


async def test_a_tampered_signature_is_denied_and_a_signed_approval_trades(
    bus: EventBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTRAIL_SIGNING_KEY", SECRET)
    harness = Harness(bus, execution_config(tmp_path))
    try:
        good = signed(risk_evaluation(evaluation_id="eval-signed", ts_event=T0))
        forged = signed(risk_evaluation(evaluation_id="eval-forged", ts_event=T0))
        await harness.start()
        await harness.show(quote(bid_size=5000, ask_size=5000))
        await harness.publish(good, forged)
        await harness.publish(request_for(good, "r-signed"))
        await harness.wait_kind(order_id_for_intent("r-signed"), "working")
        # The same approval, its size raised on the way: the signature no longer matches.
        await harness.publish(request_for(forged, "r-forged", approval_max_qty=4000, qty=300))
        reason = await denied(harness, "r-forged")
        assert "approval signature refused: BAD_SIGNATURE" in reason
    finally:
        await harness.close()


async def test_internal_orders_go_out_when_they_reduce_and_not_when_they_add(
    harness: Harness,
) -> None:
    await harness.start()
    await harness.show(quote(bid_size=5000, ask_size=5000))
    await harness.publish(
        intent(intent_id="exit-1", side=Side.SELL, qty=100, source="exit_brain", reduce_only=True),
        intent(intent_id="drift-1", side=Side.BUY, qty=100, source="decision-engine"),
        intent(intent_id="rogue-1", side=Side.BUY, qty=100, source="rogue"),
    )
    await harness.wait_kind(order_id_for_intent("exit-1"), "working")
    await harness.wait_kind(order_id_for_intent("drift-1"), "working")
    assert "'rogue' would add exposure" in await denied(harness, "rogue-1")


async def test_after_a_restart_earlier_approvals_are_known_and_used_ones_refused(
    harness: Harness,
) -> None:
    first = risk_evaluation(evaluation_id="eval-a", ts_event=T0)
    second = risk_evaluation(evaluation_id="eval-b", ts_event=T0)
    await harness.start()
    await harness.show(quote(bid_size=5000, ask_size=5000))
    await harness.publish(first, second, request_for(first, "r-a"))
    await harness.wait_kind(order_id_for_intent("r-a"), "working")
    await harness.stop()
    await harness.start()
    await harness.show(quote(bid_size=5000, ask_size=5000))
    await harness.publish(request_for(second, "r-b"), request_for(first, "r-a-again"))
    await harness.wait_kind(order_id_for_intent("r-b"), "working")
    assert "already used by request 'r-a'" in await denied(harness, "r-a-again")
    await eventually(lambda: harness.orders(order_id_for_intent("r-a")), bool)
