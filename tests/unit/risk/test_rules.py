"""Risk rules: the shipped YAML, loading custom files, and errors naming key path and value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from quantrail.risk.rules import RiskRules, RiskRulesError, load_risk_rules, risk_rules_from_mapping
from quantrail.vocab import Bucket, Phase


def test_shipped_file_equals_the_coded_defaults() -> None:
    assert load_risk_rules() == RiskRules()


def test_shipped_file_holds_the_issue_numbers() -> None:
    rules = load_risk_rules()
    assert (rules.hard_cap_pct, rules.hard_cap_target_pct) == (Decimal(130), Decimal(125))
    assert rules.close_limit_pct == Decimal(100)
    tolerances = {phase: rules.phase(phase).tolerance_pct for phase in Phase}
    assert tolerances[Phase.OPEN] == tolerances[Phase.EARLY] == Decimal(125)
    assert (tolerances[Phase.MID], tolerances[Phase.LATE]) == (Decimal(120), Decimal(115))
    assert tolerances[Phase.CLOSE] == Decimal(100)
    assert rules.phase(Phase.MID).derisk_level_pct == Decimal(120)
    assert rules.phase(Phase.LATE).derisk_level_pct == Decimal(100)
    assert not rules.phase(Phase.OPEN).allow_derisk
    assert not rules.phase(Phase.EARLY).allow_derisk
    assert [p for p in Phase if not rules.phase(p).trading] == [
        Phase.CLOSED,
        Phase.PRE,
        Phase.POST,
    ]
    assert rules.buckets[Bucket.LT].target_pct == Decimal(80)
    assert rules.buckets[Bucket.LT].max_pct == Decimal(90)
    assert rules.buckets[Bucket.MM_PURE].target_pct == Decimal(20)
    assert rules.buckets[Bucket.MM_PURE].max_pct == Decimal(30)
    assert (rules.stale_after_s, rules.session_stale_after_s) == (60.0, 5.0)
    step = rules.derisk_step
    assert (step.fraction, step.round_lot, step.min_lots) == (Decimal("0.10"), 100, 1)
    assert rules.soft_price_offset == Decimal("0.01")


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("")
    assert load_risk_rules(path) == RiskRules()


def test_a_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("hard_cap_pct: 140.5\nderisk_step:\n  fraction: 0.25\n")
    rules = load_risk_rules(path)
    assert rules.hard_cap_pct == Decimal("140.5")
    assert rules.derisk_step.fraction == Decimal("0.25")
    assert rules.derisk_step.round_lot == 100
    assert rules.close_limit_pct == Decimal(100)


@pytest.mark.parametrize(
    ("raw", "key", "value"),
    [
        ({"hard_cap_pct": "abc"}, "hard_cap_pct", "abc"),
        ({"hard_cap_pct": -5}, "hard_cap_pct", -5),
        ({"hard_cap_typo": 1}, "hard_cap_typo", 1),
        ({"hard_cap_target_pct": 140}, "hard_cap_target_pct", 140),
        ({"stale_after_s": 0}, "stale_after_s", 0),
        ({"soft_price_offset": -0.01}, "soft_price_offset", -0.01),
        ({"derisk_step": {"fraction": 1.5}}, "derisk_step.fraction", 1.5),
        ({"derisk_step": {"round_lot": 0}}, "derisk_step.round_lot", 0),
        ({"derisk_step": {"lots": 2}}, "derisk_step.lots", 2),
    ],
)
def test_bad_value_names_key_path_and_value(
    raw: dict[str, object], key: str, value: object
) -> None:
    with pytest.raises(RiskRulesError) as caught:
        risk_rules_from_mapping(raw)
    assert caught.value.key == key
    assert caught.value.value == value
    assert f"'{key}'" in str(caught.value)
    assert repr(value) in str(caught.value)


def _phases(**changes: dict[str, object]) -> dict[str, dict[str, object]]:
    phases: dict[str, dict[str, object]] = {p.value: {"tolerance_pct": 100} for p in Phase}
    for name, change in changes.items():
        phases[name] = {**phases[name], **change}
    return phases


@pytest.mark.parametrize(
    ("phases", "key", "value"),
    [
        (_phases(MID={"tolerance_pct": "lots"}), "phases.MID.tolerance_pct", "lots"),
        (_phases(LATE={"tolerance_pct": 0}), "phases.LATE.tolerance_pct", 0),
        (_phases(LATE={"tolerence_pct": 1}), "phases.LATE.tolerence_pct", 1),
        (_phases(OPEN={"allow_derisk": True}), "phases.OPEN.derisk_level_pct", None),
        (
            _phases(PRE={"trading": False, "allow_derisk": True, "derisk_level_pct": 90}),
            "phases.PRE.allow_derisk",
            True,
        ),
        ({**_phases(), "NOON": {"tolerance_pct": 1}}, "phases.NOON", "NOON"),
    ],
)
def test_bad_phase_rule_names_the_phase(phases: dict[str, object], key: str, value: object) -> None:
    with pytest.raises(RiskRulesError) as caught:
        risk_rules_from_mapping({"phases": phases})
    assert (caught.value.key, caught.value.value) == (key, value)


def test_every_phase_and_bucket_needs_a_rule() -> None:
    with pytest.raises(RiskRulesError, match="missing \\['CLOSED', 'PRE'") as caught:
        risk_rules_from_mapping({"phases": {"MID": {"tolerance_pct": 120}}})
    assert caught.value.key == "phases"
    with pytest.raises(RiskRulesError, match="missing \\['MM_PURE'\\]"):
        risk_rules_from_mapping({"buckets": {"LT": {"target_pct": 80, "max_pct": 90}}})


def test_bucket_target_above_max_is_refused() -> None:
    buckets = {
        "LT": {"target_pct": 95, "max_pct": 90},
        "MM_PURE": {"target_pct": 20, "max_pct": 30},
    }
    with pytest.raises(RiskRulesError) as caught:
        risk_rules_from_mapping({"buckets": buckets})
    assert (caught.value.key, caught.value.value) == ("buckets.LT.target_pct", 95)


def test_missing_file_and_bad_yaml_are_named(tmp_path: Path) -> None:
    with pytest.raises(RiskRulesError, match="not found"):
        load_risk_rules(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("hard_cap_pct: [1,\n")
    with pytest.raises(RiskRulesError, match="not valid YAML"):
        load_risk_rules(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(RiskRulesError, match="must be a mapping"):
        load_risk_rules(listed)
