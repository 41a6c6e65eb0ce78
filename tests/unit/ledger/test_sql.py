"""The database connections: a dropped PostgreSQL connection is replaced, errors name the URL."""

from __future__ import annotations

import pytest

from kit import sql
from kit.ledger import DAY, example_snapshot
from kit.secrets import fake_secret, url_with_password
from quantrail.ledger.sql import DatabaseUnavailableError, PostgresBackend, connect
from quantrail.ledger.store import LedgerStore, SnapshotStatus

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(pg_database_url: str) -> str:
    return sql.create_schema(pg_database_url, sql.unique_name("c"))


def test_a_connection_dropped_while_idle_is_replaced_on_next_use(
    pg_url: str, pg_database_url: str
) -> None:
    with LedgerStore.open(pg_url) as store:
        store.save_snapshot(example_snapshot())

        assert sql.terminate_backends(pg_database_url) >= 1  # the server cuts our connection

        # The next transaction finds the connection broken at BEGIN, reconnects and goes on.
        assert store.load_snapshot("HAMMER", DAY) == example_snapshot()
        assert store.save_snapshot(example_snapshot()).status is SnapshotStatus.EXISTING


def test_reconnects_are_counted_on_the_backend(pg_url: str, pg_database_url: str) -> None:
    backend = connect(pg_url)
    assert isinstance(backend, PostgresBackend)
    with backend.transaction() as tx:
        assert tx.rows("SELECT 1") == [(1,)]
    sql.terminate_backends(pg_database_url)

    with backend.transaction() as tx:
        assert tx.rows("SELECT 2") == [(2,)]
    backend.close()

    assert backend.reconnects == 1


def test_a_connection_cut_inside_a_transaction_is_reported_unavailable(
    pg_url: str, pg_database_url: str
) -> None:
    backend = connect(pg_url)
    with (
        pytest.raises(DatabaseUnavailableError, match=r"connection to .* lost"),
        backend.transaction() as tx,
    ):
        tx.rows("SELECT 1")
        sql.terminate_backends(pg_database_url)
        tx.rows("SELECT 2")
    # ... and the next transaction works on a new connection.
    with backend.transaction() as tx:
        assert tx.rows("SELECT 3") == [(3,)]
    backend.close()


def test_an_unreachable_server_is_database_unavailable_without_the_password() -> None:
    secret = fake_secret()
    url = url_with_password(secret, "127.0.0.1:1/nowhere?connect_timeout=1", "me", "postgresql")

    with pytest.raises(DatabaseUnavailableError, match=r"me:\*\*\*@127.0.0.1:1") as caught:
        connect(url)
    assert secret not in str(caught.value)
    assert isinstance(caught.value, ConnectionError)
