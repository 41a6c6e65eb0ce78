"""The position sizer's arithmetic: an approved evaluation in, one sized order request out.

Pure: ``size_request(evaluation, config, bucket)`` returns the ``SubmitOrder`` or the reason it
makes none. qty = floor(risk_amount / |entry - stop|) in round lots (``sizer.round_lot``),
capped by the evaluation's ``approved_qty``; side from the direction (LONG buys, SHORT sells);
a LIMIT entry is priced ``limit_offset`` through the entry (a buy at entry + offset, a sell at
entry - offset). The request copies the approval (``approval_max_qty``, ``approval_ts_ns``,
``approval_signature``, ``approval_key_id``) so execution can check it without trusting the
sizer. ``request_id = req:<evaluation_id>`` is also the idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantrail.events.risk import RiskEvaluationCompleted
from quantrail.events.trades import SubmitOrder
from quantrail.risk.kernel_events import chained
from quantrail.strategy.config import SizerConfig
from quantrail.vocab import Bucket, Direction, OrderType, Side

SERVICE = "sizer"


def request_id(evaluation_id: str) -> str:
    return f"req:{evaluation_id}"


@dataclass(frozen=True, slots=True)
class NoRequest:
    """Why an evaluation makes no request (a veto, or an approval that sizes to nothing)."""

    reason: str


def size_request(
    evaluation: RiskEvaluationCompleted, config: SizerConfig, bucket: Bucket, now_ns: int
) -> SubmitOrder | NoRequest:
    if evaluation.decision == "VETOED":
        return NoRequest(f"vetoed: {evaluation.veto_reason}")
    if not evaluation.signal_id:
        return NoRequest("not an advisory's evaluation (intents go to execution directly)")
    direction, entry, stop = evaluation.direction, evaluation.entry_price, evaluation.stop_price
    risk = evaluation.risk_amount
    if direction not in (Direction.LONG, Direction.SHORT):
        return NoRequest(f"direction: must be LONG or SHORT, got {direction}")
    if entry is None or stop is None or risk is None or entry == stop:
        return NoRequest(f"entry {entry}, stop {stop} and risk {risk} do not size a trade")
    qty = min(int(risk // abs(entry - stop)) // config.round_lot * config.round_lot,
              evaluation.approved_qty)  # fmt: skip
    if qty <= 0:
        return NoRequest(f"risk {risk} over {abs(entry - stop)}/share buys no round lot")
    side = Side.BUY if direction is Direction.LONG else Side.SELL
    limit = None
    if config.order_type == OrderType.LIMIT:
        limit = entry + config.limit_offset * side.sign
        if limit <= 0:
            return NoRequest(f"limit price {limit} from entry {entry} is not a price")
    req_id = request_id(evaluation.evaluation_id)
    at_risk = abs(entry - stop) * qty  # the granted risk, or less when a smaller lot cut it
    percent = evaluation.risk_percent
    if percent is not None and risk > 0:
        percent = percent * float(at_risk / risk)
    return SubmitOrder(
        ts_event=now_ns,
        idempotency_key=req_id,
        source=SERVICE,
        account=evaluation.account,
        **chained(evaluation),
        request_id=req_id,
        evaluation_id=evaluation.evaluation_id,
        symbol=evaluation.symbol,
        side=side,
        qty=qty,
        order_type=config.order_type,
        limit_price=limit,
        tif=config.tif,
        bucket=bucket,
        direction=direction,
        entry_price=entry,
        stop_loss=stop,
        risk_amount=at_risk,
        risk_percent=percent,
        signal_id=evaluation.signal_id,
        strategy=evaluation.strategy,
        approval_max_qty=evaluation.approved_qty,
        approval_ts_ns=evaluation.ts_event,
        approval_signature=evaluation.signature,
        approval_key_id=evaluation.key_id,
    )
