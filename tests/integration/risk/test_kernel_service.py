"""The risk kernel and the position sizer as services, on both transports, on a simulated clock.

Advisory in, evaluation + audit record out, and from each approval exactly one sized request;
vetoes from the streams the kernel follows (kill switch, daily status, modes, positions,
heartbeats, its own approvals); one evaluation per signal across duplicates and restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal

from kit.event_base import T0
from kit.kernel import (
    SECOND_NS,
    TEST_KEY,
    advisory,
    daily_status,
    kernel_service,
    signal_id,
    sizer_service,
)
from kit.market_events import quote
from kit.position_events import position_opened
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_mode_changed
from kit.strategy_events import regime_classified
from kit.system_events import heartbeat
from quantrail.bus.bus import EventBus
from quantrail.config import Config
from quantrail.events import DecisionAudited, RiskEvaluationCompleted, SubmitOrder
from quantrail.risk.signing import SigningKeys, verify_approval
from quantrail.runtime.clock import SimulatedClock
from quantrail.runtime.service import Service
from quantrail.runtime.simulation import Simulation
from quantrail.vocab import Mode, Side

START = T0 + SECOND_NS


@asynccontextmanager
async def chain(bus: EventBus, *services: Service, at: int = START) -> AsyncIterator[Simulation]:
    sim = Simulation(bus, SimulatedClock(at), list(services), Config(), instance="t")
    await sim.start()
    try:
        yield sim
    finally:
        assert await sim.stop() == 0


async def verdicts(sim: Simulation) -> list[tuple[str, str, int]]:
    return [
        (e.signal_id, e.veto_reason or e.decision, e.approved_qty)
        for e in await sim.events(RiskEvaluationCompleted)
    ]


def ids(events: Sequence[SubmitOrder]) -> list[str]:
    return [e.request_id for e in events]


async def test_an_approval_becomes_one_signed_request_of_2000_shares(bus: EventBus) -> None:
    async with chain(bus, kernel_service(), sizer_service()) as sim:
        await sim.publish(quote(), advisory(1))
        await sim.publish(advisory(2, stop_price="9.90"))
        [approved, modified] = await sim.events(RiskEvaluationCompleted)
        requests = await sim.events(SubmitOrder)
        audits = await sim.events(DecisionAudited)
    assert (approved.decision, approved.approved_qty) == ("APPROVED", 2000)
    assert (modified.decision, modified.requested_qty, modified.approved_qty) == (
        "MODIFIED", 10_000, 2_500
    )  # fmt: skip
    assert [a.decision_id for a in audits] == [approved.evaluation_id, modified.evaluation_id]
    assert ids(requests) == [f"req:eval:{signal_id(1)}", f"req:eval:{signal_id(2)}"]
    assert [(r.side, r.qty) for r in requests] == [(Side.BUY, 2000), (Side.BUY, 2500)]
    assert all(verify_approval(r, SigningKeys(TEST_KEY)) is None for r in requests)
    assert requests[0].correlation_id == signal_id(1) == approved.correlation_id
    assert requests[0].risk_amount == Decimal("1000")


async def test_vetoes_come_from_what_the_kernel_follows_and_make_no_request(
    bus: EventBus,
) -> None:
    async with chain(bus, kernel_service(), sizer_service()) as sim:
        await sim.publish(quote(), kill_switch_activated(ts_event=T0), advisory(1))
        await sim.publish(kill_switch_reset(ts_event=T0), advisory(2))
        await sim.publish(risk_mode_changed(Mode.THROTTLE_NEW_ORDERS), advisory(3))
        await sim.publish(risk_mode_changed(Mode.NORMAL), advisory(4, stop_price=None))
        await sim.publish(daily_status(daily_pnl_percent=-5.5), advisory(5))
        await sim.publish(daily_status(daily_pnl_percent=-1.0, drawdown_from_hwm=12.0),
                          advisory(6))  # fmt: skip
        await sim.advance(200)  # the quote and the next advisory's data are now old
        await sim.publish(daily_status(ts_event=sim.clock.now_ns()), advisory(7))
        now = sim.clock.now_ns()
        await sim.publish(advisory(8, ts_event=now, ts_data_ns=0))  # fresh, but its data is not
        await sim.publish(quote(ts_event=now), advisory(9, ts_event=now, ts_data_ns=0))
        approved = [signal_id(2), signal_id(9)]
        assert [r.signal_id for r in await sim.events(SubmitOrder)] == approved
        result = await verdicts(sim)
    assert result == [
        (signal_id(1), "KILL_SWITCH_ACTIVE", 0),
        (signal_id(2), "APPROVED", 2000),
        (signal_id(3), "MODE_THROTTLED", 0),
        (signal_id(4), "NO_STOP", 0),
        (signal_id(5), "DAILY_LOSS_LIMIT", 0),
        (signal_id(6), "MAX_DRAWDOWN", 0),
        (signal_id(7), "STALE_DATA", 0),
        (signal_id(8), "STALE_DATA", 0),
        (signal_id(9), "APPROVED", 1900),  # on the daily status's 99,000 equity
    ]


async def test_trades_per_day_open_positions_and_heartbeats_count_from_the_streams(
    bus: EventBus,
) -> None:
    kernel = kernel_service(max_trades_per_day=2, max_open_positions=2, depends_on=["positions"])
    async with chain(bus, kernel, sizer_service()) as sim:
        await sim.publish(quote(), advisory(1))
        await sim.publish(heartbeat("positions", ts_event=T0), advisory(2), advisory(3))
        await sim.publish(advisory(4))
        await sim.publish(
            position_opened(position_id="p1"), position_opened(position_id="p2"), advisory(5)
        )
        result = await verdicts(sim)
        assert len(await sim.events(SubmitOrder)) == 2
    assert [reason for _sid, reason, _qty in result] == [
        "SERVICE_DOWN", "APPROVED", "APPROVED", "MAX_TRADES_PER_DAY", "MAX_TRADES_PER_DAY",
    ]  # fmt: skip
    last = (await sim.events(RiskEvaluationCompleted))[-1]
    assert last.veto_reasons == ["MAX_TRADES_PER_DAY", "MAX_OPEN_POSITIONS"]


async def test_a_chaotic_classification_newer_than_the_advisory_vetoes_that_symbol(
    bus: EventBus,
) -> None:
    async with chain(bus, kernel_service(), sizer_service()) as sim:
        chaotic = regime_classified(regime="CHAOTIC", ts_event=T0 + 1)
        await sim.publish(quote(), quote("OTHER"), chaotic, advisory(1), advisory(2, "OTHER"))
        result = await verdicts(sim)
    assert [reason for _sid, reason, _qty in result] == ["REGIME_CHAOTIC", "APPROVED"]


async def test_one_evaluation_and_one_request_per_signal_across_duplicates_and_restarts(
    bus: EventBus,
) -> None:
    async with chain(bus, kernel_service(max_trades_per_day=2), sizer_service()) as sim:
        await sim.publish(quote(), advisory(1))
        # The same signal again: once with its key (the bus stops it), once re-keyed (the
        # kernel sees eval:<signal_id> on its stream and stops it).
        await sim.publish(advisory(1), advisory(1, idempotency_key="another-key"))
    async with chain(bus, kernel_service(max_trades_per_day=2), sizer_service()) as sim:
        await sim.publish(advisory(1, idempotency_key="third-key"), advisory(2), advisory(3))
        result = await verdicts(sim)
        requests = await sim.events(SubmitOrder)
    assert result == [
        (signal_id(1), "APPROVED", 2000),
        (signal_id(2), "APPROVED", 2000),
        (signal_id(3), "MAX_TRADES_PER_DAY", 0),  # the restarted kernel counted today's two
    ]
    assert ids(requests) == [f"req:eval:{signal_id(n)}" for n in (1, 2)]


async def test_an_active_kill_switch_still_vetoes_after_the_kernel_restarts(
    bus: EventBus,
) -> None:
    async with chain(bus, kernel_service()) as sim:
        await sim.publish(quote(), kill_switch_activated(ts_event=T0), advisory(1))
    async with chain(bus, kernel_service()) as sim:  # a new kernel: state from the streams
        await sim.publish(quote(), advisory(2))
        await sim.publish(kill_switch_reset(ts_event=T0), advisory(3))
        result = await verdicts(sim)
    assert [(signal, verdict) for signal, verdict, _qty in result] == [
        (signal_id(1), "KILL_SWITCH_ACTIVE"),
        (signal_id(2), "KILL_SWITCH_ACTIVE"),
        (signal_id(3), "APPROVED"),
    ]
