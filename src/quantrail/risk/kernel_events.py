"""The two events of one kernel evaluation, built in one place: the audit record and the verdict.

``evaluation_id = eval:<signal_id>`` is both the evaluation's id and its idempotency key; the
audit record's ``decision_id`` is the same id. An approval (APPROVED or MODIFIED) is signed
(``quantrail.risk.signing``) over its id, account, symbol, direction, ``approved_qty`` and
``ts_event``; a veto authorizes nothing and carries no signature.
"""

from __future__ import annotations

from typing import Any

from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event
from quantrail.events.risk import PositionAllowance, RiskEvaluationCompleted
from quantrail.events.signals import SignalIssued
from quantrail.risk.kernel import Verdict
from quantrail.risk.kernel_config import RiskKernelConfig
from quantrail.risk.signing import SigningKey, approval_message, sign

SERVICE = "risk_kernel"
POLICY_REFERENCES = [
    "risk_kernel.risk_per_trade_pct", "risk_kernel.max_position_pct",
    "risk_kernel.daily_loss_limit_pct", "risk_kernel.max_drawdown_pct",
    "docs/risk_kernel.md#dimensions",
]  # fmt: skip


def chained(cause: Event) -> dict[str, Any]:
    """The envelope fields of an event ``cause`` caused (its correlation chain)."""
    return cause.caused()


def evaluation_id(signal_id: str) -> str:
    return f"eval:{signal_id}"


def evaluation_events(
    advisory: SignalIssued,
    verdict: Verdict,
    *,
    account: str | None,
    key: SigningKey | None,
    config: RiskKernelConfig,
    now_ns: int,
) -> tuple[DecisionAudited, RiskEvaluationCompleted]:
    """The audit record and the evaluation, in the order they are published (audit first: an
    evaluation on the stream means its audit record is there too)."""
    evaluation = _evaluation(advisory, verdict, account, key, now_ns)
    return _audit(advisory, verdict, evaluation, config), evaluation


def _evaluation(
    advisory: SignalIssued,
    verdict: Verdict,
    account: str | None,
    key: SigningKey | None,
    now_ns: int,
) -> RiskEvaluationCompleted:
    eval_id = evaluation_id(advisory.signal_id)
    approved = verdict.decision != "VETOED"
    direction = verdict.direction
    signature = key_id = ""
    if approved and direction is not None:
        message = approval_message(
            evaluation_id=eval_id,
            account=account,
            symbol=advisory.symbol,
            direction=direction,
            max_qty=verdict.approved_qty,
            ts_ns=now_ns,
        )
        signature, key_id = sign(key, message)
    allowed = (
        PositionAllowance(
            symbol=advisory.symbol,
            direction=direction,
            max_qty=verdict.approved_qty,
            max_risk_usd=verdict.risk_amount,
        )
        if approved and direction is not None
        else None
    )
    return RiskEvaluationCompleted(
        ts_event=now_ns,
        idempotency_key=eval_id,
        source=SERVICE,
        account=account,
        **chained(advisory),
        evaluation_id=eval_id,
        signal_id=advisory.signal_id,
        decision=verdict.decision,
        veto_reason=verdict.reasons[0] if verdict.reasons else "",
        veto_reasons=[str(code) for code in verdict.reasons],
        modifications=verdict.modifications,
        risk_dimensions=verdict.dimensions,
        position_allowed=allowed,
        symbol=advisory.symbol,
        direction=direction,
        strategy=advisory.strategy,
        entry_price=advisory.entry_price,
        stop_price=advisory.stop_price,
        risk_amount=verdict.risk_amount if approved else None,
        risk_percent=verdict.risk_percent if approved else None,
        requested_qty=verdict.sizing.requested_qty,
        approved_qty=verdict.approved_qty,
        signature=signature,
        key_id=key_id,
    )


def _audit(
    advisory: SignalIssued,
    verdict: Verdict,
    evaluation: RiskEvaluationCompleted,
    config: RiskKernelConfig,
) -> DecisionAudited:
    output: dict[str, Any] = {
        "decision": verdict.decision,
        "veto_reasons": list(evaluation.veto_reasons),
        "requested_qty": verdict.sizing.requested_qty,
        "approved_qty": verdict.approved_qty,
        "risk_amount": str(verdict.risk_amount),
        "dimensions": {
            "trade_risk_passed": verdict.dimensions.trade_risk_passed,
            "daily_risk_passed": verdict.dimensions.daily_risk_passed,
            "drawdown_passed": verdict.dimensions.drawdown_passed,
            "system_integrity_passed": verdict.dimensions.system_integrity_passed,
        },
    }
    if verdict.modifications:
        output["modifications"] = verdict.modifications
    return DecisionAudited(
        ts_event=evaluation.ts_event,
        idempotency_key=f"audit:{evaluation.evaluation_id}",
        source=SERVICE,
        account=evaluation.account,
        **chained(advisory),
        decision_id=evaluation.evaluation_id,
        service=SERVICE,
        decision_type="risk_evaluation",
        input_summary={**verdict.inputs, "signal_id": advisory.signal_id},
        output=output,
        reasoning=_reasoning(verdict, config),
        policy_references=list(POLICY_REFERENCES),
    )


def _reasoning(verdict: Verdict, config: RiskKernelConfig) -> str:
    if verdict.reasons:
        return "vetoed: " + ", ".join(verdict.reasons)
    sizing = verdict.sizing
    text = (
        f"risk {config.risk_per_trade_pct}% of equity {verdict.equity} = {sizing.risk_budget} "
        f"over {sizing.risk_per_share}/share buys {sizing.requested_qty}"
    )
    if verdict.decision == "MODIFIED":
        text += f"; cut to {verdict.approved_qty} by max_position_pct {config.max_position_pct}"
    return text
