"""The dashboard's token: from a file or an environment variable; without one, read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.bus import make_bus
from quantrail.config import Config, ConfigError, config_from_mapping
from quantrail.ops.dashboard.actions import ActionError, DeskActions
from quantrail.ops.dashboard.config import DashboardConfig, TokenError, action_token


def test_the_token_comes_from_the_named_env_var_or_else_nothing() -> None:
    config = DashboardConfig(token_env="DESK_TOKEN")
    assert action_token(config, {"DESK_TOKEN": " abc \n"}) == "abc"
    assert action_token(config, {"QUANTRAIL_DASHBOARD_TOKEN": "abc"}) is None
    assert action_token(config, {"DESK_TOKEN": "  "}) is None


def test_a_token_file_wins_and_a_bad_one_names_the_key(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert action_token(DashboardConfig(token_file=str(token_file)), {}) == "from-file"
    token_file.write_text("")
    with pytest.raises(TokenError, match=r"dashboard\.token_file: .* is empty"):
        action_token(DashboardConfig(token_file=str(token_file)), {})
    with pytest.raises(TokenError, match=r"dashboard\.token_file: cannot read"):
        action_token(DashboardConfig(token_file=str(tmp_path / "missing")), {})


def test_a_bad_port_names_the_key() -> None:
    with pytest.raises(ConfigError, match="port"):
        config_from_mapping({"dashboard": {"port": 70000}})


def actions(token: str | None) -> DeskActions:
    return DeskActions(Config(), make_bus("memory", None), token, None)


def test_without_a_configured_token_every_action_is_refused_as_read_only() -> None:
    with pytest.raises(ActionError, match="read-only") as refused:
        actions(None).check_token("Bearer anything")
    assert refused.value.status == 403


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer wrong", "right"])
def test_a_missing_or_wrong_token_is_refused(header: str) -> None:
    with pytest.raises(ActionError, match="needs the dashboard token") as refused:
        actions("s3cret").check_token(header.replace("right", "s3cret-not"))
    assert refused.value.status == 403


def test_the_right_token_passes() -> None:
    actions("s3cret").check_token("Bearer s3cret")
