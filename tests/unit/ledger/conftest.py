"""Fixtures for the ledger tests: store tests run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kit import sql
from quantrail.ledger.store import LedgerStore


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A private PostgreSQL database for this session, dropped at the end."""
    admin = sql.admin_url()
    reason = sql.unreachable_reason(admin)
    if reason is not None:
        if sql.postgres_required():
            pytest.fail(f"{sql.REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    name = sql.create_database(admin)
    try:
        yield sql.database_url(admin, name)
    finally:
        sql.drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, or a new schema in the session database."""
    if request.param == "sqlite":
        return sql.sqlite_url(tmp_path)
    database: str = request.getfixturevalue("pg_database_url")
    return sql.create_schema(database, sql.unique_name("t"))


@pytest.fixture
def store(store_url: str) -> Iterator[LedgerStore]:
    opened = LedgerStore.open(store_url)
    try:
        yield opened
    finally:
        opened.close()
