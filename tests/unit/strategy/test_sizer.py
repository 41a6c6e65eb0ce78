"""The position sizer's arithmetic: one request per approval, sized, capped, signed copy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from kit.event_base import ACCOUNT, T0
from kit.kernel import SECOND_NS, TEST_KEY, advisory, kernel_config, kernel_state
from quantrail.events.risk import RiskEvaluationCompleted
from quantrail.events.trades import SubmitOrder
from quantrail.risk.kernel import evaluate
from quantrail.risk.kernel_events import evaluation_events
from quantrail.risk.signing import SigningKeys, verify_approval
from quantrail.strategy.config import SizerConfig
from quantrail.strategy.sizer import NoRequest, size_request
from quantrail.vocab import Bucket, Direction, OrderType, Side

NOW = T0 + 5 * SECOND_NS


def evaluation(state: dict[str, Any] | None = None, **advice: Any) -> RiskEvaluationCompleted:
    signal = advisory(**advice)
    verdict = evaluate(signal, kernel_state(**(state or {})), kernel_config(), NOW)
    return evaluation_events(
        signal, verdict, account=ACCOUNT, key=TEST_KEY, config=kernel_config(), now_ns=NOW
    )[1]


def request(approval: RiskEvaluationCompleted, **config: Any) -> SubmitOrder:
    sized = size_request(approval, SizerConfig(**config), Bucket.LT, NOW + 1)
    assert isinstance(sized, SubmitOrder), sized
    return sized


def test_an_approval_of_2000_makes_one_market_buy_of_2000_copying_the_approval() -> None:
    approval = evaluation()
    order = request(approval)
    assert order.request_id == order.idempotency_key == f"req:{approval.evaluation_id}"
    assert (order.side, order.qty, order.order_type, order.limit_price) == (
        Side.BUY, 2000, OrderType.MARKET, None
    )  # fmt: skip
    assert order.direction is Direction.LONG and order.bucket is Bucket.LT
    assert (order.entry_price, order.stop_loss) == (Decimal("10.00"), Decimal("9.50"))
    assert order.risk_amount == Decimal("1000") and order.risk_percent == 1.0
    assert order.account == ACCOUNT and order.evaluation_id == approval.evaluation_id
    assert order.signal_id == approval.signal_id and order.strategy == "breakout"
    assert order.correlation_id == approval.signal_id
    assert order.causation_id == approval.event_id
    assert order.approval_max_qty == 2000 and order.approval_ts_ns == approval.ts_event
    assert order.approval_signature == approval.signature != ""
    assert order.approval_key_id == TEST_KEY.key_id
    assert verify_approval(order, SigningKeys(TEST_KEY)) is None


def test_a_modified_approval_is_sized_from_its_risk_and_capped_at_the_approved_qty() -> None:
    approval = evaluation(stop_price="9.90")
    assert approval.decision == "MODIFIED"
    order = request(approval)
    assert order.qty == 2500 and order.risk_amount == Decimal("250.00")
    assert verify_approval(order, SigningKeys(TEST_KEY)) is None


def test_a_short_limit_entry_sells_offset_below_the_entry_in_the_sizers_lots() -> None:
    approval = evaluation(recommended_action="SHORT", stop_price="10.70")
    limit = {"order_type": OrderType.LIMIT, "limit_offset": Decimal("0.05")}
    order = request(approval, round_lot=500, **limit)
    assert order.side is Side.SELL and order.limit_price == Decimal("9.95")
    assert approval.approved_qty == 1400 and order.qty == 1000  # 1,428 -> two lots of 500
    assert order.risk_amount == Decimal("700.00")
    assert order.risk_percent is not None and abs(order.risk_percent - 0.7) < 1e-12
    assert verify_approval(order, SigningKeys(TEST_KEY)) is None
    buy = request(evaluation(), order_type=OrderType.LIMIT, limit_offset=Decimal("0.02"))
    assert buy.limit_price == Decimal("10.02")


def test_a_veto_or_an_approval_that_sizes_to_nothing_makes_no_request() -> None:
    vetoed = size_request(evaluation({"kill_switch_active": True}), SizerConfig(), Bucket.LT, NOW)
    assert vetoed == NoRequest("vetoed: KILL_SWITCH_ACTIVE")
    tiny = size_request(evaluation(), SizerConfig(round_lot=5000), Bucket.LT, NOW)
    assert isinstance(tiny, NoRequest) and "no round lot" in tiny.reason
    of_an_intent = msgspec.structs.replace(evaluation(), signal_id="", intent_id="i1")
    assert isinstance(size_request(of_an_intent, SizerConfig(), Bucket.LT, NOW), NoRequest)
