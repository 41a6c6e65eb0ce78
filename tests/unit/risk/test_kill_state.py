"""The kill switch's state: the last record per account decides; SQL keeps every record."""

from __future__ import annotations

from kit.event_base import ACCOUNT, T0
from kit.sql import pg_database_url, store_url
from quantrail.events import KillSwitchActivated, KillSwitchReset
from quantrail.risk.kill_state import DAILY_LOSS, KillRecord, KillState, KillStateStore

__all__ = ["pg_database_url", "store_url"]


def activation(ts: int = T0, trigger: str = DAILY_LOSS) -> KillSwitchActivated:
    return KillSwitchActivated(
        ts_event=ts, account=ACCOUNT, trigger=trigger, trigger_value=-6.0075, threshold=-5.0,
        severity="CRITICAL", action_taken="cancel all working orders", activated_by="killswitch",
    )  # fmt: skip


def reset(ts: int = T0 + 1) -> KillSwitchReset:
    return KillSwitchReset(ts_event=ts, account=ACCOUNT, reset_by="j.smith", reason="checked")


def test_active_until_a_reset_and_the_trigger_fires_once_a_day() -> None:
    state = KillState()
    on = KillRecord(activation(), "2024-03-15")
    assert state.apply(on) and not state.apply(on)
    assert state.active(ACCOUNT) is on and state.fired_on(ACCOUNT, "2024-03-15")
    assert "ACTIVATED by killswitch (daily_loss_exceeded at -6.01%" in on.describe()
    state.apply(KillRecord(reset(), "2024-03-15"))
    assert state.active(ACCOUNT) is None
    assert state.fired_on(ACCOUNT, "2024-03-15") and not state.fired_on(ACCOUNT, "2024-03-18")


def test_the_store_keeps_records_once_and_gives_back_the_same_events(store_url: str) -> None:
    on, off = activation(), reset()
    with KillStateStore.open(store_url) as store:
        assert store.save(KillRecord(on, "2024-03-15"))
        assert not store.save(KillRecord(on, "2024-03-15"))
        assert store.save(KillRecord(off, "2024-03-15"))
    with KillStateStore.open(store_url) as reopened:
        records = reopened.records()
        assert [r.event for r in records] == [on, off]
        assert reopened.state().active(ACCOUNT) is None
