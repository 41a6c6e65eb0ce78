"""The position and exit services are built by name; their config sections refuse bad keys."""

from __future__ import annotations

import pytest

from kit.bus import make_bus
from kit.event_base import T0
from quantrail.config import ConfigError, config_from_mapping
from quantrail.ops.services import SERVICE_NAMES, build_services
from quantrail.runtime.clock import SimulatedClock
from quantrail.strategy.config import ExitBrainConfig, ExitRules
from quantrail.strategy.exit_service import ExitService
from quantrail.strategy.position_service import PositionService


async def test_build_services_knows_positions_and_exit_brain() -> None:
    assert {"positions", "exit_brain"} <= set(SERVICE_NAMES)
    bus = make_bus("memory", None)
    config = config_from_mapping({})
    built = build_services(config, bus, SimulatedClock(T0), ["exit_brain", "positions"])
    assert [type(s) for s in built] == [PositionService, ExitService]
    assert [s.name for s in built] == ["positions", "exit_brain"]
    await bus.close()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"positions": {"update_interval_s": 0}}, "update_interval_s"),
        ({"exit_brain": {"retry_after_s": -1}}, "retry_after_s"),
        ({"exit_brain": {"max_exit_orders": 0}}, "max_exit_orders"),
        ({"exit_brain": {"strategies": {"b": {"target_exit_pct": 0}}}}, "target_exit_pct"),
        ({"exit_brain": {"strategies": {"b": {"trailing_stop_pct": 100}}}}, "trailing_stop_pct"),
    ],
)
def test_bad_values_name_their_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(section)


def test_rules_per_strategy_with_scripted_off_but_the_stop() -> None:
    config = ExitBrainConfig(strategies={"breakout": ExitRules(target_r=3.0)})
    assert config.rules_for("breakout").target_r == 3.0
    assert config.rules_for("scripted") == ExitRules()
    assert config.rules_for("meanrevert").max_hold_minutes == 240.0
