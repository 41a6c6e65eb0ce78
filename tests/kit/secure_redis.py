"""Private redis-servers with TLS and ACL users, for the security tests (one per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.tls import CertFiles, make_test_certs
from quantrail.ops.redis_acl import OPS_USER, UP_USER, acl_rule
from quantrail.ops.redis_server import RedisServer, ServerTls
from quantrail.ops.service_names import SERVICE_NAMES

ACL_NAMESPACE = "secured"
ADMIN_PASSWORD = "admin-Secret-1"


def user_password(user: str) -> str:
    return f"pw-{user}-Secret"


def acl_lines() -> list[str]:
    """The default user (admin, for the test's own checks) and every documented user."""
    users = (*SERVICE_NAMES, UP_USER, OPS_USER)
    return [f"user default on >{ADMIN_PASSWORD} ~* &* +@all"] + [
        acl_rule(user, ACL_NAMESPACE, user_password(user)) for user in users
    ]


@pytest.fixture(scope="module")
def test_certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_test_certs(Path(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def tls_server(test_certs: CertFiles) -> Iterator[RedisServer]:
    """TLS on ``tls_port`` with client certificates required (``--tls-auth-clients yes``)."""
    tls = ServerTls(test_certs.server_cert, test_certs.server_key, test_certs.ca_file, "yes")
    server = RedisServer(tls=tls).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def acl_server() -> Iterator[RedisServer]:
    server = RedisServer(acl=acl_lines()).start()
    yield server
    server.stop()
