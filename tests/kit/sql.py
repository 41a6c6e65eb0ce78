"""SQL databases for tests: a SQLite file per test, a private PostgreSQL database per session.

PostgreSQL tests never touch data they did not create: the session creates a database with a
unique name through the admin URL, each test gets its own schema in it, and the database is
dropped at the end. The admin URL comes from ``QUANTRAIL_TEST_PG_URL``; when the server cannot
be reached the PostgreSQL variants are skipped, unless ``QUANTRAIL_REQUIRE_PG=1`` (CI) makes
that a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql as pgsql

from quantrail.ledger.store import LedgerStore

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_URL_ENV = "QUANTRAIL_TEST_PG_URL"
REQUIRE_ENV = "QUANTRAIL_REQUIRE_PG"
START_HINT = (
    "start PostgreSQL with trust auth for user postgres on 127.0.0.1:5432, e.g. "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` on Debian, "
    f"or point {ADMIN_URL_ENV} at a server where you may create databases"
)


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def unreachable_reason(url: str, timeout_s: int = 3) -> str | None:
    """None when the server answers at ``url``; otherwise why not, with the way to fix it."""
    try:
        with psycopg.connect(url, connect_timeout=timeout_s, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {url}: {first_line}; {START_HINT}"
    return None


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def create_database(admin: str) -> str:
    """Create a fresh database; returns its name (``quantrail_test_<pid>_<random>``)."""
    name = unique_name("quantrail_test")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    return name


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )


def database_url(admin: str, name: str) -> str:
    """The admin URL pointed at database ``name`` (same host, user and options)."""
    parts = urlsplit(admin)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_schema(database: str, name: str) -> str:
    """Create schema ``name`` in ``database``; returns a URL whose search_path is that schema."""
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(name)))
    parts = urlsplit(database)
    option = "options=" + quote(f"-csearch_path={name}", safe="")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'ledger.sqlite'}"


def terminate_backends(database_url: str) -> int:
    """Cut every other connection to the database of ``database_url`` (a server-side drop)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


# -- fixtures (imported by the ledger tests' conftest.py files) --------------------------------


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A private PostgreSQL database for this session, dropped at the end."""
    admin = admin_url()
    reason = unreachable_reason(admin)
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    name = create_database(admin)
    try:
        yield database_url(admin, name)
    finally:
        drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, or a new schema in the session database."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    database: str = request.getfixturevalue("pg_database_url")
    return create_schema(database, unique_name("t"))


@pytest.fixture
def store(store_url: str) -> Iterator[LedgerStore]:
    opened = LedgerStore.open(store_url)
    try:
        yield opened
    finally:
        opened.close()
