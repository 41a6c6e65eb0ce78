"""Session config: defaults, validation messages that name the field, strict decoding."""

from __future__ import annotations

import re

import msgspec
import pytest

from quantrail.session import PhaseBoundaries, SessionConfig

# The config loader's pattern for a field-named message (src/quantrail/config.py).
_FIELD_MESSAGE = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$")


def test_defaults_match_the_design_glossary() -> None:
    config = SessionConfig()
    assert (config.exchange, config.timezone, config.tick_s) == ("XNYS", "America/New_York", 1.0)
    phases = config.phases
    assert (phases.open_min, phases.early_min, phases.late_min, phases.close_min) == (15, 60, 15, 2)
    assert phases.pre_open_min is None
    assert phases.post_close_min is None


def test_an_empty_mapping_decodes_to_the_defaults() -> None:
    assert msgspec.convert({}, SessionConfig) == SessionConfig()


def test_custom_boundaries_decode_from_a_mapping() -> None:
    raw = {"exchange": "XNYS", "tick_s": 0.5, "phases": {"late_min": 20, "pre_open_min": 90}}
    config = msgspec.convert(raw, SessionConfig)
    assert config.tick_s == 0.5
    assert config.phases == PhaseBoundaries(late_min=20, pre_open_min=90)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"late_min": 2}, "late_min: must be greater than close_min (late_min=2, close_min=2)"),
        ({"close_min": 20}, "late_min: must be greater than close_min (late_min=15, close_min=20)"),
        ({"open_min": 61}, "early_min: must be at least open_min (early_min=60, open_min=61)"),
        ({"open_min": -1}, "open_min: must be >= 0 (got -1)"),
        ({"early_min": -5}, "early_min: must be >= 0 (got -5)"),
        ({"close_min": -1}, "close_min: must be >= 0 (got -1)"),
        ({"pre_open_min": -30}, "pre_open_min: must be >= 0 (got -30)"),
        ({"post_close_min": -1}, "post_close_min: must be >= 0 (got -1)"),
    ],
)
def test_invalid_boundaries_raise_naming_the_field(fields: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        PhaseBoundaries(**fields)
    assert str(caught.value) == message
    assert _FIELD_MESSAGE.match(str(caught.value))


def test_zero_open_and_close_windows_are_allowed() -> None:
    phases = PhaseBoundaries(open_min=0, early_min=0, close_min=0, late_min=1)
    assert (phases.open_min, phases.close_min) == (0, 0)


def test_decoding_bad_boundaries_reports_field_and_path_for_the_loader() -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"phases": {"late_min": 1}}, SessionConfig)
    assert str(caught.value) == (
        "late_min: must be greater than close_min (late_min=1, close_min=2) - at `$.phases`"
    )


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `late_minutes`"):
        msgspec.convert({"phases": {"late_minutes": 10}}, SessionConfig)


@pytest.mark.parametrize("tick", [0.0, -1.0, float("nan"), float("inf")])
def test_tick_must_be_a_positive_finite_number(tick: float) -> None:
    with pytest.raises(ValueError, match=r"^tick_s: must be a finite number of seconds > 0"):
        SessionConfig(tick_s=tick)


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^timezone: unknown time zone 'Mars/Olympus'$"):
        SessionConfig(timezone="Mars/Olympus")


def test_blank_exchange_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^exchange: must name an exchange calendar"):
        SessionConfig(exchange=" ")
