"""SQL work on the service's worker thread, or (a backtest, ``sql_inline``) on the caller's."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from quantrail.audit.db_thread import DbThread, sql_inline
from quantrail.ledger.service import StoreUnavailableError
from quantrail.ledger.sql import DatabaseUnavailableError


def _thread_id() -> int:
    return threading.get_ident()


async def test_work_runs_on_the_worker_thread_by_default() -> None:
    db = DbThread("test-db")
    try:
        assert await db.run(_thread_id) != threading.get_ident()
    finally:
        db.shutdown()


async def test_inside_sql_inline_work_runs_on_the_callers_thread_and_its_tasks_too() -> None:
    db = DbThread("test-db")
    try:
        with sql_inline():
            assert await db.run(_thread_id) == threading.get_ident()
            task = asyncio.create_task(db.run(_thread_id))  # copies the context
        assert await task == threading.get_ident()
        assert await db.run(_thread_id) != threading.get_ident()  # the context is left
    finally:
        db.shutdown()


@pytest.mark.parametrize("inline", [False, True])
async def test_an_unreachable_database_is_a_transport_error_either_way(inline: bool) -> None:
    def down() -> None:
        raise DatabaseUnavailableError("database at sqlite:///x is unreachable")

    db = DbThread("test-db")
    try:
        context = sql_inline() if inline else contextlib.nullcontext()
        with context, pytest.raises(StoreUnavailableError, match="unreachable"):
            await db.run(down)
    finally:
        db.shutdown()
