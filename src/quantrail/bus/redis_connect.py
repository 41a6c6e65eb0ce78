"""The one place a Redis client is built from the config: URL, ACL user, password, TLS.

Every part of quantrail that opens Redis goes through ``redis_client`` (the transport, the
inspection verbs, the scenario runner, the benchmarks), so credentials and TLS are handled once:

- the password comes from ``redis.password_file`` if set, else from the environment variable
  ``redis.password_env`` names (``QUANTRAIL_REDIS_PASSWORD``) if set, else from the URL (allowed,
  not needed); it is registered with ``quantrail.redact`` so no message or log line shows it;
- the user is ``redis.username`` if set, else the URL's;
- a ``rediss://`` URL speaks TLS, verified against ``redis.tls.ca_file`` (else the system CAs),
  with ``redis.tls.cert_file``/``key_file`` as the client certificate when given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from quantrail.config import ConfigError, RedisConfig
from quantrail.redact import redact, register_secret


@dataclass(frozen=True)
class RedisLogin:
    """What ``redis_client`` passes to redis-py: a URL without credentials, and the login."""

    url: str
    username: str | None
    password: str | None
    tls: dict[str, Any]


def redis_login(settings: RedisConfig, env: Mapping[str, str] | None = None) -> RedisLogin:
    """The URL without its credentials, the user, the password and the TLS options."""
    env = os.environ if env is None else env
    parts = urlsplit(settings.url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        reason = "must start with redis://, rediss:// (TLS) or unix://"
        raise ConfigError("redis.url", reason, redact(settings.url))
    bare_url = settings.url
    if "@" in parts.netloc:  # credentials in the URL: taken out, passed as the login
        netloc = parts.netloc.rpartition("@")[2]
        bare_url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    password = _password(settings, env) or (unquote(parts.password) if parts.password else None)
    register_secret(password)
    username = settings.username or (unquote(parts.username) if parts.username else None)
    return RedisLogin(bare_url, username or None, password, _tls_options(settings, parts.scheme))


def redis_client(
    settings: RedisConfig,
    *,
    asynchronous: bool = True,
    decode_responses: bool = False,
    env: Mapping[str, str] | None = None,
) -> Any:
    """A redis-py client (asyncio unless ``asynchronous=False``) logged in as the config says.

    Typed Any: redis-py's stubs disagree with its bytes replies (decode_responses=False)."""
    import redis
    import redis.asyncio as aioredis

    login = redis_login(settings, env)
    timeout = settings.socket_timeout_s
    options: dict[str, Any] = {
        "decode_responses": decode_responses,
        "socket_timeout": timeout,
        "socket_connect_timeout": min(timeout, 5.0),
        "health_check_interval": 15,
        "username": login.username,
        "password": login.password,
        **login.tls,
    }
    factory: Any = aioredis.Redis if asynchronous else redis.Redis
    return factory.from_url(login.url, **options)


def _password(settings: RedisConfig, env: Mapping[str, str]) -> str | None:
    if settings.password_file is not None:
        path = Path(settings.password_file).expanduser()
        try:
            # The file holds the password alone; a trailing newline is the editor's.
            return path.read_text().rstrip("\r\n") or None
        except OSError as exc:
            reason = f"cannot read the password file: {exc.strerror or exc}"
            raise ConfigError("redis.password_file", reason, str(path)) from None
    return env.get(settings.password_env) or None


def _tls_options(settings: RedisConfig, scheme: str) -> dict[str, Any]:
    tls = settings.tls
    configured = [name for name in ("ca_file", "cert_file", "key_file") if getattr(tls, name)]
    if scheme != "rediss":
        if configured:
            raise ConfigError(
                f"redis.tls.{configured[0]}", "TLS needs a rediss:// URL in redis.url",
                getattr(tls, configured[0]),
            )  # fmt: skip
        return {}
    for name in configured:
        if not Path(getattr(tls, name)).expanduser().is_file():
            raise ConfigError(f"redis.tls.{name}", "file not found", getattr(tls, name))
    return {
        "ssl_cert_reqs": "required",
        "ssl_ca_certs": tls.ca_file,
        "ssl_certfile": tls.cert_file,
        "ssl_keyfile": tls.key_file,
        "ssl_check_hostname": tls.check_hostname,
    }
