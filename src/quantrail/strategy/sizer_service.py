"""The position sizer service (``sizer``): one ``trades.request.submit`` per approval.

Reads ``risk.evaluation`` in the consumer group ``sizer``. For each APPROVED or MODIFIED
evaluation of an advisory it catches up on ``trades.request`` (``StreamFollower``) and, unless
``req:<evaluation_id>`` is already there (a redelivery, a restart after kill -9, a second
instance), publishes the request ``strategy.sizer.size_request`` builds. A vetoed evaluation
makes nothing; an approval that sizes to no round lot makes an audit record saying why
(``audit.decision.logged``, decision type ``sizing``) and no request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Self

from quantrail.bus.delivery import Delivery
from quantrail.bus.follow import StreamFollower
from quantrail.config import Config
from quantrail.events.audit import DecisionAudited
from quantrail.events.base import Event
from quantrail.events.risk import RiskEvaluationCompleted
from quantrail.events.trades import SubmitOrder
from quantrail.risk.kernel_events import chained
from quantrail.runtime.service import Service, Subscription
from quantrail.strategy.config import SizerConfig
from quantrail.strategy.sizer import SERVICE, NoRequest, request_id, size_request
from quantrail.vocab import Bucket

log = logging.getLogger("quantrail.strategy.sizer")

EVALUATIONS = "risk.evaluation"
REQUESTS = "trades.request"


class SizerService(Service):
    name = SERVICE

    def __init__(self, config: SizerConfig, bucket: Bucket) -> None:
        super().__init__()
        self._config = config
        self._bucket = bucket
        self._requested: set[str] = set()
        self._follower: StreamFollower | None = None
        self._lock = asyncio.Lock()
        self.counts: Counter[str] = Counter()

    @classmethod
    def from_config(cls, config: Config) -> Self:
        return cls(config.sizer, config.strategy.bucket)

    async def on_start(self) -> None:
        self._follower = StreamFollower(self.ctx.bus, REQUESTS, self._seen)
        await self._follower.catch_up()

    def subscriptions(self) -> list[Subscription]:
        return [Subscription([EVALUATIONS], self._on_evaluation, name="evaluations")]

    def health(self) -> dict[str, object]:
        return dict(self.counts)

    def _seen(self, event: Event) -> None:
        if isinstance(event, SubmitOrder):
            self._requested.add(event.request_id)

    async def _on_evaluation(self, event: Event, _delivery: Delivery) -> None:
        if not isinstance(event, RiskEvaluationCompleted) or event.decision == "VETOED":
            return
        if not event.signal_id:
            return  # an intent's evaluation: execution takes the intent itself
        assert self._follower is not None, "on_start runs before any handler"
        async with self._lock:
            await self._follower.catch_up()
            if request_id(event.evaluation_id) in self._requested:
                self.counts["already_requested"] += 1
                return
            now = self.ctx.now_ns()
            sized = size_request(event, self._config, self._bucket, now)
            if isinstance(sized, NoRequest):
                self.counts["unsized"] += 1
                log.warning("%s makes no request: %s", event.evaluation_id, sized.reason)
                await self.ctx.publish(_no_request_audit(event, sized, now))
                return
            await self.ctx.publish(sized)
            self._requested.add(sized.request_id)
            self.counts["requested"] += 1


def _no_request_audit(
    evaluation: RiskEvaluationCompleted, why: NoRequest, now_ns: int
) -> DecisionAudited:
    decision_id = request_id(evaluation.evaluation_id)
    return DecisionAudited(
        ts_event=now_ns,
        idempotency_key=f"audit:{decision_id}",
        source=SERVICE,
        account=evaluation.account,
        **chained(evaluation),
        decision_id=decision_id,
        service=SERVICE,
        decision_type="sizing",
        input_summary={
            "evaluation_id": evaluation.evaluation_id,
            "approved_qty": evaluation.approved_qty,
            "risk_amount": None if evaluation.risk_amount is None else str(evaluation.risk_amount),
        },
        output={"request": None},
        reasoning=why.reason,
        policy_references=["sizer.round_lot"],
    )


def build_sizer_service(config: Config) -> SizerService:
    return SizerService.from_config(config)
