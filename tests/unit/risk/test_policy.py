"""The policy decision table: every row, its boundaries, the seeds' scenarios A-E."""

from __future__ import annotations

import math
import re

import msgspec
import pytest

from kit.risk import ACCOUNT, RULES, D, policy_inputs, position
from quantrail.risk.exposure import compute_exposure
from quantrail.risk.policy import (
    ABOVE_HARD_CAP,
    BUCKET_POTENTIAL_ABOVE_MAX,
    CLOSE_ABOVE_LIMIT,
    POTENTIAL_ABOVE_TOLERANCE,
    STALE_DATA,
    WITHIN_LIMITS,
    BucketLoad,
    Decision,
    PolicyInputError,
    PolicyInputs,
    decide,
)
from quantrail.vocab import Bucket, Mode, Phase

TRADING = [Phase.OPEN, Phase.EARLY, Phase.MID, Phase.LATE, Phase.CLOSE]
NO_TRADING = [Phase.PRE, Phase.POST, Phase.CLOSED]


def _decide(inputs: PolicyInputs) -> tuple[Mode, str, object, int]:
    decision = decide(inputs, RULES)
    return decision.mode, decision.reason, decision.target_gross_pct, decision.row


# Row 1: stale inputs


def test_stale_exposure_throttles_even_far_above_the_hard_cap() -> None:
    decision = decide(policy_inputs(Phase.MID, "140", exposure_age_s=61), RULES)
    assert (decision.mode, decision.reason, decision.row) == (
        Mode.THROTTLE_NEW_ORDERS,
        STALE_DATA,
        1,
    )
    assert decision.target_gross_pct is None
    assert decision.alert
    assert "exposure is 61s old" in decision.detail


def test_exposure_exactly_at_the_stale_limit_is_fresh() -> None:
    assert _decide(policy_inputs(Phase.MID, "140", exposure_age_s=60)) == (
        Mode.HARD_DERISK,
        ABOVE_HARD_CAP,
        D(125),
        2,
    )


def test_stale_session_throttles() -> None:
    decision = decide(policy_inputs(Phase.LATE, "115", session_age_s=5.01), RULES)
    assert (decision.mode, decision.reason, decision.row) == (
        Mode.THROTTLE_NEW_ORDERS,
        STALE_DATA,
        1,
    )
    assert "session is 5.01s old" in decision.detail
    assert decide(policy_inputs(Phase.LATE, "115", session_age_s=5), RULES).row == 4


def test_never_received_inputs_are_stale() -> None:
    assert decide(policy_inputs(Phase.OPEN, "0", exposure_age_s=math.inf), RULES).row == 1


# Row 2: hard cap


def test_exactly_130_is_not_above_the_hard_cap() -> None:
    decision = decide(policy_inputs(Phase.OPEN, "130"), RULES)
    assert decision.mode is not Mode.HARD_DERISK
    assert (decision.mode, decision.reason, decision.row) == (
        Mode.THROTTLE_NEW_ORDERS,
        POTENTIAL_ABOVE_TOLERANCE,
        5,
    )


@pytest.mark.parametrize("phase", TRADING)
def test_above_the_hard_cap_is_hard_derisk_to_125_in_every_trading_phase(phase: Phase) -> None:
    decision = decide(policy_inputs(phase, "130.01"), RULES)
    assert _decide(policy_inputs(phase, "130.01")) == (Mode.HARD_DERISK, ABOVE_HARD_CAP, D(125), 2)
    assert decision.alert


# Row 3: close limit


def test_exactly_100_at_close_is_not_hard() -> None:
    assert _decide(policy_inputs(Phase.CLOSE, "100")) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)


def test_above_100_at_close_is_hard_derisk_to_100() -> None:
    assert _decide(policy_inputs(Phase.CLOSE, "100.01")) == (
        Mode.HARD_DERISK,
        CLOSE_ABOVE_LIMIT,
        D(100),
        3,
    )


# Row 4: soft de-risk


def test_mid_above_120_is_soft_derisk_to_120() -> None:
    assert _decide(policy_inputs(Phase.MID, "120.01")) == (
        Mode.SOFT_DERISK,
        "MID_ABOVE_DERISK_LEVEL",
        D(120),
        4,
    )
    assert _decide(policy_inputs(Phase.MID, "120")) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)


def test_late_above_100_is_soft_derisk_to_100() -> None:
    assert _decide(policy_inputs(Phase.LATE, "100.01")) == (
        Mode.SOFT_DERISK,
        "LATE_ABOVE_DERISK_LEVEL",
        D(100),
        4,
    )
    assert _decide(policy_inputs(Phase.LATE, "100"))[0] is Mode.NORMAL


@pytest.mark.parametrize("phase", [Phase.OPEN, Phase.EARLY])
def test_open_and_early_never_soft_derisk(phase: Phase) -> None:
    assert _decide(policy_inputs(phase, "125")) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)
    assert _decide(policy_inputs(phase, "125.01"))[:2] == (
        Mode.THROTTLE_NEW_ORDERS,
        POTENTIAL_ABOVE_TOLERANCE,
    )


# Row 5: potential throttles


@pytest.mark.parametrize(
    ("phase", "tolerance"),
    [
        (Phase.OPEN, "125"),
        (Phase.EARLY, "125"),
        (Phase.MID, "120"),
        (Phase.LATE, "115"),
        (Phase.CLOSE, "100"),
    ],
)
def test_potential_above_the_phase_tolerance_throttles(phase: Phase, tolerance: str) -> None:
    at = policy_inputs(phase, "50", potential=tolerance)
    above = policy_inputs(phase, "50", potential=str(D(tolerance) + D("0.01")))
    assert _decide(at) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)
    assert _decide(above) == (Mode.THROTTLE_NEW_ORDERS, POTENTIAL_ABOVE_TOLERANCE, None, 5)


def test_bucket_potential_above_its_max_throttles() -> None:
    assert _decide(policy_inputs(Phase.MID, "50", mm_potential="30")) == (
        Mode.NORMAL,
        WITHIN_LIMITS,
        None,
        6,
    )
    decision = decide(policy_inputs(Phase.MID, "50", mm_potential="30.01"), RULES)
    assert (decision.mode, decision.reason, decision.row) == (
        Mode.THROTTLE_NEW_ORDERS,
        BUCKET_POTENTIAL_ABOVE_MAX,
        5,
    )
    assert decision.detail == "MM_PURE potential 30.01% > max 30%"
    lt = decide(policy_inputs(Phase.MID, "50", lt_potential="90.5"), RULES)
    assert lt.detail == "LT potential 90.5% > max 90%"


def test_gross_tolerance_is_named_before_a_bucket() -> None:
    inputs = policy_inputs(Phase.MID, "50", potential="121", lt_potential="95")
    assert decide(inputs, RULES).reason == POTENTIAL_ABOVE_TOLERANCE


# Phases without trading


@pytest.mark.parametrize("phase", NO_TRADING)
def test_no_trading_phase_never_derisks_but_throttles(phase: Phase) -> None:
    decision = decide(policy_inputs(phase, "140"), RULES)
    assert (decision.mode, decision.reason, decision.row) == (
        Mode.THROTTLE_NEW_ORDERS,
        POTENTIAL_ABOVE_TOLERANCE,
        5,
    )
    assert _decide(policy_inputs(phase, "90")) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)
    assert decide(policy_inputs(phase, "140", exposure_age_s=61), RULES).reason == STALE_DATA


def test_pre_tolerates_like_the_open_and_post_like_the_close() -> None:
    assert _decide(policy_inputs(Phase.PRE, "110"))[0] is Mode.NORMAL
    assert _decide(policy_inputs(Phase.POST, "110"))[0] is Mode.THROTTLE_NEW_ORDERS


# The seeds' scenarios as pure decisions


def test_scenario_a_open_early_120_is_normal() -> None:
    for phase in (Phase.OPEN, Phase.EARLY):
        assert _decide(policy_inputs(phase, "120")) == (Mode.NORMAL, WITHIN_LIMITS, None, 6)


def test_scenario_b_late_115_is_soft_derisk() -> None:
    assert _decide(policy_inputs(Phase.LATE, "115")) == (
        Mode.SOFT_DERISK,
        "LATE_ABOVE_DERISK_LEVEL",
        D(100),
        4,
    )


def test_scenario_c_close_110_is_hard_derisk() -> None:
    assert _decide(policy_inputs(Phase.CLOSE, "110")) == (
        Mode.HARD_DERISK,
        CLOSE_ABOVE_LIMIT,
        D(100),
        3,
    )


@pytest.mark.parametrize("phase", TRADING)
def test_scenario_d_131_is_hard_derisk_in_any_phase(phase: Phase) -> None:
    assert _decide(policy_inputs(phase, "131"))[:3] == (Mode.HARD_DERISK, ABOVE_HARD_CAP, D(125))


@pytest.mark.parametrize("phase", TRADING)
def test_scenario_e_potential_135_throttles_without_derisk(phase: Phase) -> None:
    assert _decide(policy_inputs(phase, "85", potential="135")) == (
        Mode.THROTTLE_NEW_ORDERS,
        POTENTIAL_ABOVE_TOLERANCE,
        None,
        5,
    )


# Rules flow through; inputs are checked


def test_custom_rules_move_the_rows() -> None:
    rules = msgspec.structs.replace(RULES, hard_cap_pct=D(150), hard_cap_target_pct=D(140))
    assert decide(policy_inputs(Phase.OPEN, "131"), rules).mode is Mode.THROTTLE_NEW_ORDERS
    assert decide(policy_inputs(Phase.OPEN, "151"), rules).target_gross_pct == D(140)
    stale = msgspec.structs.replace(RULES, stale_after_s=10.0)
    assert decide(policy_inputs(Phase.OPEN, "10", exposure_age_s=11), stale).reason == STALE_DATA


def test_inputs_from_exposure_figures() -> None:
    held = [position("AAPL", 1150), position("SPY", 100, Bucket.MM_PURE)]
    prices = {"AAPL": D(100), "SPY": D(350)}
    figures = compute_exposure(ACCOUNT, D(100000), held, prices, [], RULES.buckets, {})
    inputs = PolicyInputs.from_exposure(figures, Phase.LATE, 2.0, 0.5)
    assert inputs.gross_pct == D(150)  # (115 000 + 35 000) / 100 000
    assert inputs.buckets[Bucket.MM_PURE] == BucketLoad(D(35), D(30))
    assert decide(inputs, RULES) == Decision(
        Mode.HARD_DERISK, ABOVE_HARD_CAP, D(125), 2, "gross 150% > hard cap 130%", True
    )


def test_summary_records_the_inputs_seen() -> None:
    summary = policy_inputs(Phase.LATE, "115.5", potential="116", mm_potential="12").summary()
    assert summary == {
        "phase": "LATE",
        "gross_pct": "115.5",
        "potential_gross_pct": "116",
        "exposure_age_s": "1.0",
        "session_age_s": "0.5",
        "LT.potential_pct": "0",
        "LT.max_pct": "90",
        "MM_PURE.potential_pct": "12",
        "MM_PURE.max_pct": "30",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gross": "-1"}, "gross_pct must be a finite Decimal >= 0, got Decimal('-1')"),
        ({"gross": "NaN"}, "gross_pct must be a finite Decimal >= 0, got Decimal('NaN')"),
        (
            {"gross": "120", "potential": "119"},
            "potential_gross_pct must be >= gross_pct (120), got Decimal('119')",
        ),
        ({"exposure_age_s": -0.1}, "exposure_age_s must be a number of seconds >= 0, got -0.1"),
        ({"session_age_s": math.nan}, "session_age_s must be a number of seconds >= 0, got nan"),
        (
            {"mm_potential": "-2"},
            "buckets[MM_PURE].potential_pct must be a finite Decimal >= 0, got Decimal('-2')",
        ),
    ],
)
def test_bad_inputs_name_the_field(change: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"phase": Phase.MID, "gross": "50", **change}
    with pytest.raises(PolicyInputError) as caught:
        policy_inputs(**args)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_float_percentages_are_refused() -> None:
    with pytest.raises(
        PolicyInputError, match=re.escape("gross_pct must be a finite Decimal >= 0, got 1.5")
    ):
        PolicyInputs(Phase.MID, 1.5, D(2), {}, 0.0, 0.0)  # type: ignore[arg-type]
