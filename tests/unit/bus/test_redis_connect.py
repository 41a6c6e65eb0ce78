"""How a Redis login is built from the config: where the password comes from, TLS, redaction."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from kit.secrets import fake_secret, masked_url, url_with_password
from quantrail.bus.redis_connect import redis_login
from quantrail.config import ConfigError, RedisConfig, RedisTlsConfig, load_config
from quantrail.redact import redact, register_secret
from quantrail.runtime.logs import setup_logging


def test_the_password_file_wins_over_the_variable_and_the_url(tmp_path: Path) -> None:
    in_file, in_env, in_url = fake_secret("file"), fake_secret("env"), fake_secret("url")
    secret = tmp_path / "pw"
    secret.write_text(in_file + "\n")
    settings = RedisConfig(url=url_with_password(in_url), password_file=str(secret))
    login = redis_login(settings, env={"QUANTRAIL_REDIS_PASSWORD": in_env})
    assert login.password == in_file
    assert login.url == "redis://h:1/0" and login.username == "u"


def test_the_variable_wins_over_the_url_and_the_config_user_over_the_urls() -> None:
    in_env, in_url = fake_secret("env"), fake_secret("url")
    settings = RedisConfig(url=url_with_password(in_url), username="quantrail-engine")
    login = redis_login(settings, env={"QUANTRAIL_REDIS_PASSWORD": in_env})
    assert (login.username, login.password) == ("quantrail-engine", in_env)
    assert redis_login(settings, env={}).password == in_url
    assert redis_login(RedisConfig(url="redis://h:1/0"), env={}).password is None


def test_the_variable_name_is_configurable() -> None:
    settings = RedisConfig(password_env="ENGINE_REDIS_PW")
    secret = fake_secret()
    assert redis_login(settings, env={"ENGINE_REDIS_PW": secret}).password == secret


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
    first, second = fake_secret(), fake_secret("p@ss")
    plain = url_with_password(first, "127.0.0.1:1/0", user="")
    tls = url_with_password(second, "h/0", scheme="rediss")
    assert redact(f"cannot reach redis at {plain} and {tls}") == (
        f"cannot reach redis at {masked_url('127.0.0.1:1/0', user='')} and "
        f"{masked_url('h/0', scheme='rediss')}"
    )
    assert redact("redis://u@h:1/0 and redis://h:1") == "redis://u@h:1/0 and redis://h:1"
    registered = fake_secret("registered")
    register_secret(registered)
    assert redact(f"AUTH failed for {registered}") == "AUTH failed for ***"


def test_a_config_error_does_not_repeat_a_urls_password(tmp_path: Path) -> None:
    secret = fake_secret()
    config = tmp_path / "q.yaml"
    config.write_text(f"redis:\n  url: [{url_with_password(secret, user='')}]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config, env={})
    assert "redis.url" in str(caught.value) and secret not in str(caught.value)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_are_redacted(fmt: str) -> None:
    secret, out = fake_secret("log"), io.StringIO()
    setup_logging("INFO", fmt, out)
    try:
        logging.getLogger("quantrail.test").warning(f"redis at {url_with_password(secret)} down")
    finally:
        setup_logging("INFO", "text")
    assert secret not in out.getvalue() and masked_url() in out.getvalue()
