"""Feeds a ``DeskView`` from Redis, read-only: the streams, stream health and the ledger's P&L.

It never joins a consumer group (plain XRANGE/XREAD), so watching the desk changes nothing any
service sees. On start it reads today's history (from the exchange-local midnight; only the
latest session clock, and the last two minutes of heartbeats), then follows every stream.
``version`` grows on each change; ``wait_change`` lets a page or a terminal wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

from quantrail.bus.bus import EventBus
from quantrail.bus.transport import Entry, TransportError
from quantrail.events.errors import EventDecodeError
from quantrail.events.streams import DEADLETTER, HEALTH
from quantrail.ops.desk_view import DeskView, LedgerPnl

log = logging.getLogger(__name__)

SESSION_CLOCK = "session.clock"
DESK_STREAMS = (
    SESSION_CLOCK, "risk.mode", "exposure.snapshot", "trades.order", "position.state",
    "risk.daily_status", "risk.kill_switch", "system.alert", HEALTH,
)  # fmt: skip
HEALTH_HISTORY_MS = 120_000
FOLLOW_BLOCK_MS = 250
READ_BATCH = 500

LedgerReader = Callable[[str, Mapping[str, Decimal]], tuple[LedgerPnl | None, str]]
"""``(account, marks) -> (figures or None, note)``: the day's P&L from the ledger's SQL."""


class DeskFeed:
    def __init__(
        self,
        bus: EventBus,
        view: DeskView,
        *,
        timezone: str,
        streams_interval_s: float = 1.0,
        ledger: LedgerReader | None = None,
        ledger_interval_s: float = 5.0,
    ) -> None:
        self.bus, self.view = bus, view
        self._zone = ZoneInfo(timezone)
        self._streams_interval_s = streams_interval_s
        self._ledger, self._ledger_interval_s = ledger, ledger_interval_s
        self._positions: dict[str, str] = {}
        self._changed = asyncio.Condition()
        self.version = 0
        self.undecodable = 0
        self.error = ""
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """History, then follow; poll stream health and the ledger alongside, until ``stop()``."""
        await self._retrying(self.load_history)
        tasks = [self._follow(), self._every(self._streams_interval_s, self.poll_streams)]
        if self._ledger is not None:
            tasks.append(self._every(self._ledger_interval_s, self.poll_ledger))
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        """End ``run()`` at its next step. Cancelling alone is not enough: redis-py may turn a
        cancel that lands mid-command into a connection error, or retry the command."""
        self._stopping.set()

    async def wait_change(self, seen: int, within_s: float) -> int:
        """The version once it is past ``seen`` (or as it is after ``within_s`` seconds)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > seen), within_s
                )
            return self.version

    async def _bump(self) -> None:
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    # -- the streams ------------------------------------------------------------------------
    async def load_history(self) -> None:
        now_ms = time.time_ns() // 1_000_000
        entries: list[Entry] = []
        # A sharded stream (bus.shards) is read shard by shard, each to its own last id.
        shards = [(s, shard) for s in DESK_STREAMS for shard in self.bus.shard_streams(s)]
        for stream, shard in shards:
            key = self.bus.names.key(shard)
            last = await self.bus.transport.last_id(key)
            self._positions[key] = last
            if last == "0-0":
                continue
            if stream == SESSION_CLOCK:
                entries += await self.bus.transport.range(key, last, last, 1)
            else:
                start = now_ms - HEALTH_HISTORY_MS if stream == HEALTH else self._midnight_ms()
                entries += await self.bus.iter_range(shard, f"{start}-0", last, READ_BATCH)
        # One order over all streams: when each entry was added (its id), as the services saw.
        for entry in sorted(entries, key=lambda e: _id_key(e.entry_id)):
            self._apply(entry)
        await self._bump()

    def _midnight_ms(self) -> int:
        today = dt.datetime.now(self._zone).date()
        midnight = dt.datetime.combine(today, dt.time(), tzinfo=self._zone)
        return int(midnight.timestamp() * 1000)

    async def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                entries = await self.bus.transport.read(
                    self._positions, READ_BATCH, FOLLOW_BLOCK_MS
                )
            except TransportError as exc:
                _raise_if_cancelled()
                await self._failed(exc)
                continue
            for entry in entries:
                self._positions[entry.stream] = entry.entry_id
                self._apply(entry)
            if entries:
                await self._bump()

    def _apply(self, entry: Entry) -> None:
        try:
            event = self.bus.codec.from_fields(entry.fields)
        except EventDecodeError:
            self.undecodable += 1
            return
        self.view.apply(event)

    # -- what is not an event ---------------------------------------------------------------
    async def poll_streams(self) -> None:
        from quantrail.ops.inspect import stream_infos

        rows = []
        for info in await stream_infos(self.bus):
            lags = [g.lag for g in info.groups if g.lag is not None]
            rows.append({
                "stream": self.bus.names.logical(info.stream), "length": info.length,
                "groups": len(info.groups), "pending": sum(g.pending for g in info.groups),
                "lag": max(lags) if lags else None,
            })  # fmt: skip
        dead = await self.bus.transport.info(self.bus.names.key(DEADLETTER))
        if rows != self.view.streams or dead.length != self.view.dead_letters:
            self.view.set_streams(rows, dead.length)
            await self._bump()

    async def poll_ledger(self) -> None:
        reader = self._ledger
        if reader is None:
            return
        for name in list(self.view.accounts):
            pnl, note = await asyncio.to_thread(reader, name, self.view.marks(name))
            self.view.set_ledger_pnl(name, pnl, note)
        await self._bump()

    async def _every(self, interval_s: float, poll: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            await self._retrying(poll)
            await self._pause(interval_s)

    async def _pause(self, seconds: float) -> None:
        """A pace between polls (not a wait for an effect) that ``stop()`` cuts short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            try:
                await step()
                self.error = ""
                return
            except TransportError as exc:
                _raise_if_cancelled()
                await self._failed(exc)

    async def _failed(self, exc: Exception) -> None:
        if not self.error:
            log.warning("desk feed: cannot read Redis: %s", exc)
        self.error = f"cannot read Redis: {exc}"
        await self._bump()
        await self._pause(1.0)  # back off before the next attempt


def _raise_if_cancelled() -> None:
    """A cancel that reached redis-py mid-command can come back as a connection error: the
    feed must still stop (a swallowed cancel hangs the dashboard's shutdown)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
