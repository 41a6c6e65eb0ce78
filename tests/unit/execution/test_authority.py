"""The authority gate: which requests and internal orders may reach the venue."""

from __future__ import annotations

import pytest

from kit.order_events import intent, submit_order
from kit.risk_events import risk_evaluation
from quantrail.events import SubmitOrder
from quantrail.execution.authority import AuthorityGate, reduces
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Side

T0 = 1_700_000_000 * NS_PER_SECOND


def gate(**kwargs: object) -> AuthorityGate:
    authority = AuthorityGate(max_approval_age_s=60.0, **kwargs)  # type: ignore[arg-type]
    authority.record(risk_evaluation(ts_event=T0))  # eval-1: APPROVED LONG SYM up to 400
    return authority


def test_an_approved_request_within_its_approval_passes() -> None:
    assert gate().check_request(submit_order(qty=400, ts_event=T0), T0 + NS_PER_SECOND) is None


@pytest.mark.parametrize(
    ("request_fields", "now_ns", "expected"),
    [
        ({"evaluation_id": "made-up-eval"}, T0, "no such evaluation 'made-up-eval'"),
        ({"qty": 500}, T0, "size 500 is above the approved 400"),
        ({"side": Side.SELL}, T0, "side SELL is not the approved direction LONG"),
        ({"symbol": "OTHER"}, T0, "symbol 'OTHER' is not the approved"),
        ({"account": "ELSEWHERE"}, T0, "account 'ELSEWHERE' is not the approved"),
        ({}, T0 + 61 * NS_PER_SECOND, "expired: 61s old, max 60s"),
    ],
)
def test_a_request_outside_its_approval_is_refused_naming_what_is_wrong(
    request_fields: dict[str, object], now_ns: int, expected: str
) -> None:
    reason = gate().check_request(submit_order(**request_fields), now_ns)
    assert reason is not None and expected in reason


def test_a_vetoed_evaluation_authorizes_nothing() -> None:
    authority = AuthorityGate(max_approval_age_s=60.0)
    authority.record(risk_evaluation("VETOED", evaluation_id="eval-v", ts_event=T0))
    reason = authority.check_request(submit_order(evaluation_id="eval-v"), T0)
    assert reason == "evaluation 'eval-v' was VETOED"


def test_an_evaluation_is_used_once_but_the_same_request_again_is_no_reuse() -> None:
    authority = gate()
    first = submit_order(request_id="req-1")
    authority.accept(first)
    assert authority.check_request(first, T0) is None
    reason = authority.check_request(submit_order(request_id="req-2"), T0)
    assert reason == "evaluation 'eval-1' already used by request 'req-1'"


def test_the_signature_check_runs_after_the_approval_matches() -> None:
    def refuse(request: SubmitOrder) -> str | None:
        return "signature does not match" if request.approval_signature != "good" else None

    authority = gate(check_signature=refuse)
    assert authority.check_request(submit_order(approval_signature="good"), T0) is None
    assert authority.check_request(submit_order(approval_signature="bad"), T0) == (
        "signature does not match"
    )


def test_forgotten_approvals_are_no_longer_known() -> None:
    authority = gate()
    authority.forget_before(T0 + 1)
    assert authority.approvals == {}


@pytest.mark.parametrize(
    ("side", "qty", "position", "expected"),
    [
        (Side.SELL, 100, 300, True),
        (Side.SELL, 300, 300, True),
        (Side.SELL, 400, 300, False),  # would cross to a short
        (Side.BUY, 100, 300, False),  # adds to a long
        (Side.BUY, 100, -200, True),
        (Side.SELL, 100, 0, False),  # opens a short
    ],
)
def test_reduces_means_toward_flat_without_crossing(
    side: Side, qty: int, position: int, expected: bool
) -> None:
    assert reduces(side, qty, position) is expected


def test_an_internal_order_must_reduce_unless_its_source_may_add_exposure() -> None:
    authority = AuthorityGate(max_approval_age_s=60.0, exposure_sources=frozenset({"engine"}))
    adding = intent(side=Side.BUY, qty=100, source="exit_brain")
    reason = authority.check_intent(adding, position_qty=300)
    assert reason is not None and "'exit_brain' would add exposure" in reason
    assert authority.check_intent(intent(side=Side.SELL, source="exit_brain"), 300) is None
    assert authority.check_intent(intent(side=Side.BUY, source="engine"), 300) is None
