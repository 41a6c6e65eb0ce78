"""SQL work off the event loop: one worker thread per service, in order (as the ledger does).

An unreachable database surfaces as ``StoreUnavailableError`` (a ``TransportError``), so the bus
consumer waits and retries the event without counting a delivery: nothing is dead-lettered
because PostgreSQL restarted.

Inside ``sql_inline()`` (a backtest) the work runs on the caller's thread instead. Live, the
thread keeps a slow database from stalling every other handler of the loop; a backtest's
simulated clock waits for nothing, and waiting on the thread only made its settle poll the
streams until the answer came (a third of the chain's CPU per fill went to that).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TypeVar

from quantrail.ledger.service import StoreUnavailableError
from quantrail.ledger.sql import DatabaseUnavailableError

T = TypeVar("T")

_INLINE: ContextVar[bool] = ContextVar("quantrail_sql_inline", default=False)


@contextlib.contextmanager
def sql_inline() -> Iterator[None]:
    """``DbThread.run`` does its work on the caller's thread in this context and in the tasks
    started within it (they copy the context)."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


class DbThread:
    def __init__(self, name: str) -> None:
        self._name = name
        self._worker: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        try:
            if _INLINE.get():
                return work(*args)
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._worker, functools.partial(work, *args))
        except DatabaseUnavailableError as exc:
            raise StoreUnavailableError(str(exc)) from exc

    def shutdown(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
