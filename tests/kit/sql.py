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
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql as pgsql

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
