"""SQL work off the event loop: one worker thread per service, in order (as the ledger does).

An unreachable database surfaces as ``StoreUnavailableError`` (a ``TransportError``), so the bus
consumer waits and retries the event without counting a delivery: nothing is dead-lettered
because PostgreSQL restarted.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from quantrail.ledger.service import StoreUnavailableError
from quantrail.ledger.sql import DatabaseUnavailableError

T = TypeVar("T")


class DbThread:
    def __init__(self, name: str) -> None:
        self._name = name
        self._worker: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[..., T], *args: object) -> T:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, functools.partial(work, *args))
        except DatabaseUnavailableError as exc:
            raise StoreUnavailableError(str(exc)) from exc

    def shutdown(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
