"""The daily risk status and kill switch service (``killswitch``).

Reads (broadcasts: every instance sees everything) ``trades.order`` fills, market prints, ticks
and quotes, ``position.state`` and ``risk.kill_switch``; keeps each configured account's
``DailyPnl``; publishes ``risk.daily_status.updated`` every ``kill_switch.status_interval_s``
and on every ``position.state.closed``. When an account's daily P&L % falls to or below
``risk_kernel.daily_loss_limit_pct`` it activates the kill switch for that account once per
date: the activation is written to SQL first (``kill_state``), then published with a CRITICAL
alert and an audit record. On start it loads the SQL state, books today's fills from
``trades.order`` and publishes again the last activation or reset of an account that the stream
no longer shows (Redis restarted empty, or the publish after the SQL write failed).
While it runs, a Redis found emptied (``MemoryWatch``) gets the same repair at once, with an
ERROR alert (``docs/redis_persistence.md``).
``docs/kill_switch.md`` has the rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from quantrail.audit.db_thread import DbThread
from quantrail.audit.record import audit_record
from quantrail.bus.cursor import ShardedCursor, StreamStart
from quantrail.bus.delivery import Delivery
from quantrail.config import Config
from quantrail.events import (
    AlertTriggered,
    Event,
    KillSwitchActivated,
    KillSwitchReset,
    PositionClosed,
    PriceTicked,
    QuoteUpdated,
    RiskDailyStatusUpdated,
    TradePrinted,
)
from quantrail.events.orders import OrderFill, OrderFillCorrected
from quantrail.money import to_money
from quantrail.risk.baseline import load_baseline
from quantrail.risk.daily_pnl import DailyPnl, breached, budget_remaining
from quantrail.risk.kill_state import (
    DAILY_LOSS,
    KillRecord,
    KillState,
    KillStateStore,
    daily_loss_key,
)
from quantrail.risk.print_run import LimitWatch, take_prints
from quantrail.runtime.market_fold import MarketFold, Released, quiet_unless
from quantrail.runtime.memory_watch import MemoryWatch
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.session.calendar import local_date

log = logging.getLogger("quantrail.killswitch")

NAME = "killswitch"
KILL_STREAM = "risk.kill_switch"
ORDERS_STREAM = "trades.order"
QUOTES = "market.quote"
TICKS = "market.tick"
MARKET_STREAMS = ("market.trade", QUOTES, TICKS)
POLICY = "docs/kill_switch.md"
MEMORY_CHECK_S = 1.0


class KillSwitchService(Service):
    name = NAME

    def __init__(self, config: Config) -> None:
        super().__init__()
        self._config = config
        self.limit_pct = to_money(config.risk_kernel.daily_loss_limit_pct)
        self.flatten = config.kill_switch.flatten
        self._zone = ZoneInfo(config.session.timezone)
        self._db = DbThread("killswitch-db")
        self._store: KillStateStore | None = None
        self.state = KillState()
        self.days: dict[str, DailyPnl] = {}
        self._limit_seen: tuple[tuple[int, int], bool] | None = None
        self._watches: dict[str, LimitWatch] = {}
        self.session_date = ""
        self._fills: set[tuple[str, str]] = set()
        self._unpublished: list[Event] = []
        self.ticks = 0  # status timer runs, for tests and health
        self._sql_only: set[str] = set()  # event ids seen in SQL, not yet on the stream
        self._starts: dict[str, StreamStart] = {}
        # Handlers of different streams run concurrently; the check-then-activate and the
        # publishing of what SQL holds must not interleave (one activation, published once).
        self._lock = asyncio.Lock()
        self._watch: MemoryWatch | None = None

    # -- wiring ---------------------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        def broadcast(stream: str, handler: Any) -> Subscription:
            start = self._starts.get(stream, "$")
            return Subscription([stream], handler, name=stream, broadcast=True, start=start)

        return [
            broadcast(ORDERS_STREAM, self.on_order),
            *(
                self._market_reader(stream, broadcast(stream, self.on_market))
                for stream in MARKET_STREAMS
            ),
            broadcast("position.state", self.on_position),
            broadcast(KILL_STREAM, self.on_kill_event),
        ]

    def timers(self) -> list[Timer]:
        return [
            Timer(self._config.kill_switch.status_interval_s, self.on_timer, "status"),
            Timer(MEMORY_CHECK_S, self.check_memory, "memory", due_ns=self._memory_due),
        ]

    def _memory_due(self) -> int | None:
        return None if self._watch is None else self._watch.due_ns(self.ctx.bus)

    def health(self) -> dict[str, object]:
        active = [a for a in self.state.accounts() if self.state.active(a) is not None]
        return {"session_date": self.session_date, "kill_switch_active": active}

    # -- start: SQL state, today's fills, the stream put right ----------------------------------

    async def on_start(self) -> None:
        self._store = await self._db.run(KillStateStore.open, self._config.db.url)
        self.state = KillState(await self._db.run(self._store.records))
        self._new_day(self._date_of(self.ctx.now_ns()))
        for event in await self._replay(ORDERS_STREAM):
            if self._date_of(event.ts_event) != self.session_date:
                continue
            if isinstance(event, OrderFill):
                self._book(event)
            elif isinstance(event, OrderFillCorrected):
                self._correct(event)
        for stream in MARKET_STREAMS:
            self._starts[stream] = (await ShardedCursor.at_end(self.ctx.bus, stream)).positions
        shown = await self._replay(KILL_STREAM)
        for event in shown:
            if isinstance(event, KillSwitchActivated | KillSwitchReset):
                await self._remember(event)
        await self._republish_lost(shown)
        for account in sorted(self.days):
            await self._check(account, None)
        self._watch = MemoryWatch(NAME, self.ctx.instance, every_s=MEMORY_CHECK_S)
        await self._watch.arm(self.ctx.bus, self.ctx.now_ns())

    async def check_memory(self) -> None:
        """Redis forgot everything: the switch events SQL holds go back on the stream now (a
        restarted execution service replays them), said with an ERROR alert."""
        watch, now = self._watch, self.ctx.now_ns()
        if watch is None or not await watch.lost(self.ctx.bus, now):
            return
        async with self._lock:
            active = [a for a in self.state.accounts() if self.state.active(a) is not None]
            message = (
                "Redis lost its memory (restarted empty?): the kill switch state is kept in SQL; "
                f"switch events published again for the accounts whose stream lost them "
                f"(active: {', '.join(active) or 'none'})"
            )
            alert_id = f"{NAME}:redis_memory_lost:{now}"
            await self.ctx.publish(
                AlertTriggered(
                    ts_event=now, alert_id=alert_id, idempotency_key=alert_id, source=NAME,
                    severity="ERROR", message=message, details={"active": active},
                )
            )  # fmt: skip
            await self._republish_lost(await self._replay(KILL_STREAM))

    async def on_stop(self) -> None:
        if self._store is not None:
            await self._db.run(self._store.close)
        self._db.shutdown()

    async def _replay(self, stream: str) -> list[Event]:
        cursor = ShardedCursor(self.ctx.bus, stream)  # every shard of trades.order
        events = await cursor.read_new()
        self._starts[stream] = cursor.positions
        return events

    async def _republish_lost(self, shown: list[Event]) -> None:
        """An account whose last switch event on the stream is not its last one in SQL gets the
        SQL one again (the same event: same id, same idempotency key)."""
        last_shown: dict[str, str] = {}
        kinds: dict[str, bool] = {}
        for event in shown:
            if isinstance(event, KillSwitchActivated | KillSwitchReset) and event.account:
                last_shown[event.account] = event.event_id
                kinds[event.account] = isinstance(event, KillSwitchActivated)
        lost: list[Event] = []
        for account in self.state.accounts():
            record = self.state.last(account)
            assert record is not None
            if last_shown.get(account) == record.event.event_id:
                continue
            if self.state.active(account) is not None or kinds.get(account, False):
                # Its audit record may have gone with the stream before the archiver took it;
                # the same decision id again is stored at most once.
                inputs = {"session_date": record.session_date, "published_again": True}
                lost.extend([record.event, kill_audit(record, None, inputs)])
        if lost:
            log.warning("publishing again %d kill switch events the stream lost", len(lost) // 2)
            await self.ctx.publish_batch(lost)

    # -- handlers -------------------------------------------------------------------------------

    async def on_order(self, event: Event, _delivery: Delivery) -> None:
        booked = isinstance(event, OrderFill) and self._book(event)
        if booked or (isinstance(event, OrderFillCorrected) and self._correct(event)):
            await self._check(event.account or "", event)

    async def on_market(self, event: Event, _delivery: Delivery) -> None:
        if isinstance(event, TradePrinted | PriceTicked):
            for day in self.days.values():
                day.on_print(event.symbol, event.price)
        elif isinstance(event, QuoteUpdated):
            for day in self.days.values():
                day.on_quote(event.symbol, event.bid, event.ask)
        else:
            return
        for account in sorted(self.days):
            if event.symbol in self.days[account].holdings:
                await self._check(account, event)

    def _market_reader(self, stream: str, reader: Subscription) -> Subscription:
        """Quotes and ticks may come in runs (``MarketFold``; a mark moves no timer)."""
        if stream == QUOTES:
            return dataclasses.replace(
                reader,
                fold=MarketFold(self.quiet_quotes, self.fold_quotes, pokes=False, idle=self.idle),
            )
        if stream == TICKS:
            released = Released(self.quiet_held_ticks, self.fold_held_ticks)
            fold = MarketFold(self.quiet_ticks, self.fold_ticks, pokes=False, released=released)
            return dataclasses.replace(reader, fold=fold)
        return reader

    def quiet_quotes(self, quotes: Sequence[QuoteUpdated]) -> int:
        """Quotes of a symbol no account holds, or holds marked by its prints (its quote
        mids then move nothing), while no account's day is at its limit (``MarketFold``)."""
        return self._quiet(quotes, mids_move=False)

    def idle(self) -> bool:
        """No account holds a position, and none whose day is at its limit could still fire
        on a flat symbol's price: no price sets anything off (``MarketFold.idle``)."""
        if self._lock.locked():
            return False
        for account, day in self.days.items():
            if any(holding.qty for holding in day.holdings.values()):
                return False
            if day.holdings and self._at_limit(day) and not self._has_fired(account):
                return False
        return True

    def quiet_ticks(self, ticks: Sequence[PriceTicked]) -> int:
        """Ticks of a symbol no account holds, while no account's day is at its limit: a
        tick of a held symbol is its mark (``MarketFold``)."""
        return self._quiet(ticks, mids_move=True)

    def quiet_held_ticks(self, ticks: Sequence[PriceTicked], _at_ns: Sequence[int]) -> int:
        """``quiet_ticks``, and ticks of held symbols too while each leaves every holding
        account's day above its limit (or its switch has fired already): ``_check`` then
        does nothing. Each is figured after the ticks before it (``risk/print_run.py``)."""
        if self._lock.locked():
            return 0
        watches = [
            (day.holdings, self._limit_watch(account, day))
            for account, day in self.days.items()
            if day.holdings and not self._has_fired(account)
        ]
        if not watches:
            return len(ticks)
        for index, tick in enumerate(ticks):
            for holdings, watch in watches:
                if tick.symbol in holdings and watch.reached_by(tick.symbol, tick.price):
                    return index
        return len(ticks)

    def fold_held_ticks(self, ticks: Sequence[PriceTicked], _at_ns: Sequence[int]) -> None:
        """Quiet ticks at once: held symbols' as ``on_print`` one by one would leave the day
        (``take_prints``), each symbol's last as its print mark."""
        days = [day for day in self.days.values() if day.holdings]
        if days:
            prints = [(tick.symbol, tick.price) for tick in ticks]
            for day in days:
                take_prints(day, prints)
        self.fold_ticks(ticks)  # the last of each symbol: a held one's again, as it is

    def _limit_watch(self, account: str, day: DailyPnl) -> LimitWatch:
        """The account's watch of its limit over runs of ticks, kept while it holds
        (``LimitWatch.again``)."""
        kept = self._watches.get(account)
        watch = kept.again(day) if kept is not None else None
        if watch is None:
            watch = self._watches[account] = LimitWatch(day, self.limit_pct)
        return watch

    def _has_fired(self, account: str) -> bool:
        """Whether a breach changes nothing more today (``_check_locked``)."""
        state = self.state
        return bool(state.active(account)) or state.fired_on(account, self.session_date)

    def _quiet(self, prices: Sequence[QuoteUpdated | PriceTicked], *, mids_move: bool) -> int:
        if self._lock.locked():
            return 0
        if not any(day.holdings for day in self.days.values()):
            return len(prices)  # no symbol is anybody's: ``on_market`` checks nothing
        at_limit: dict[str, bool] = {}

        def busy(symbol: str) -> bool:
            for account, day in self.days.items():
                holding = day.holdings.get(symbol)
                if holding is None:
                    continue
                if holding.qty and (mids_move or not day.marked_by_prints(symbol)):
                    return True  # the price moves the day's P&L
                if account not in at_limit:
                    at_limit[account] = self._at_limit(day)
                if at_limit[account]:
                    return True
            return False

        return quiet_unless(prices, busy)

    def _at_limit(self, day: DailyPnl) -> bool:
        """Whether the day's P&L is at its limit (figured again only when it may have moved)."""
        key = (id(day), day.revision)
        if self._limit_seen is None or self._limit_seen[0] != key:
            self._limit_seen = (key, breached(day.figures().pnl_pct, self.limit_pct))
        return self._limit_seen[1]

    def fold_quotes(self, quotes: Sequence[QuoteUpdated]) -> None:
        """Quiet quotes at once: each symbol's last usable quote is its mark (each replaced
        the one before; none moved a figure)."""
        for quote in _last_usable(quotes):
            for day in self.days.values():
                day.on_quote(quote.symbol, quote.bid, quote.ask)

    def fold_ticks(self, ticks: Sequence[PriceTicked]) -> None:
        """Quiet ticks at once: each symbol's last usable price is its print mark."""
        last = {t.symbol: t for t in ticks if t.price.is_finite() and t.price > 0}
        for tick in last.values():
            for day in self.days.values():
                day.on_print(tick.symbol, tick.price)

    async def on_position(self, event: Event, _delivery: Delivery) -> None:
        if isinstance(event, PositionClosed) and event.account in self.days:
            await self.ctx.publish(self.status(event.account, self.ctx.now_ns(), event))

    async def on_kill_event(self, event: Event, _delivery: Delivery) -> None:
        """A manual activation or a reset (``quantrail killswitch``), or our own coming back."""
        if isinstance(event, KillSwitchActivated | KillSwitchReset):
            await self._remember(event)

    async def on_timer(self) -> None:
        self.ticks += 1
        now = self.ctx.now_ns()
        self._roll(now)
        await self._sync_from_sql()
        await self._flush()
        for account in sorted(self.days):  # a check that failed (database away) is retried
            await self._check(account, None)
        statuses = [self.status(account, now, None) for account in sorted(self.days)]
        await self.ctx.publish_batch(statuses)

    # -- the day and the trigger ----------------------------------------------------------------

    def _book(self, fill: OrderFill) -> bool:
        """Book a fill of a configured account once; False for a repeat or a stranger."""
        account = fill.account or ""
        if account not in self.days or (account, fill.fill_id) in self._fills:
            return False
        if self._date_of(fill.ts_event) < self.session_date:
            log.warning("fill %s of an earlier day ignored", fill.fill_id)
            return False
        self._roll(fill.ts_event)
        self._fills.add((account, fill.fill_id))
        day = self.days[account]
        day.on_fill(fill.symbol, fill.side, fill.last_qty, fill.last_price, fill.fees)
        return True

    def _correct(self, correction: OrderFillCorrected) -> bool:
        """A venue's correction of a fill booked today, once per correction id; a correction
        of a fill this day never booked (an earlier day's) is not today's P&L."""
        account = correction.account or ""
        key = (account, correction.correction_id)
        if account not in self.days or key in self._fills:
            return False
        if (account, correction.fill_id) not in self._fills:
            log.warning("correction %s of fill %s not booked today: ignored",
                        correction.correction_id, correction.fill_id)  # fmt: skip
            return False
        self._fills.add(key)
        was = (correction.previous_qty, correction.previous_price, correction.previous_fees)
        now = (correction.last_qty, correction.last_price, correction.fees)
        self.days[account].on_correction(correction.symbol, correction.side, was, now)
        return True

    async def _check(self, account: str, cause: Event | None) -> None:
        async with self._lock:
            await self._check_locked(account, cause)

    async def _check_locked(self, account: str, cause: Event | None) -> None:
        day = self.days.get(account)
        if day is None:
            return
        figures = day.figures()
        if not breached(figures.pnl_pct, self.limit_pct):
            return
        if self._has_fired(account):
            return
        await self._activate(account, figures.pnl_pct, cause)

    async def _activate(self, account: str, pnl_pct: Decimal, cause: Event | None) -> None:
        now = self.ctx.now_ns()
        key = daily_loss_key(account, self.session_date)
        action = "cancel all working orders" + (", flatten every position" if self.flatten else "")
        value, limit = round(float(pnl_pct), 4), float(self.limit_pct)
        activation = KillSwitchActivated(
            ts_event=now, account=account, idempotency_key=key, source=NAME,
            correlation_id=key, causation_id=cause.event_id if cause is not None else "",
            trigger=DAILY_LOSS, trigger_value=value, threshold=limit, severity="CRITICAL",
            action_taken=action, human_override_required=True, flatten=self.flatten,
            activated_by=NAME,
        )  # fmt: skip
        record = KillRecord(activation, self.session_date)
        assert self._store is not None
        await self._db.run(self._store.save, record)  # durable before anyone is told
        self.state.apply(record)
        message = f"kill switch activated for {account}: daily loss {value:.2f}% <= {limit:.2f}%"
        alert = AlertTriggered(
            ts_event=now, account=account, idempotency_key=f"{key}:alert", source=NAME,
            correlation_id=key, causation_id=activation.event_id, alert_id=f"{key}:alert",
            severity="CRITICAL", message=message,
            details={"trigger_value": value, "threshold": limit, "flatten": self.flatten},
        )  # fmt: skip
        audit = kill_audit(record, cause, self.day_inputs(account))
        self._unpublished.extend([activation, alert, audit])
        await self._flush_locked()

    async def _flush(self) -> None:
        async with self._lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        """Publish what SQL has and the stream has not yet (kept for the next try on failure)."""
        if self._unpublished:
            await self.ctx.publish_batch(self._unpublished)
            self._unpublished = []

    async def _sync_from_sql(self) -> None:
        """A row another writer put in SQL (a verb) that has not reached the stream by the next
        tick either (its publish failed) is published here; one tick of grace keeps a verb's
        own publish from being doubled."""
        assert self._store is not None
        records = await self._db.run(self._store.records)
        async with self._lock:
            for record in records:
                event_id = record.event.event_id
                if self.state.knows(event_id):
                    continue
                if event_id not in self._sql_only:
                    self._sql_only.add(event_id)
                    continue
                self._sql_only.discard(event_id)
                self.state.apply(record)
                inputs = {"session_date": record.session_date, "published_again": True}
                self._unpublished.extend([record.event, kill_audit(record, None, inputs)])

    async def _remember(self, event: KillSwitchActivated | KillSwitchReset) -> None:
        async with self._lock:
            if self.state.knows(event.event_id) or not event.account:
                return
            record = KillRecord(event, self._date_of(event.ts_event))
            assert self._store is not None
            await self._db.run(self._store.save, record)
            self.state.apply(record)

    def _roll(self, ts_ns: int) -> None:
        date = self._date_of(ts_ns)
        if date > self.session_date:
            self._new_day(date)

    def _new_day(self, date: str) -> None:
        if self.days:
            self.days = {account: day.roll() for account, day in self.days.items()}
        else:
            for account in self._config.risk.accounts:
                rows = load_baseline(account.baseline) if account.baseline else []
                self.days[account.name] = DailyPnl(account.name, account.equity, rows)
        self.session_date = date
        self._fills.clear()

    def _date_of(self, ts_ns: int) -> str:
        return local_date(ts_ns, self._zone).isoformat()

    # -- events out -----------------------------------------------------------------------------

    def day_inputs(self, account: str) -> dict[str, Any]:
        figures = self.days[account].figures()
        return {
            "session_date": self.session_date,
            "daily_pnl_usd": str(figures.pnl),
            "daily_pnl_percent": float(figures.pnl_pct),
            "realized_pnl": str(figures.realized),
            "unrealized_pnl": str(figures.unrealized),
            "fees": str(figures.fees),
            "limit_pct": float(self.limit_pct),
        }

    def status(self, account: str, now: int, cause: Event | None) -> RiskDailyStatusUpdated:
        figures = self.days[account].figures()
        envelope: dict[str, Any] = cause.caused() if cause is not None else {}
        return RiskDailyStatusUpdated(
            ts_event=now, account=account, source=NAME,
            idempotency_key=f"daily-status:{account}:{now}", **envelope,
            session_date=self.session_date,
            daily_pnl_percent=float(figures.pnl_pct),
            daily_pnl_usd=figures.pnl,
            open_positions=figures.open_positions,
            total_exposure_percent=float(figures.gross_exposure_pct),
            drawdown_from_hwm=float(figures.drawdown_pct),
            risk_budget_remaining=float(budget_remaining(figures.pnl_pct, self.limit_pct)),
            equity=figures.equity,
            high_water_mark=figures.high_water_mark,
            realized_pnl=figures.realized,
            unrealized_pnl=figures.unrealized,
            fees=figures.fees,
            kill_switch_active=self.state.active(account) is not None,
        )  # fmt: skip


def kill_audit(record: KillRecord, cause: Event | None, inputs: dict[str, Any]) -> Event:
    """The audit record of an activation or a reset (one decision id per switch event)."""
    event = record.event
    output: dict[str, Any] = {"action": record.action, "account": record.account}
    if isinstance(event, KillSwitchActivated):
        output |= {"trigger": event.trigger, "trigger_value": event.trigger_value,
                   "threshold": event.threshold, "flatten": event.flatten}  # fmt: skip
    return audit_record(
        decision_id=f"killswitch:{record.action.lower()}:{event.event_id}",
        service=NAME,
        decision_type=f"kill_switch_{record.action.lower()}",
        ts_ns=event.ts_event,
        account=record.account,
        cause=cause,
        correlation_id=event.correlation_id or event.event_id,
        input_summary=inputs,
        output=output,
        reasoning=f"{record.account}: {record.describe()}",
        policy_references=[POLICY],
    )


def build_killswitch_service(config: Config) -> Service:
    return KillSwitchService(config)


def _last_usable(quotes: Sequence[QuoteUpdated]) -> list[QuoteUpdated]:
    """Each symbol's last quote whose mid is a mark (``DailyPnl.usable_quote``), found from
    the end (a run's last quote is mostly it)."""
    symbols = {quote.symbol for quote in quotes}
    last: dict[str, QuoteUpdated] = {}
    for quote in reversed(quotes):
        if quote.symbol not in last and DailyPnl.usable_quote(quote.bid, quote.ask):
            last[quote.symbol] = quote
            if len(last) == len(symbols):
                break
    return list(last.values())
