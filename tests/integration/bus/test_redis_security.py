"""TLS and ACL users on a private redis-server; no password in any output of a failed login.

The TLS server listens with ``--tls-port`` and asks every client for a certificate, all made in
the test (kit/tls.py). The ACL server knows the users docs/security.md documents, one per
service, each with only the commands ``ops/redis_acl.py`` lists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis import exceptions as redis_errors

from kit.bus import TEST_CODEC, EffectLog, fast_consumer_config, new_namespace, pings
from kit.poll import eventually
from kit.secure_redis import (  # noqa: F401 (fixtures)
    ACL_NAMESPACE,
    acl_server,
    test_certs,
    tls_server,
    user_password,
)
from kit.tls import CertFiles
from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport
from quantrail.bus.redis_connect import redis_client
from quantrail.bus.transport import TransportError
from quantrail.config import BusConfig, RedisConfig, RedisTlsConfig
from quantrail.events.streams import StreamNames
from quantrail.ops.redis_server import RedisServer

pytestmark = pytest.mark.redis


def bus_for(settings: RedisConfig, namespace: str | None = None) -> EventBus:
    return EventBus(
        RedisTransport(settings),
        config=BusConfig(consumer=fast_consumer_config()),
        names=StreamNames(namespace or new_namespace()),
        codec=TEST_CODEC,
        reconnect_backoff_ms=(20,),
    )


async def round_trip(bus: EventBus) -> None:
    """Publish, consume in a group (ack with idempotency marks), keep state, read back."""
    await bus.publish_batch(pings(3))
    log = EffectLog()
    consumer = bus.group_consumer(
        streams=["test.ping"], group="g", consumer="c", handler=log.handle
    )
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: asyncio.sleep(0, log.effects), lambda e: len(e) == 3, within=5.0)
    finally:
        consumer.stop()
        await task
    await bus.set_state("probe", {"ok": "1"})
    assert await bus.get_state("probe") == {"ok": "1"}


def tls_settings(server: RedisServer, certs: CertFiles, **tls: object) -> RedisConfig:
    values: dict[str, object] = {
        "ca_file": str(certs.ca_file),
        "cert_file": str(certs.client_cert),
        "key_file": str(certs.client_key),
    }
    values.update(tls)
    return RedisConfig(url=server.tls_url, tls=RedisTlsConfig(**values))  # type: ignore[arg-type]


async def test_the_bus_runs_over_tls_with_a_client_certificate(
    tls_server: RedisServer,  # noqa: F811
    test_certs: CertFiles,  # noqa: F811
) -> None:
    bus = bus_for(tls_settings(tls_server, test_certs))
    try:
        await round_trip(bus)
    finally:
        await bus.close()


@pytest.mark.parametrize(
    "change",
    [
        {"cert_file": None, "key_file": None},  # the server asks for a client certificate
        {"ca_file": "OTHER"},  # the server's certificate is not signed by this CA
    ],
    ids=["no-client-cert", "wrong-ca"],
)
async def test_tls_refuses_without_client_cert_or_with_the_wrong_ca(
    tls_server: RedisServer,  # noqa: F811
    test_certs: CertFiles,  # noqa: F811
    change: dict[str, object],
) -> None:
    if change.get("ca_file") == "OTHER":
        change = {"ca_file": str(test_certs.other_ca_file)}
    bus = bus_for(tls_settings(tls_server, test_certs, **change))
    try:
        with pytest.raises(TransportError):
            await bus.transport.ping()
    finally:
        await bus.close()


async def test_plain_redis_to_the_tls_port_is_refused(tls_server: RedisServer) -> None:  # noqa: F811
    assert tls_server.tls_port is not None
    bus = bus_for(RedisConfig(url=f"redis://127.0.0.1:{tls_server.tls_port}/0", socket_timeout_s=1))
    try:
        with pytest.raises(TransportError):
            await bus.transport.ping()
    finally:
        await bus.close()


def acl_settings(server: RedisServer, user: str, tmp_path: Path) -> RedisConfig:
    """The user's password in a file: nothing secret in the URL or the config."""
    secret = tmp_path / f"{user}.password"
    secret.write_text(user_password(user) + "\n")
    return RedisConfig(url=server.url, username=f"quantrail-{user}", password_file=str(secret))


@pytest.mark.parametrize("user", ["engine", "ledger", "killswitch", "ops"])
async def test_each_acl_user_runs_the_bus_in_its_namespace(
    acl_server: RedisServer,  # noqa: F811
    tmp_path: Path,
    user: str,
) -> None:
    bus = bus_for(acl_settings(acl_server, user, tmp_path), ACL_NAMESPACE)
    try:
        await round_trip(bus)
    finally:
        await bus.close()


async def test_an_acl_user_may_not_flush_configure_or_leave_its_namespace(
    acl_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    client = redis_client(acl_settings(acl_server, "engine", tmp_path))
    try:
        assert await client.ping()
        for command in (("FLUSHALL",), ("CONFIG", "GET", "dir"), ("KEYS", "*"), ("XDEL", "x", "1")):
            with pytest.raises(redis_errors.NoPermissionError):
                await client.execute_command(*command)
        with pytest.raises(redis_errors.NoPermissionError):
            await client.xadd("other:test.ping", {"a": "1"})
    finally:
        await client.aclose()


async def test_the_execution_user_keeps_the_order_registry(
    acl_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    from kit.orders import new_order
    from quantrail.execution.registry import RedisOrderRegistry

    client = redis_client(acl_settings(acl_server, "execution", tmp_path))
    registry = RedisOrderRegistry(client, StreamNames(ACL_NAMESPACE))
    order = new_order()
    try:
        stored, created = await registry.create(order)
        assert created
        await registry.save(stored)
        assert await registry.get(order.order_id) is not None
        assert await registry.order_id_for_intent(order.intent_id) == order.order_id
    finally:
        await client.aclose()


async def test_the_password_comes_from_the_environment_variable(
    acl_server: RedisServer,  # noqa: F811
) -> None:
    settings = RedisConfig(url=acl_server.url, username="quantrail-engine", password_env="PW_X")
    client = redis_client(settings, env={"PW_X": user_password("engine")})
    try:
        assert await client.ping()
    finally:
        await client.aclose()
