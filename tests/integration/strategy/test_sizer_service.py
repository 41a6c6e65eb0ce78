"""The position sizer service on both transports: one request per approval, none otherwise."""

from __future__ import annotations

import msgspec

from kit.event_base import ACCOUNT, T0
from kit.kernel import SECOND_NS, TEST_KEY, advisory, kernel_config, kernel_state, sizer_service
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events import DecisionAudited, RiskEvaluationCompleted, SubmitOrder
from quantrail.risk.kernel import evaluate
from quantrail.risk.kernel_events import evaluation_events
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.simulation import Simulation

NOW = T0 + SECOND_NS


def approval(n: int, **state: object) -> RiskEvaluationCompleted:
    signal = advisory(n)
    verdict = evaluate(signal, kernel_state(**state), kernel_config(), NOW)
    return evaluation_events(
        signal, verdict, account=ACCOUNT, key=TEST_KEY, config=kernel_config(), now_ns=NOW
    )[1]


async def run(bus: EventBus, *events: RiskEvaluationCompleted, round_lot: int = 100) -> None:
    sim = Simulation(bus, SimulatedClock(NOW), [sizer_service(round_lot=round_lot)], Config())
    await sim.start()
    await sim.publish(*events)
    assert await sim.stop() == 0


async def test_approvals_make_one_request_each_and_vetoes_none(bus: EventBus) -> None:
    approved, vetoed = approval(1), approval(2, kill_switch_active=True)
    of_an_intent = msgspec.structs.replace(approval(3), signal_id="", intent_id="int-3")
    await run(bus, approved, vetoed, of_an_intent)
    requests = [e for e in await bus.read_events("trades.request") if isinstance(e, SubmitOrder)]
    assert [(r.request_id, r.qty) for r in requests] == [(f"req:{approved.evaluation_id}", 2000)]
    assert requests[0].causation_id == approved.event_id


async def test_a_redelivered_or_re_keyed_approval_after_a_restart_makes_no_second_request(
    bus: EventBus,
) -> None:
    first = approval(1)
    await run(bus, first, msgspec.structs.replace(first, idempotency_key="again"))
    await run(bus, msgspec.structs.replace(first, idempotency_key="after-restart"), approval(2))
    requests = await bus.read_events("trades.request")
    assert [r.request_id for r in requests if isinstance(r, SubmitOrder)] == [
        f"req:{first.evaluation_id}", f"req:{approval(2).evaluation_id}"
    ]  # fmt: skip


async def test_an_approval_below_one_of_the_sizers_lots_is_audited_not_sent(
    bus: EventBus,
) -> None:
    await run(bus, approval(1), round_lot=5000)
    assert await bus.read_events("trades.request") == []
    [audit] = await bus.read_events("audit.decision")
    assert isinstance(audit, DecisionAudited)
    assert audit.decision_type == "sizing" and "no round lot" in audit.reasoning
