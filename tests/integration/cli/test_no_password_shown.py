"""A failed login never shows the password: not in a verb's message, not in ``config``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kit.secrets import fake_secret, masked_url, url_with_password
from kit.secure_redis import acl_server  # noqa: F401 (fixture)
from quantrail.cli import app
from quantrail.ops.redis_server import RedisServer

pytestmark = pytest.mark.redis
WRONG = fake_secret("wrong")  # a wrong password, made at run time


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200", **(env or {})}).invoke(app, args)
    return result.exit_code, result.output


PUBLISH = '{"alert_id": "a", "severity": "INFO", "message": "m"}'
VERBS = [
    ["streams"],
    ["tail", "system.alert", "--limit", "1"],
    ["dlq", "list"],
    ["publish", "system.alert.triggered", "--json", PUBLISH],
]


@pytest.mark.parametrize(
    "verb",
    VERBS,
    ids=lambda verb: verb[0],
)
def test_a_wrong_password_in_the_url_is_not_shown(
    acl_server: RedisServer,  # noqa: F811
    verb: list[str],
) -> None:
    url = url_with_password(WRONG, f"127.0.0.1:{acl_server.port}/0", user="quantrail-ops")
    code, out = run([*verb, "--redis", url, "-n", "secured"])
    assert code == 1, out
    assert "cannot reach Redis" in out and "invalid username-password" in out
    assert WRONG not in out
    assert "quantrail-ops:***@127.0.0.1" in out


def test_a_service_with_a_wrong_password_stops_in_one_line_without_it(
    acl_server: RedisServer,  # noqa: F811
) -> None:
    url = url_with_password(WRONG, f"127.0.0.1:{acl_server.port}/0", user="quantrail-engine")
    code, out = run(["service", "engine", "--redis", url])
    assert code == 1, out
    assert WRONG not in out
    assert "error: cannot reach Redis" in out and "quantrail-engine:***@" in out


def test_a_wrong_password_from_the_variable_is_not_shown(
    acl_server: RedisServer,  # noqa: F811
) -> None:
    env = {"QUANTRAIL_REDIS_PASSWORD": WRONG, "QUANTRAIL_REDIS_USERNAME": "quantrail-ops"}
    code, out = run(["streams", "--redis", acl_server.url, "-n", "secured"], env)
    assert code == 1 and "invalid username-password" in out
    assert WRONG not in out


def test_config_prints_the_url_without_its_password(tmp_path: object) -> None:
    env = {"QUANTRAIL_REDIS_URL": url_with_password(WRONG, "127.0.0.1:1/0")}
    code, out = run(["config"], env)
    assert code == 0, out
    assert WRONG not in out and masked_url("127.0.0.1:1/0") in out
