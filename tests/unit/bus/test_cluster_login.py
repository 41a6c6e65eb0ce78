"""The cluster client logs in like a single Redis: user, password from its variable, TLS."""

from __future__ import annotations

import pytest

from quantrail.bus.cluster import RedisClusterTransport
from quantrail.config import RedisConfig


def test_the_cluster_client_takes_the_user_and_the_password_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUANTRAIL_REDIS_PASSWORD", "s3cret-from-env")
    settings = RedisConfig(url="redis://127.0.0.1:7000", username="quantrail-engine")
    transport = RedisClusterTransport(["127.0.0.1:7000"], settings=settings)
    kwargs = transport._client.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("quantrail-engine", "s3cret-from-env")


def test_without_settings_the_cluster_client_has_no_login() -> None:
    transport = RedisClusterTransport(["127.0.0.1:7000"])
    assert transport._client.connection_kwargs.get("password") is None
