"""The PostgreSQL fixture's own logic: an unreachable server is reported with how to start it."""

from __future__ import annotations

from kit import sql


def test_unreachable_server_gives_a_reason_with_the_way_to_start_it() -> None:
    reason = sql.unreachable_reason("postgresql://postgres@127.0.0.1:1/postgres", timeout_s=1)

    assert reason is not None
    assert "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:1/postgres" in reason
    assert "pg_ctlcluster" in reason and sql.ADMIN_URL_ENV in reason


def test_schema_url_keeps_the_database_and_sets_the_search_path() -> None:
    url = sql.database_url("postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable", "q_1")

    assert url == "postgresql://postgres@127.0.0.1:5432/q_1?sslmode=disable"
