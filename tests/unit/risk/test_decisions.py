"""The engine's pure parts: input ages, snapshot checks, policy inputs, the mode record."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from kit.position_events import exposure_snapshot
from quantrail.risk.decisions import (
    ModeState,
    exposure_view,
    input_age,
    policy_inputs,
)
from quantrail.risk.policy import PolicyInputError
from quantrail.risk.rules import RiskRules
from quantrail.runtime.clock import NS_PER_SECOND, SimulatedClock
from quantrail.vocab import Bucket, Mode, Phase

S = NS_PER_SECOND
RULES = RiskRules()


def test_age_is_seconds_since_the_event() -> None:
    assert input_age(100 * S, 161 * S, 0, 60.0) == 61.0


def test_nothing_received_waits_one_limit_from_the_start_then_is_stale() -> None:
    assert input_age(None, 60 * S, 0, 60.0) is None  # still waiting for a first value
    assert input_age(None, 61 * S, 0, 60.0) == math.inf


def test_a_little_clock_skew_is_age_zero_more_is_stale() -> None:
    assert input_age(101 * S, 100 * S, 0, 60.0) == 0.0  # one second ahead: hosts differ
    assert input_age(102 * S, 100 * S, 0, 60.0) == math.inf  # a clock problem: never fresh


def test_a_snapshot_becomes_exact_decimals_via_repr() -> None:
    view = exposure_view(exposure_snapshot(gross_exposure_pct=130.01, potential_gross_pct=135.5),
                         RULES)  # fmt: skip
    assert (view.gross_pct, view.potential_pct) == (Decimal("130.01"), Decimal("135.5"))
    assert view.bucket_potential == {Bucket.LT: Decimal("85.0"), Bucket.MM_PURE: Decimal("20.0")}


def test_a_snapshot_that_cannot_be_decided_on_names_itself_and_the_field() -> None:
    bad = exposure_snapshot(gross_exposure_pct=float("nan"))
    with pytest.raises(PolicyInputError, match=f"exposure snapshot {bad.event_id} of ACC1: "
                                               "gross_pct must be a finite Decimal"):  # fmt: skip
        exposure_view(bad, RULES)


def test_policy_inputs_take_bucket_maxima_from_the_rules_and_missing_buckets_as_zero() -> None:
    view = exposure_view(exposure_snapshot(buckets={}), RULES)
    inputs = policy_inputs(view, Phase.MID, 1.0, 0.5, RULES)
    assert {b: (load.potential_pct, load.max_pct) for b, load in inputs.buckets.items()} == {
        Bucket.LT: (Decimal(0), Decimal(90)),
        Bucket.MM_PURE: (Decimal(0), Decimal(30)),
    }
    none_yet = policy_inputs(None, Phase.CLOSED, math.inf, 0.5, RULES)
    assert (none_yet.gross_pct, none_yet.exposure_age_s) == (Decimal(0), math.inf)


def test_the_mode_record_round_trips_and_refuses_garbage() -> None:
    state = ModeState(Mode.SOFT_DERISK, "LATE_ABOVE_DERISK_LEVEL", Decimal(100), 42)
    assert state.fields() == {"mode": "SOFT_DERISK", "reason": "LATE_ABOVE_DERISK_LEVEL",
                              "target_gross_pct": "100", "since_ns": "42"}  # fmt: skip
    assert ModeState.from_fields(state.fields()) == state
    assert ModeState.from_fields({}) is None
    assert ModeState.from_fields({"mode": "PANIC"}) is None
    assert state.same_as(ModeState(Mode.SOFT_DERISK, "LATE_ABOVE_DERISK_LEVEL", Decimal(100), 7))


def test_ages_count_in_the_clocks_wall_seconds_in_a_replay_at_60x() -> None:
    at_60x = SimulatedClock(0, speed=60).wall_seconds
    # 30 replayed seconds behind is half a wall second: fresh against the 5 s session limit.
    assert input_age(100 * S, 130 * S, 0, 5.0, wall_s=at_60x) == 0.5
    # Waiting for a first value: 5 replayed minutes are 5 wall seconds, not yet past 5 s...
    assert input_age(None, 300 * S, 0, 5.0, wall_s=at_60x) is None
    assert input_age(None, 301 * S, 0, 5.0, wall_s=at_60x) == math.inf  # ...then stale
    # Skew is judged in wall seconds too: 60 replayed seconds ahead is 1 s, still age 0.
    assert input_age(160 * S, 100 * S, 0, 5.0, wall_s=at_60x) == 0.0
    assert input_age(161 * S, 100 * S, 0, 5.0, wall_s=at_60x) == math.inf
