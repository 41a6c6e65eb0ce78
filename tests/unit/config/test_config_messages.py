"""Config errors say each thing once, and the dead-letter section is validated."""

from __future__ import annotations

import pytest

from quantrail.config import ConfigError, DeadLetterConfig, config_from_mapping


def test_a_limit_that_names_its_value_is_not_printed_twice() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"liquidity": {"round_lot": -5}}, "q.yaml")
    message = str(info.value)
    assert message == "config key 'liquidity.round_lot' in q.yaml: must be >= 1 (value: -5)"
    assert message.count("(value:") == 1


def test_dead_letter_defaults_keep_64_kib_for_30_days_and_warn_3_days_before() -> None:
    config = config_from_mapping({})
    assert config.bus.deadletter == DeadLetterConfig(
        max_original_bytes=65_536, max_age_s=30 * 86_400, warn_before_s=3 * 86_400
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"deadletter": {"max_original_bytes": 10}}, "bus.deadletter.max_original_bytes"),
        ({"deadletter": {"warn_before_s": 40 * 86_400}}, "bus.deadletter.warn_before_s"),
        ({"retention": {"system.deadletter": {"maxlen": 0}}}, "bus.retention"),
    ],
)
def test_bad_dead_letter_settings_name_their_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"bus": raw})
    assert info.value.key == key
