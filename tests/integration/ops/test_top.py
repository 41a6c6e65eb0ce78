"""`quantrail top` in a pseudo-terminal: the desk's mode, live, without a browser."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from kit.bus import new_namespace
from kit.desk import cli_env, desk_config, desk_story, free_port, publish
from kit.risk_events import kill_switch_activated, risk_mode_changed
from quantrail.ops.redis_server import RedisServer
from quantrail.vocab import Mode

pytestmark = pytest.mark.redis
ANSI = r"(?:\x1b\[[0-9;]*m)*"
"""Colour codes Rich may put between two words."""


def mode_shown(mode: str) -> str:
    return f"mode {ANSI}{mode}"


def test_top_shows_the_mode_and_follows_it(redis_server: RedisServer, tmp_path: Path) -> None:
    namespace = new_namespace()
    config = desk_config(tmp_path, f"sqlite:///{tmp_path / 'ledger.sqlite'}", free_port())
    publish(redis_server.url, namespace, desk_story())
    args = ["-m", "quantrail.cli", "top", "--config", str(config),
            "--redis", redis_server.url, "--namespace", namespace]  # fmt: skip
    top = pexpect.spawn(
        sys.executable, args, env=cli_env(TERM="xterm-256color"), cwd=str(tmp_path),
        dimensions=(60, 160), timeout=15,
    )  # fmt: skip
    try:
        top.expect("ACC1")
        top.expect(mode_shown("NORMAL"))
        top.expect("gross 110.0%")
        publish(redis_server.url, namespace, [risk_mode_changed(mode=Mode.HARD_DERISK)])
        top.expect(mode_shown("HARD_DERISK"), timeout=5)
        publish(redis_server.url, namespace, [kill_switch_activated(activated_by="risk_kernel")])
        top.expect("KILL SWITCH ACTIVE by risk_kernel", timeout=5)
        top.sendintr()
        top.expect(pexpect.EOF, timeout=10)
    finally:
        top.close(force=True)
    assert top.exitstatus == 0, top.before
