"""How a Redis login is built from the config: where the password comes from, TLS, redaction."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from quantrail.bus.redis_connect import redis_login
from quantrail.config import ConfigError, RedisConfig, RedisTlsConfig, load_config
from quantrail.redact import redact, register_secret
from quantrail.runtime.logs import setup_logging


def test_the_password_file_wins_over_the_variable_and_the_url(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file-pw\n")
    settings = RedisConfig(url="redis://u:from-url-pw@h:1/0", password_file=str(secret))
    login = redis_login(settings, env={"QUANTRAIL_REDIS_PASSWORD": "from-env-pw"})
    assert login.password == "from-file-pw"
    assert login.url == "redis://h:1/0" and login.username == "u"


def test_the_variable_wins_over_the_url_and_the_config_user_over_the_urls() -> None:
    settings = RedisConfig(url="redis://u:from-url-pw@h:1/0", username="quantrail-engine")
    login = redis_login(settings, env={"QUANTRAIL_REDIS_PASSWORD": "from-env-pw"})
    assert (login.username, login.password) == ("quantrail-engine", "from-env-pw")
    assert redis_login(settings, env={}).password == "from-url-pw"
    assert redis_login(RedisConfig(url="redis://h:1/0"), env={}).password is None


def test_the_variable_name_is_configurable() -> None:
    settings = RedisConfig(password_env="ENGINE_REDIS_PW")
    assert redis_login(settings, env={"ENGINE_REDIS_PW": "abc-secret"}).password == "abc-secret"


def test_a_missing_password_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=r"'redis\.password_file'.*cannot read.*nope"):
        redis_login(RedisConfig(password_file=str(missing)), env={})


def test_tls_options_need_a_rediss_url_and_existing_files(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    with pytest.raises(ConfigError, match=r"'redis\.tls\.ca_file'.*rediss://"):
        redis_login(RedisConfig(tls=RedisTlsConfig(ca_file=str(ca))), env={})
    tls = RedisConfig(url="rediss://h:1/0", tls=RedisTlsConfig(ca_file=str(ca)))
    with pytest.raises(ConfigError, match=r"'redis\.tls\.ca_file'.*file not found"):
        redis_login(tls, env={})
    ca.write_text("x")
    options = redis_login(tls, env={}).tls
    assert options["ssl_ca_certs"] == str(ca) and options["ssl_cert_reqs"] == "required"


def test_a_cert_without_its_key_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "q.yaml"
    config.write_text("redis:\n  url: rediss://h:1/0\n  tls:\n    cert_file: c.pem\n")
    with pytest.raises(ConfigError, match=r"redis\.tls\.cert_file.*go together"):
        load_config(config, env={})


def test_redact_masks_url_passwords_and_registered_secrets() -> None:
    text = "cannot reach redis at redis://:wrongpw@127.0.0.1:1/0 and rediss://u:p%40ss@h/0"
    assert redact(text) == (
        "cannot reach redis at redis://:***@127.0.0.1:1/0 and rediss://u:***@h/0"
    )
    assert redact("redis://u@h:1/0 and redis://h:1") == "redis://u@h:1/0 and redis://h:1"
    register_secret("registered-S3cret")
    assert redact("AUTH failed for registered-S3cret") == "AUTH failed for ***"


def test_a_config_error_does_not_repeat_a_urls_password(tmp_path: Path) -> None:
    config = tmp_path / "q.yaml"
    config.write_text("redis:\n  url: [redis://:hunter2-pw@h:1/0]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, env={})
    assert "redis.url" in str(caught.value) and "hunter2-pw" not in str(caught.value)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_are_redacted(fmt: str) -> None:
    out = io.StringIO()
    setup_logging("INFO", fmt, out)
    try:
        logging.getLogger("quantrail.test").warning("redis at redis://u:log-pw-123@h:1/0 down")
    finally:
        setup_logging("INFO", "text")
    assert "log-pw-123" not in out.getvalue() and "redis://u:***@h:1/0" in out.getvalue()
