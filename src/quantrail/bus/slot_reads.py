"""Reads over streams of several cluster slots: one command per slot, none lost.

A Redis Cluster refuses a command whose keys live in different slots (CROSSSLOT), so a read of
streams on several slots becomes one read per slot. Blocking them one after another would
make a consumer wait ``block_ms`` on an idle slot while another has entries, so they run at
once and the call returns as soon as one answers:

* a group read (XREADGROUP ``>``) that has not answered yet is **kept in flight** and answered
  on the next call of the same group and consumer. Cancelling it could drop a reply whose
  entries Redis has already put in the consumer's pending list (they would wait for a claim);
* a plain read (XREAD, broadcast) changes nothing on the server, so the slower reads are
  cancelled and asked again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Hashable, Mapping
from typing import Any

from redis.crc import key_slot

from quantrail.bus.sharding import base_stream
from quantrail.bus.transport import Entry

ReadOne = Callable[[Mapping[str, str], int], Coroutine[Any, Any, list[Entry]]]


def split_by_slot(streams: Mapping[str, str]) -> list[dict[str, str]]:
    """The streams grouped by cluster slot, in first-seen order."""
    parts: dict[int, dict[str, str]] = {}
    for key, start in streams.items():
        parts.setdefault(int(key_slot(key.encode())), {})[key] = start
    return list(parts.values())


class SlotReads:
    """Group reads kept in flight across calls, per (group, consumer, slot's keys)."""

    def __init__(self) -> None:
        self._in_flight: dict[Hashable, asyncio.Task[list[Entry]]] = {}

    async def read(
        self,
        owner: tuple[str, ...],
        streams: Mapping[str, str],
        block_ms: int,
        read_one: ReadOne,
    ) -> list[Entry]:
        parts = split_by_slot(streams)
        if len(parts) == 1 and not self._owns_reads(owner):
            return await read_one(parts[0], block_ms)
        if block_ms <= 0:
            return _gathered(
                await asyncio.gather(*(read_one(p, 0) for p in parts), return_exceptions=True)
            )
        if owner[0] == "group":
            return await self._group_read(owner, parts, block_ms, read_one)
        if len(parts) == 1:
            return await read_one(parts[0], block_ms)
        return await _first_answers(parts, block_ms, read_one)

    def _owns_reads(self, owner: tuple[str, ...]) -> bool:
        return any(key[: len(owner)] == owner for key in self._in_flight if isinstance(key, tuple))

    async def _group_read(
        self, owner: tuple[str, ...], parts: list[dict[str, str]], block_ms: int, read_one: ReadOne
    ) -> list[Entry]:
        tasks: list[tuple[Hashable, asyncio.Task[list[Entry]]]] = []
        wanted = {(*owner, tuple(sorted(part))) for part in parts}
        bases = {base_stream(key) for part in parts for key in part}
        # A read of streams no longer asked for (a shard handed over) that answered meanwhile:
        # its entries are already pending on this consumer, so they are handled now (rather
        # than claimed by the shard's new holder after claim_idle_ms). Only a shard of a stream
        # this consumer still reads: one process has several consumers of one group and one
        # consumer name (a service's subscriptions), and another's read is never taken.
        stale = [
            (key, task)
            for key, task in self._in_flight.items()
            if key not in wanted
            and isinstance(key, tuple)
            and key[: len(owner)] == owner
            and bases.intersection(base_stream(stream) for stream in key[len(owner)])
        ]
        tasks.extend((key, task) for key, task in stale if task.done())
        for part in parts:
            key: Hashable = (*owner, tuple(sorted(part)))
            task = self._in_flight.get(key)
            if task is None:
                task = asyncio.create_task(read_one(part, block_ms))
                self._in_flight[key] = task
            tasks.append((key, task))
        await asyncio.wait([task for _, task in tasks], return_when=asyncio.FIRST_COMPLETED)
        results: list[list[Entry] | BaseException] = []
        for done_key, task in tasks:
            if task.done():
                del self._in_flight[done_key]
                results.append(task.exception() or task.result())
        return _gathered(results)

    async def close(self) -> None:
        """Cancel reads still in flight (what they had read stays pending, to be claimed)."""
        tasks = list(self._in_flight.values())
        self._in_flight.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


async def _first_answers(
    parts: list[dict[str, str]], block_ms: int, read_one: ReadOne
) -> list[Entry]:
    tasks = [asyncio.create_task(read_one(part, block_ms)) for part in parts]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    results: list[list[Entry] | BaseException] = []
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if not task.cancelled():
            results.append(task.exception() or task.result())
    return _gathered(results)


def _gathered(results: list[list[Entry] | BaseException]) -> list[Entry]:
    """The entries of every read that answered; a failure is raised only when none did, so
    entries already moved to a pending list are handled now rather than after a claim."""
    entries = [entry for result in results if isinstance(result, list) for entry in result]
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors and not entries:
        raise errors[0]
    return entries
