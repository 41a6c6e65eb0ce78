"""The health monitor's pure logic: thresholds, alert episodes, rates, accounts."""

from __future__ import annotations

from kit.event_base import ACCOUNT
from kit.order_events import order_filled, order_working
from kit.risk_events import kill_switch_activated, kill_switch_reset, risk_mode_changed
from kit.system_events import heartbeat
from quantrail.bus.transport import GroupInfo, StreamInfo
from quantrail.events import AlertCleared, AlertTriggered, HealthHeartbeat
from quantrail.ops.health import (
    AccountBook,
    AlertEpisodes,
    Finding,
    HeartbeatBook,
    merged_info,
    stream_observations,
)
from quantrail.ops.health_config import HealthConfig
from quantrail.ops.health_report import active_alerts, service_statuses
from quantrail.runtime.clock import SimulatedClock
from quantrail.vocab import Mode

S = 1_000_000_000
CONFIG = HealthConfig()


def lagging(lag: int, length: int = 10) -> list[tuple[str, StreamInfo]]:
    group = GroupInfo(name="sizer", pending=0, last_delivered_id="0-0", lag=lag)
    return [("risk.evaluation", StreamInfo("k", length, None, None, [group]))]


def test_lag_over_the_threshold_fires_once_per_episode_and_clears_once() -> None:
    episodes = AlertEpisodes()
    assert episodes.update(stream_observations(lagging(100), CONFIG), 1) == []  # at, not over
    fired = episodes.update(stream_observations(lagging(101), CONFIG), 2)
    assert [(type(e), e.alert_id) for e in fired] == [
        (AlertTriggered, "consumer_lag:risk.evaluation:sizer")
    ]
    assert episodes.update(stream_observations(lagging(5000), CONFIG), 3) == []
    cleared = episodes.update(stream_observations(lagging(0), CONFIG), 4)
    assert [type(e) for e in cleared] == [AlertCleared]
    assert episodes.update(stream_observations(lagging(0), CONFIG), 5) == []


def test_stream_length_over_fifty_thousand_is_an_alert() -> None:
    found = stream_observations(lagging(0, length=50_001), CONFIG)
    assert found["stream_length:risk.evaluation"] is not None
    within = stream_observations(lagging(0, length=50_000), CONFIG)
    assert within["stream_length:risk.evaluation"] is None


def test_a_restart_neither_repeats_nor_forgets_an_active_alert() -> None:
    first = AlertEpisodes()
    fired = first.update({"x": Finding("WARNING", "bad")}, 1)
    again = AlertEpisodes()
    again.restore(fired)
    assert again.update({"x": Finding("WARNING", "bad")}, 2) == []
    assert [type(e) for e in again.update({"x": None}, 3)] == [AlertCleared]


def test_a_missing_heartbeat_after_ninety_seconds() -> None:
    book = HeartbeatBook()
    book.apply(heartbeat("ledger", ts_event=0))
    assert book.observations(CONFIG, 90 * S)["heartbeat_missing:ledger"] is None
    missing = book.observations(CONFIG, 91 * S)["heartbeat_missing:ledger"]
    assert missing is not None and missing.details["age_s"] == 91.0


def test_in_a_replay_at_60x_a_heartbeat_goes_missing_after_ninety_wall_seconds() -> None:
    at_60x = SimulatedClock(0, speed=60).wall_seconds
    book = HeartbeatBook()
    book.apply(heartbeat("ledger", ts_event=0))
    # 91 replayed seconds are 1.5 s of wall time: a service that is merely late is not missing.
    assert book.observations(CONFIG, 91 * S, at_60x)["heartbeat_missing:ledger"] is None
    assert book.observations(CONFIG, 90 * 60 * S, at_60x)["heartbeat_missing:ledger"] is None
    missing = book.observations(CONFIG, 91 * 60 * S, at_60x)["heartbeat_missing:ledger"]
    assert missing is not None and missing.details["age_s"] == 91.0
    assert book.age_s("ledger", 30 * S, at_60x) == 0.5
    late = [heartbeat("ledger", instance="a", ts_event=0)]
    assert service_statuses(late, 91 * S, 90.0, at_60x)[0].status == "HEALTHY"
    assert service_statuses(late, 91 * 60 * S, 90.0, at_60x)[0].status == "MISSING"


def beat(ts: int, handled: int, retried: int = 0, dead: int = 0) -> HealthHeartbeat:
    counters = {"read": handled, "handled": handled, "retried": retried, "dead_lettered": dead}
    return heartbeat("sizer", ts_event=ts, metrics={"sizer.main": counters})


def test_ack_and_retry_rates_over_the_heartbeats_counters() -> None:
    book = HeartbeatBook()
    book.apply(beat(0, 0))
    book.apply(beat(S, 98, retried=2, dead=2))
    found = book.observations(CONFIG, S)
    ack, retry = found["ack_rate:sizer"], found["retry_rate:sizer"]
    assert ack is not None and ack.details["ack_rate_pct"] == 98.0
    assert retry is not None and retry.details["retry_rate_pct"] == 2.0
    book.apply(beat(2 * S, 298, retried=2, dead=2))
    healthy = book.observations(CONFIG, 2 * S)
    assert healthy["ack_rate:sizer"] is None and healthy["retry_rate:sizer"] is None


def test_rates_wait_for_enough_events() -> None:
    book = HeartbeatBook()
    book.apply(beat(0, 0))
    book.apply(beat(S, 2, dead=1))
    assert "ack_rate:sizer" not in book.observations(CONFIG, S)


def test_kill_switch_and_hard_derisk_are_alerts_per_account() -> None:
    book = AccountBook()
    book.apply(kill_switch_activated(account=ACCOUNT))
    book.apply(risk_mode_changed(Mode.HARD_DERISK, account=ACCOUNT))
    found = book.observations()
    assert found[f"kill_switch:{ACCOUNT}"] is not None
    assert found[f"hard_derisk:{ACCOUNT}"] is not None
    book.apply(kill_switch_reset(account=ACCOUNT))
    assert book.observations()[f"kill_switch:{ACCOUNT}"] is None


def test_open_orders_leave_the_count_when_terminal() -> None:
    book = AccountBook()
    book.apply(order_working(order_id="o1", account=ACCOUNT))
    book.apply(order_working(order_id="o2", account=ACCOUNT))
    book.apply(order_filled(order_id="o1", account=ACCOUNT))
    assert book.accounts[ACCOUNT].open_orders == {"o2"}


def test_the_health_verb_sees_the_latest_beat_and_a_missing_service() -> None:
    beats = [heartbeat("ledger", instance="a", ts_event=0, status="DEGRADED"),
             heartbeat("ledger", instance="a", ts_event=10 * S),
             heartbeat("audit", instance="a", ts_event=0)]  # fmt: skip
    rows = service_statuses(beats, 100 * S, 90.0)
    assert [(r.service, r.status) for r in rows] == [("audit", "MISSING"), ("ledger", "HEALTHY")]
    episodes = AlertEpisodes()
    events = episodes.update({"a": Finding("WARNING", "x"), "b": Finding("ERROR", "y")}, 1)
    events += episodes.update({"a": None, "b": Finding("ERROR", "y")}, 2)
    assert [a.alert_id for a in active_alerts(events)] == ["b"]


def test_shards_are_summed_into_their_stream() -> None:
    def shard(n: int, length: int, lag: int | None, last: str) -> StreamInfo:
        group = GroupInfo(name="g", pending=n, last_delivered_id=last, lag=lag)
        return StreamInfo(f"q:{{s0{n}}}", length, f"{n}-0", last, [group])

    merged = merged_info("q", [shard(1, 10, 4, "9-1"), shard(2, 5, None, "12-0")])
    assert (merged.stream, merged.length, merged.first_id, merged.last_id) == (
        "q",
        15,
        "1-0",
        "12-0",
    )
    (group,) = merged.groups
    assert (group.pending, group.lag, group.last_delivered_id) == (3, 4, "12-0")
    alone = shard(3, 7, None, "3-0")
    assert merged_info("q", [alone]) is alone
    assert merged_info("q", [alone, shard(4, 1, None, "4-0")]).groups[0].lag is None
