from __future__ import annotations

from pathlib import Path

import pytest

from quantrail.config import Config, ConfigError, Retention, config_from_mapping, load_config


def test_empty_config_is_valid_with_documented_defaults() -> None:
    config = config_from_mapping({})
    assert config == Config()
    assert config.bus.consumer.max_deliveries == 3
    assert config.bus.consumer.backoff_ms == [100, 500, 2000]
    assert config.runtime.heartbeat_s == 30
    assert config.runtime.breaker.failures == 5 and config.runtime.breaker.reset_s == 60
    for stream in ("trades.intent", "trades.request", "trades.order"):
        assert config.bus.retention_for(stream) == Retention(max_age_s=7 * 86_400, maxlen=0)
    assert config.bus.retention_for("audit.decision").maxlen == 0
    assert config.bus.retention_for("unknown.stream").maxlen == 100_000


def test_a_retention_entry_adds_to_the_built_in_table() -> None:
    config = config_from_mapping({"bus": {"retention": {"market.quote": {"maxlen": 10}}}})
    assert config.bus.retention_for("market.quote") == Retention(maxlen=10)
    assert config.bus.retention_for("audit.decision") == Retention(maxlen=0)  # still kept all
    assert config.bus.retention_for("other.stream") == config.bus.retention_default


@pytest.mark.parametrize(
    ("raw", "key", "value"),
    [
        ({"bus": {"consumr": {}}}, "bus.consumr", {}),
        ({"bus": {"consumer": {"batch_size": 0}}}, "bus.consumer.batch_size", 0),
        ({"bus": {"consumer": {"handler_timeout_s": 0}}}, "bus.consumer.handler_timeout_s", 0),
        ({"bus": {"consumer": {"backoff_ms": []}}}, "bus.consumer.backoff_ms", []),
        ({"bus": {"transport": "kafka"}}, "bus.transport", "kafka"),
        ({"redis": {"url": 5}}, "redis.url", 5),
        ({"bus": {"retention": {"trades.order": {"maxlen": "x"}}}},
         "bus.retention.trades.order.maxlen", "x"),
        ({"namespace": "live prod"}, "namespace", "live prod"),
        ({"runtime": {"breaker": {"failures": "many"}}}, "runtime.breaker.failures", "many"),
        ({"risk": {"accounts": [{"name": "A}B", "equity": "1000"}]}},
         "risk.accounts.0.name", "A}B"),  # a brace would move its keys out of their slot
        ({"risk": {"accounts": [{"name": "my acct", "equity": "1000"}]}},
         "risk.accounts.0.name", "my acct"),
    ],
)  # fmt: skip
def test_bad_config_names_the_key_and_the_value(
    raw: dict[str, object], key: str, value: object
) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_mapping(raw, "q.yaml")
    assert info.value.key == key
    assert info.value.value == value
    assert f"config key '{key}' in q.yaml" in str(info.value)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("namespace: paper\nredis:\n  url: redis://file:6379/0\n")
    config = load_config(
        path, env={"QUANTRAIL_NAMESPACE": "live", "QUANTRAIL_REDIS_URL": "redis://env:1/0"}
    )
    assert config.namespace == "live"
    assert config.redis.url == "redis://env:1/0"


def test_missing_file_and_bad_yaml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("bus: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, env={})
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listed, env={})


def test_the_shipped_sample_config_is_valid() -> None:
    sample = Path(__file__).resolve().parents[3] / "quantrail.yaml"
    config = load_config(sample, env={})
    assert config.namespace == "paper"
