"""The shipped Prometheus rules and Grafana dashboard use only metrics quantrail exports, with
the health monitor's thresholds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from kit.event_base import ACCOUNT
from kit.risk_events import risk_mode_changed
from kit.system_events import heartbeat
from quantrail.ops.health_config import HealthConfig
from quantrail.ops.health_service import HealthService
from quantrail.ops.metrics import ProcessMetrics

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "quantrail.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported_names() -> set[str]:
    metrics = ProcessMetrics(3, lambda: 0)
    health = HealthService(HealthConfig())
    health.beats.apply(heartbeat("ledger", ts_event=0))
    health.accounts.apply(risk_mode_changed(account=ACCOUNT))
    families = [*metrics.registry.collect(), *health.families_at(0)]
    return {f.name + suffix for f in families for suffix in SUFFIXES.get(f.type, ("",))}


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\bquantrail_[a-z_]+", text))


def test_every_metric_the_rules_and_the_dashboard_use_is_exported() -> None:
    names = exported_names()
    for path in (RULES, DASHBOARD):
        used = referenced(path.read_text())
        assert used and used <= names, f"{path.name}: unknown {sorted(used - names)}"


def test_the_rules_carry_the_health_monitors_thresholds() -> None:
    rules = {r["alert"]: r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"]
             for r in g["rules"]}  # fmt: skip
    config = HealthConfig()
    assert f"> {config.max_stream_length}" in rules["QuantrailStreamTooLong"]
    assert f"> {config.max_lag}" in rules["QuantrailConsumerLag"]
    assert f"< {config.min_ack_rate_pct / 100:g}" in rules["QuantrailAckRateLow"]
    assert f"> {config.max_retry_rate_pct / 100:g}" in rules["QuantrailRetryRateHigh"]
    assert f"> {config.heartbeat_missing_s:g}" in rules["QuantrailHeartbeatMissing"]
    assert "== 1" in rules["QuantrailKillSwitchActive"]
    assert "== 3" in rules["QuantrailHardDerisk"]  # MODE_VALUE[HARD_DERISK]


def test_the_dashboard_is_valid_json_with_a_panel_per_figure() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert referenced(exprs) >= {
        "quantrail_stream_length_entries", "quantrail_consumer_group_lag_entries",
        "quantrail_heartbeat_age_seconds", "quantrail_account_kill_switch_active",
        "quantrail_account_risk_mode", "quantrail_breaker_state",
    }  # fmt: skip
