"""The ledger service: fills from ``trades.order`` into the books and the SQL store.

Subscriptions (group ``ledger``):

* ``trades.order``: ``OrderPartiallyFilled`` / ``OrderFilled`` go through ``Booker.book`` (the
  same path as ``quantrail ledger book``); other order events are acked untouched. A fill id the
  store already has is acked without booking. ``OrderFillCorrected`` (a venue corrected a
  fill: IB's next execId revision) is stored once per correction id beside the fill and the
  fill's day is re-booked as corrected (``ledger/corrections.py``). The books of an
  account-day live in memory and are reloaded from the store (``load_day``) after a restart,
  a failed write or a correction.
* ``risk.mode``: every ``RiskModeChanged`` is stored (once per event id).
* ``market.quote``: the latest quote mid per symbol and day is kept as its live mark
  (``live_marks``; written at most once a minute per symbol, the rest by a timer and at stop),
  so the EOD report marks open positions at the market, not the prior close.
* ``exposure.snapshot``: samples are thinned to the latest one per account per
  ``exposure_interval_s`` (60 s), so the last sample of the day is always kept.

A Redis that lost its memory (``MemoryWatch``) is said with an ERROR alert: the SQL store is
the record of what was booked, and its fills stay as they are (never deleted or booked again)
whatever ``trades.order`` still holds; the fills whose events died with Redis come back from the
execution service's reconciliation and are booked once (``docs/redis_persistence.md``).
An account with a baseline file in the config gets its day's BefDay snapshot from that file when
the day first shows up (at start, or with a mode change or exposure sample), not only with its
first fill: a day without fills still has its end-of-day report.

All database work runs on one worker thread, in order, so the event loop (heartbeats, other
consumers) never waits on SQL and the store is used by one thread at a time. A database that
cannot be reached surfaces as a ``TransportError``: the consumer waits and retries the event
without counting a delivery, so fills are never dead-lettered because PostgreSQL restarted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TypeVar

from quantrail.bus.delivery import Delivery
from quantrail.bus.transport import TransportError
from quantrail.config import AccountConfig, Config
from quantrail.events.base import Event
from quantrail.events.exposure import ExposureSnapshot
from quantrail.events.market import QuoteUpdated
from quantrail.events.orders import (
    OrderFill,
    OrderFillCorrected,
    OrderFilled,
    OrderPartiallyFilled,
)
from quantrail.events.risk import RiskModeChanged
from quantrail.events.system import AlertTriggered
from quantrail.ledger.befday import ensure_snapshot
from quantrail.ledger.booking import Booked, Booker, fill_from_event, session_day
from quantrail.ledger.corrections import correction_from_event
from quantrail.ledger.journal import ExposureSample, ModeChange
from quantrail.ledger.live_marks import LiveMark, quote_mid
from quantrail.ledger.sql import DatabaseUnavailableError
from quantrail.ledger.store import LedgerStore
from quantrail.money import to_money
from quantrail.risk.baseline import load_baseline
from quantrail.runtime.memory_watch import MemoryWatch
from quantrail.runtime.service import Service, Subscription, Timer

T = TypeVar("T")

ORDERS_STREAM = "trades.order"
MODE_STREAM = "risk.mode"
EXPOSURE_STREAM = "exposure.snapshot"
MEMORY_CHECK_S = 1.0
FILL_KINDS = {OrderFilled.__struct_config__.tag, OrderPartiallyFilled.__struct_config__.tag}
QUOTE_STREAM = "market.quote"
MARK_INTERVAL_NS = 60 * 1_000_000_000


class StoreUnavailableError(TransportError):
    """The ledger's database is unreachable: the bus retries the event later, uncounted."""


class LedgerService(Service):
    """Books fills, mode changes and exposure samples into the ledger's store."""

    name = "ledger"

    def __init__(
        self,
        store_url: str,
        accounts: Sequence[AccountConfig] = (),
        *,
        timezone: str = "America/New_York",
        exposure_interval_s: int = 60,
    ) -> None:
        super().__init__()
        if exposure_interval_s <= 0:
            raise ValueError(f"exposure_interval_s: must be > 0 (value: {exposure_interval_s})")
        self.store_url = store_url
        self.accounts = tuple(accounts)
        self.timezone = timezone
        self.exposure_interval_s = exposure_interval_s
        self.counts = {
            "booked": 0, "corrections": 0, "duplicates": 0, "mode_changes": 0,
            "exposure_samples": 0,
        }  # fmt: skip
        self._store: LedgerStore | None = None
        self._booker: Booker | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._watch: MemoryWatch | None = None
        self._days_with_befday: set[tuple[str, dt.date]] = set()
        self.quotes_seen = 0
        # Live marks: the latest quote mid per symbol, written at most once per symbol per
        # MARK_INTERVAL_NS of event time, the rest by the timer and at stop (nothing is lost).
        self._marks_pending: dict[str, LiveMark] = {}
        self._marks_written_ns: dict[str, int] = {}

    @classmethod
    def from_config(cls, config: Config) -> LedgerService:
        return cls(config.db.url, config.risk.accounts, timezone=config.session.timezone)

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(streams=[ORDERS_STREAM], handler=self.on_order_event, name="fills"),
            Subscription(streams=[MODE_STREAM], handler=self.on_mode_change, name="modes"),
            Subscription(streams=[EXPOSURE_STREAM], handler=self.on_exposure, name="exposure"),
            Subscription(streams=[QUOTE_STREAM], handler=self.on_quote, name="marks"),
        ]

    def timers(self) -> list[Timer]:
        return [
            Timer(MARK_INTERVAL_NS / 1e9, self.flush_marks, "live-marks"),
            Timer(MEMORY_CHECK_S, self.check_memory, "memory", due_ns=self._memory_due),
        ]

    def _memory_due(self) -> int | None:
        return None if self._watch is None else self._watch.due_ns(self.ctx.bus)

    async def on_start(self) -> None:
        """Open the store (migrating it) and check every configured baseline file reads.

        A broken baseline file stops the start-up, naming the file, line and column, rather
        than failing the first fill of the day (which would end up dead-lettered).
        """
        files = {account.name: account.baseline for account in self.accounts}
        for path in files.values():
            if path is not None:
                load_baseline(path)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-db")
        self._store = await self._in_db(LedgerStore.open, self.store_url)
        self._booker = Booker(self._store, timezone=self.timezone, baseline_files=files)
        self._watch = MemoryWatch(self.name, self.ctx.instance, every_s=MEMORY_CHECK_S)
        await self._watch.arm(self.ctx.bus, self.ctx.now_ns())
        for account in files:
            await self._ensure_befday(account, self.ctx.now_ns())

    async def check_memory(self) -> None:
        """Say it when Redis lost its memory: what the store keeps and what the stream has."""
        if self._watch is None or not await self._watch.lost(self.ctx.bus, self.ctx.now_ns()):
            return
        booked = await self._in_db(self.store.count_fills)
        entries = await self.ctx.bus.iter_range(ORDERS_STREAM)
        on_stream = sum(1 for e in entries if e.fields.get(b"kind", b"").decode() in FILL_KINDS)
        await self.ctx.publish(memory_lost_alert(booked, on_stream, self.ctx.now_ns()))

    async def _ensure_befday(self, account: str | None, ts_ns: int) -> None:
        """The account's BefDay snapshot for the day of ``ts_ns``, from its configured baseline
        file (audited ``befday.snapshot.auto``), so a day without fills still reports against
        its real baseline. Accounts without a file are left to their first fill (empty)."""
        baseline = next((a.baseline for a in self.accounts if a.name == account), None)
        day = session_day(ts_ns, self.timezone)
        if account is None or baseline is None or (account, day) in self._days_with_befday:
            return
        await self._in_db(ensure_snapshot, self.store, account, day, baseline, ts_ns)
        self._days_with_befday.add((account, day))

    async def on_stop(self) -> None:
        if self._store is not None:
            await self.flush_marks()
            await self._in_db(self._store.close)
        if self._worker is not None:
            self._worker.shutdown(wait=True)

    @property
    def store(self) -> LedgerStore:
        if self._store is None:
            raise RuntimeError("ledger service is not started")
        return self._store

    @property
    def booker(self) -> Booker:
        if self._booker is None:
            raise RuntimeError("ledger service is not started")
        return self._booker

    async def on_order_event(self, event: Event, delivery: Delivery) -> None:
        if isinstance(event, OrderFillCorrected):
            await self.correct_event(event)
            return
        await self.book_event(event)

    async def correct_event(self, event: OrderFillCorrected) -> bool:
        """Book a venue's correction of a fill (once per correction id): the fill's day is
        re-booked with the corrected values. False for a repeat."""
        correction = correction_from_event(event)
        stored = await self._in_db(self.booker.correct, correction)
        self.counts["corrections" if stored else "duplicates"] += 1
        self.ctx.log.info(
            "fill %s %s corrected as %s: %s", correction.account, correction.fill_id,
            correction.correction_id, "re-booked" if stored else "already booked",
        )  # fmt: skip
        return stored

    async def book_event(self, event: Event) -> Booked | None:
        """Book a fill event; any other order event is not the ledger's business (None)."""
        if not isinstance(event, OrderFill):
            return None
        fill = fill_from_event(event)
        booked = await self._in_db(self.booker.book, fill, event.classification)
        self.counts["booked" if booked.stored else "duplicates"] += 1
        self.ctx.log.debug(
            "fill %s %s %s: %s",
            fill.account,
            fill.fill_id,
            "booked" if booked.stored else "already booked",
            "+".join(leg.name for leg in booked.result.legs),
        )
        return booked

    async def on_mode_change(self, event: Event, delivery: Delivery) -> None:
        if not isinstance(event, RiskModeChanged):
            return
        await self._ensure_befday(event.account, event.ts_event)
        change = ModeChange(event.ts_event, event.mode, event.reason, event.account, event.event_id)
        if await self._in_db(self.store.journal.record_mode_change, change):
            self.counts["mode_changes"] += 1

    async def on_exposure(self, event: Event, delivery: Delivery) -> None:
        if not isinstance(event, ExposureSnapshot):
            return
        await self._ensure_befday(event.account, event.ts_event)
        sample = exposure_sample(event)
        record = self.store.journal.record_exposure_sample
        if await self._in_db(record, sample, self.exposure_interval_s):
            self.counts["exposure_samples"] += 1

    async def on_quote(self, event: Event, delivery: Delivery) -> None:
        """Keep the quote's mid as the symbol's latest live mark (the EOD report's mark)."""
        if not isinstance(event, QuoteUpdated):
            return
        mid = quote_mid(event.bid, event.ask)
        if mid is None:
            return
        self.quotes_seen += 1
        held = self._marks_pending.get(event.symbol)
        if held is None or event.ts_event >= held.ts_ns:
            self._marks_pending[event.symbol] = LiveMark(event.symbol, event.ts_event, mid)
        written = self._marks_written_ns.get(event.symbol)
        if written is None or event.ts_event - written >= MARK_INTERVAL_NS:
            await self.flush_marks([event.symbol])

    async def flush_marks(self, symbols: Sequence[str] | None = None) -> None:
        """Write the pending live marks (of ``symbols``, else all) to the store."""
        for symbol in list(symbols if symbols is not None else self._marks_pending):
            mark = self._marks_pending.pop(symbol, None)
            if mark is None:
                continue
            day = session_day(mark.ts_ns, self.timezone)
            await self._in_db(self.store.live_marks.record, day, mark)
            self._marks_written_ns[symbol] = mark.ts_ns

    def health(self) -> dict[str, object]:
        return dict(self.counts)

    async def _in_db(self, work: Callable[..., T], *args: object) -> T:
        """Run store work on the database thread; an unreachable database is a transport error."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, functools.partial(work, *args))
        except DatabaseUnavailableError as exc:
            raise StoreUnavailableError(str(exc)) from exc


def exposure_sample(event: ExposureSnapshot) -> ExposureSample:
    """The journal's sample of an exposure snapshot (percentages kept as exact decimals)."""
    return ExposureSample(
        ts_ns=event.ts_event,
        equity=event.equity,
        long_notional=event.long_notional,
        short_notional=event.short_notional,
        gross_pct=_pct(event.gross_exposure_pct),
        net_pct=_pct(event.net_exposure_pct),
        account=event.account,
    )


def memory_lost_alert(booked: int, on_stream: int, now_ns: int) -> AlertTriggered:
    """The ERROR alert of a ledger that found Redis emptied."""
    message = (
        f"Redis lost its memory (restarted empty?): {ORDERS_STREAM} now holds {on_stream} fill "
        f"events and the ledger's group was re-created; the {booked} fills booked in SQL are "
        "kept (SQL is the record, nothing is deleted or booked again); fills whose events were "
        "lost are published again by the execution service and booked once"
    )
    alert_id = f"ledger:redis_memory_lost:{now_ns}"
    details = {"fills_booked": booked, "fill_events_on_stream": on_stream}
    return AlertTriggered(
        ts_event=now_ns, alert_id=alert_id, idempotency_key=alert_id, source="ledger",
        severity="ERROR", message=message, details=details,
    )  # fmt: skip


def _pct(value: float) -> Decimal:
    return to_money(value)  # via repr: 121.5 stays 121.5
