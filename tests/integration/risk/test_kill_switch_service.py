"""The kill switch service: a loss past -5 % activates it once, and it stays active across a
service restart, an emptied Redis (a private redis-server killed) and a new day until a person
resets it. ``bus`` runs a test on both transports; the verbs and the emptied Redis need Redis.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.cli import run_cli
from kit.event_base import ACCOUNT, T0
from kit.killswitch import (
    LOSS_PCT,
    LOSS_PNL,
    Rig,
    activations,
    killswitch_config,
    losing_fills,
    the_drop,
    write_cli_config,
)
from kit.market_events import trade_print
from kit.memloss import forget_namespace
from kit.poll import eventually
from kit.position_events import position_closed
from kit.sql import sqlite_url
from quantrail.audit.service import AuditService
from quantrail.audit.store import AuditStore
from quantrail.bus.bus import EventBus
from quantrail.bus.transport import TransportError
from quantrail.events import KillSwitchActivated, RiskDailyStatusUpdated
from quantrail.ops.redis_server import RedisServer
from quantrail.risk.kill_state import KillRecord, KillStateStore
from quantrail.risk.kill_switch_service import KillSwitchService

pytestmark = pytest.mark.redis
DAY_NS = 24 * 3600 * 1_000_000_000


async def answers(bus: EventBus) -> str:
    """ "up" once the restarted server answers (the first call may meet a dropped connection)."""
    try:
        await bus.transport.ping()
    except TransportError:
        return ""
    return "up"


async def activated(rig: Rig) -> list[object]:
    return activations(await rig.read("risk.kill_switch"))


async def lose_the_day(rig: Rig) -> None:
    """The fills, and once the service has booked them (fills and prints travel on different
    streams, so they could be read in either order), the print that drops the day."""
    await rig.publish(*losing_fills())
    service = rig.services[-1]
    assert isinstance(service, KillSwitchService)
    await eventually(lambda: service.days[ACCOUNT].fees, lambda fees: fees == 7.5, what="fills")
    await rig.publish(the_drop())
    await eventually(lambda: activated(rig), lambda found: len(found) == 1, what="activation")


async def test_a_loss_past_the_limit_activates_once_with_an_alert_and_an_audit_record(
    bus: EventBus, tmp_path: Path
) -> None:
    db = sqlite_url(tmp_path)
    rig = Rig(bus, killswitch_config(tmp_path, db))
    try:
        service = await rig.start(AuditService(db))
        await lose_the_day(rig)
        [activation] = await activated(rig)
        assert activation.account == ACCOUNT and activation.trigger == "daily_loss_exceeded"
        assert activation.trigger_value == float(LOSS_PCT) and activation.threshold == -5.0
        assert activation.severity == "CRITICAL" and activation.human_override_required
        assert activation.activated_by == "killswitch" and activation.flatten is False
        assert activation.idempotency_key == "killswitch:ACC1:2024-03-15:daily_loss_exceeded"
        # A further loss, handled by the service, does not broadcast a second time.
        await rig.publish(trade_print(symbol="ACME", price="44.00", ts_event=T0 + 5_000))
        await eventually(lambda: service.days[ACCOUNT].mark("ACME"), lambda m: m == 44)
        status = await eventually(
            lambda: last_status(rig), lambda s: s is not None and s.daily_pnl_usd < LOSS_PNL
        )
        assert status is not None and status.kill_switch_active
        assert len(await activated(rig)) == 1
        alerts = [a for a in await rig.read("system.alert") if a.severity == "CRITICAL"]
        assert len(alerts) == 1 and "-6.01%" in alerts[0].message
        with AuditStore.open(db) as audit:
            records = await eventually(lambda: audit.records(service="killswitch"), bool)
        assert records[0]["decision_type"] == "kill_switch_activated"
        assert records[0]["output"]["trigger_value"] == float(LOSS_PCT)
    finally:
        await rig.close()


async def last_status(rig: Rig) -> RiskDailyStatusUpdated | None:
    statuses = [e for e in await rig.read("risk.daily_status") if e.account == ACCOUNT]
    return statuses[-1] if statuses else None


async def test_the_daily_status_carries_the_figures_computed_by_hand(
    bus: EventBus, tmp_path: Path
) -> None:
    rig = Rig(bus, killswitch_config(tmp_path, sqlite_url(tmp_path)))
    try:
        await rig.start()
        await lose_the_day(rig)
        status = await eventually(
            lambda: last_status(rig), lambda s: s is not None and s.kill_switch_active
        )
        assert status is not None
        assert (status.daily_pnl_usd, status.realized_pnl, status.unrealized_pnl, status.fees) == (
            LOSS_PNL,
            -750,
            -5250,
            7.5,
        )
        assert status.equity == 100000 + LOSS_PNL and status.high_water_mark == 100995
        assert status.session_date == "2024-03-15" and status.risk_budget_remaining == 0
        closed = position_closed(account=ACCOUNT, ts_event=T0 + 3_000)
        await rig.publish(closed)
        on_close = await eventually(
            lambda: last_status(rig), lambda s: s is not None and s.causation_id == closed.event_id
        )
        assert on_close is not None and on_close.daily_pnl_usd == LOSS_PNL
    finally:
        await rig.close()


async def test_it_stays_active_across_a_restart_and_a_new_day_until_reset(
    bus: EventBus, tmp_path: Path
) -> None:
    db = sqlite_url(tmp_path)
    config = killswitch_config(tmp_path, db)
    rig = Rig(bus, config)
    try:
        await rig.start()
        await lose_the_day(rig)
        await rig.stop()
        service = await rig.start()  # restarted: SQL says active, the stream shows it
        assert service.state.active(ACCOUNT) is not None
        assert len(await activated(rig)) == 1
    finally:
        await rig.close()
    tomorrow = Rig(bus, config, start_ns=T0 + DAY_NS)
    try:
        service = await tomorrow.start()
        assert service.session_date == "2024-03-16" and service.state.active(ACCOUNT)
        status = await eventually(
            lambda: last_status(tomorrow),
            lambda s: s is not None and s.session_date == "2024-03-16",
        )
        assert status is not None and status.kill_switch_active and status.daily_pnl_usd == 0
        assert len(await activated(tomorrow)) == 1
    finally:
        await tomorrow.close()


async def test_an_emptied_redis_gets_the_activation_back_and_a_reset_clears_it(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    namespace, db = new_namespace(), sqlite_url(tmp_path)
    config = killswitch_config(tmp_path, db)
    bus = make_bus("redis", own_redis.url, namespace)
    rig = Rig(bus, config)
    try:
        await rig.start()
        await lose_the_day(rig)
        [original] = await activated(rig)
        await rig.stop()
        own_redis.restart()  # killed -9 and started again: every stream is gone
        assert await eventually(lambda: answers(bus), what="redis back") == "up"
        assert await rig.read("risk.kill_switch") == []
        await rig.start(AuditService(db))
        [again] = await eventually(lambda: activated(rig), lambda found: len(found) == 1)
        assert again == original  # the very same event: same id, same idempotency key

        config_file = write_cli_config(tmp_path, db)
        common = ["-c", str(config_file), "--db", db, "--redis", own_redis.url, "-n", namespace]
        shown = await run_cli(["killswitch", "status", "-c", str(config_file)])
        assert shown.exit_code == 0 and "ACC1: ACTIVE since 2024-03-15" in shown.output
        reset = ["killswitch", "reset", ACCOUNT, "--by", "j.smith", "--reason", "limits reviewed"]
        result = await run_cli([*reset, *common])
        assert result.exit_code == 0, result.output
        resets = await eventually(
            lambda: rig.read("risk.kill_switch"),
            lambda evs: evs[-1].kind == "risk.kill_switch.reset",
        )
        assert resets[-1].reset_by == "j.smith" and resets[-1].account == ACCOUNT
        with KillStateStore.open(db) as store:
            assert store.state().active(ACCOUNT) is None
        with AuditStore.open(db) as audit:
            kinds = await eventually(
                lambda: [r["decision_type"] for r in audit.records(service="killswitch")],
                lambda found: "kill_switch_reset" in found,
            )
        assert kinds == ["kill_switch_activated", "kill_switch_reset"]
        listed = await run_cli(["audit", "list", "--service", "killswitch", "-c", str(config_file)])
        assert listed.exit_code == 0 and "RESET by j.smith" in listed.output
        shown = await run_cli(["killswitch", "status", "-c", str(config_file)])
        assert "ACC1: inactive" in shown.output and "RESET by j.smith" in shown.output
        again_reset = await run_cli(
            ["killswitch", "reset", ACCOUNT, "--by", "x", "--reason", "y", *common]
        )
        assert again_reset.exit_code == 1 and "not active" in again_reset.output
    finally:
        await rig.close()
        await bus.close()


async def test_a_person_pulls_it_by_hand_and_the_running_service_knows(
    tmp_path: Path, redis_url: str
) -> None:
    db = sqlite_url(tmp_path)
    bus = make_bus("redis", redis_url)  # the verbs talk to Redis
    rig = Rig(bus, killswitch_config(tmp_path, db))
    try:
        service = await rig.start()
        config_file = write_cli_config(tmp_path, db)
        common = ["-c", str(config_file), "--redis", redis_url, "-n", bus.names.namespace]
        pull = ["killswitch", "activate", ACCOUNT, "--by", "j.smith", "--reason", "venue outage"]
        result = await run_cli([*pull, "--flatten", *common])
        assert result.exit_code == 0, result.output
        [manual] = await eventually(lambda: activated(rig), lambda found: len(found) == 1)
        assert (manual.trigger, manual.activated_by, manual.flatten) == ("manual", "j.smith", True)
        assert manual.trigger_value is None and "venue outage" in manual.action_taken
        await eventually(lambda: service.state.active(ACCOUNT), lambda on: on is not None)
        twice = await run_cli([*pull, *common])
        assert twice.exit_code == 1 and "already active" in twice.output
        # The day's loss now finds it active: no second activation.
        await lose_the_day_quietly(rig, service)
        assert len(await activated(rig)) == 1
    finally:
        await rig.close()
        await bus.close()


async def lose_the_day_quietly(rig: Rig, service: KillSwitchService) -> None:
    await rig.publish(*losing_fills())
    await eventually(lambda: service.days[ACCOUNT].fees, lambda fees: fees == 7.5)
    await rig.publish(the_drop())
    await eventually(lambda: service.days[ACCOUNT].pnl(), lambda pnl: pnl == LOSS_PNL)


async def test_a_verb_that_wrote_sql_but_could_not_publish_is_completed_by_the_service(
    bus: EventBus, tmp_path: Path
) -> None:
    db = sqlite_url(tmp_path)
    rig = Rig(bus, killswitch_config(tmp_path, db))
    try:
        service = await rig.start()
        manual = KillSwitchActivated(
            ts_event=T0, account=ACCOUNT, trigger="manual", severity="CRITICAL",
            activated_by="j.smith", action_taken="venue outage",
        )  # fmt: skip
        with KillStateStore.open(db) as store:
            store.save(KillRecord(manual, "2024-03-15"))  # ... and Redis was away
        [published] = await eventually(lambda: activated(rig), lambda found: len(found) == 1)
        assert published == manual and service.state.active(ACCOUNT) is not None
        ticks = service.ticks
        await eventually(lambda: service.ticks, lambda n: n >= ticks + 2, what="two more ticks")
        assert len(await activated(rig)) == 1
    finally:
        await rig.close()


async def test_a_redis_emptied_under_the_running_service_gets_the_switch_back_at_once(
    tmp_path: Path, redis_url: str
) -> None:
    """No restart needed: the service notices the emptied Redis (issue 15) and puts its active
    switch back on the stream, where a restarted execution service will find it."""
    bus = make_bus("redis", redis_url)
    rig = Rig(bus, killswitch_config(tmp_path, sqlite_url(tmp_path)))
    try:
        await rig.start()
        await lose_the_day(rig)
        [original] = await activated(rig)
        await forget_namespace(bus)
        [again] = await eventually(lambda: activated(rig), lambda found: len(found) == 1)
        assert again == original
        said = await eventually(
            lambda: rig.read("system.alert"),
            lambda found: any("lost its memory" in a.message for a in found),
        )
        [lost] = [a for a in said if "lost its memory" in a.message]
        assert lost.severity == "ERROR" and lost.details["active"] == [ACCOUNT]
    finally:
        await rig.close()
        await bus.close()
