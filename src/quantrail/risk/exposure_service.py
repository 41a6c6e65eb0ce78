"""The positions and exposure service: baseline + fills + prices -> exposure snapshots per account.

* On start it loads each account's baseline file (the start-of-day positions; the prior close is
  the mark until the symbol prints), then **replays today's history** of ``trades.order``,
  ``market.quote`` and ``market.trade`` from the streams before it publishes anything, so a
  restarted service has today's fills and last prices, never a baseline-only book. It then
  follows those streams with broadcast readers from where the replay stopped (its state is a
  projection of the streams, rebuilt on every start: nothing to ack).
* "Today" starts at midnight in the exchange's zone; older entries are ignored (the baseline
  already holds them).
* Fills (``last_qty`` at ``last_price``) move the ``PositionBook`` once per ``fill_id``; the
  order lifecycle gives the open orders (remaining = ``leaves_qty``; terminal states drop them and
  are final) for potential exposure (see ``AccountBook``).
* It publishes ``ExposureSnapshot`` per account every ``interval_s`` and when an account's
  positions or open orders change. Changes are coalesced: a change marks the account dirty and
  one flush task, run when the consumer yields (after the batch in hand), publishes one snapshot
  per dirty account. Price moves alone wait for the timer.
* Latest state: ``state:exposure:<ACCOUNT>`` (the snapshot's figures as exact strings) and
  ``state:positions:<ACCOUNT>`` (symbol -> signed qty, open positions only).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quantrail.bus.cursor import StreamStart, replay_history
from quantrail.bus.delivery import Delivery
from quantrail.config import AccountConfig
from quantrail.events.base import Event
from quantrail.events.exposure import BucketExposure, ExposureSnapshot, GroupExposure
from quantrail.events.orders import OrderEvent
from quantrail.marketdata.truth import TruthTickFilter
from quantrail.risk.account_book import AccountBook
from quantrail.risk.exposure import ExposureFigures, compute_exposure
from quantrail.risk.market_state import MarketState
from quantrail.risk.rules import BucketLimit
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.session.phases import to_utc_ns
from quantrail.vocab import Bucket

log = logging.getLogger("quantrail.risk.exposure")

ORDERS = "trades.order"
QUOTES = "market.quote"
TRADES = "market.trade"
DEFAULT_TIMEZONE = "America/New_York"


def day_start_ns(ts_ns: int, timezone: str) -> int:
    """Midnight of ``ts_ns``'s local date in ``timezone``, as int ns UTC."""
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=zone)
    return to_utc_ns(datetime(local.year, local.month, local.day, tzinfo=zone))


def accounts_by_name(accounts: Sequence[AccountConfig]) -> dict[str, AccountConfig]:
    names = [account.name for account in accounts]
    if len(set(names)) != len(names):
        raise ValueError(f"accounts: names must be unique, got {names}")
    return {account.name: account for account in accounts}


def require_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {timezone!r}") from None
    return timezone


def require_interval(field: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: must be a number of seconds > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{field}: must be a finite number of seconds > 0, got {value!r}")
    return float(value)


class ExposureService(Service):
    """Positions per account and symbol, and their exposure snapshots (see module doc)."""

    name = "exposure"

    def __init__(
        self,
        accounts: Sequence[AccountConfig],
        groups: Mapping[str, str],
        bucket_limits: Mapping[Bucket, BucketLimit],
        interval_s: float = 15.0,
        *,
        timezone: str = DEFAULT_TIMEZONE,
        truth_filter: TruthTickFilter | None = None,
    ) -> None:
        super().__init__()
        self._accounts = accounts_by_name(accounts)
        missing = [b.value for b in Bucket if b not in bucket_limits]
        if missing:
            raise ValueError(f"bucket_limits: every bucket needs limits, missing {missing}")
        self._groups = dict(groups)
        self._limits = dict(bucket_limits)
        self._interval_s = require_interval("interval_s", interval_s)
        self._timezone = require_timezone(timezone)
        self._market = MarketState(truth_filter)
        self._books: dict[str, AccountBook] = {}
        self._since_ns = 0
        self._starts: dict[str, StreamStart] = {}
        self._dirty: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None

    # --- what others may read ------------------------------------------------------------------
    def book(self, account: str) -> AccountBook:
        if account not in self._books:
            raise KeyError(f"account: not served by {self.name}, got {account!r}")
        return self._books[account]

    @property
    def market(self) -> MarketState:
        return self._market

    # --- lifecycle -----------------------------------------------------------------------------
    async def on_start(self) -> None:
        self._since_ns = day_start_ns(self.ctx.now_ns(), self._timezone)
        self._books = {name: AccountBook.load(cfg) for name, cfg in self._accounts.items()}
        for stream in (ORDERS, QUOTES, TRADES):
            self._starts[stream] = await replay_history(self.ctx.bus, stream, self._take)
        self._dirty.clear()
        await self._publish(sorted(self._books))

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(
                streams=[stream],
                handler=self._on_event,
                name=stream,
                broadcast=True,
                start=self._starts.get(stream, "0"),
            )
            for stream in (ORDERS, QUOTES, TRADES)
        ]

    def timers(self) -> list[Timer]:
        return [Timer(self._interval_s, self._on_timer, "exposure-snapshot")]

    async def on_stop(self) -> None:
        if self._flush_task is not None:
            await asyncio.gather(self._flush_task, return_exceptions=True)

    # --- input ---------------------------------------------------------------------------------
    async def _on_event(self, event: Event, _delivery: Delivery) -> None:
        self._take(event)

    def _take(self, event: Event) -> None:
        if event.ts_event < self._since_ns:
            return  # before today: the baseline already holds it
        if self._market.apply(event):
            return
        if isinstance(event, OrderEvent):
            book = self._books.get(event.account or "")
            if book is not None and book.apply(event):
                self._mark_dirty(book.account)

    def _mark_dirty(self, account: str) -> None:
        self._dirty.add(account)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._dirty:
            accounts = sorted(self._dirty)
            self._dirty.clear()
            try:
                await self._publish(accounts)
            except Exception:  # the timer publishes again; a lost flush must not go unseen
                log.exception("exposure snapshot after a change not published: %s", accounts)

    async def _on_timer(self) -> None:
        self._dirty.clear()
        await self._publish(sorted(self._books))

    # --- output --------------------------------------------------------------------------------
    async def _publish(self, accounts: Sequence[str]) -> None:
        if not accounts:
            return
        now = self.ctx.now_ns()
        snapshots = [self.snapshot(account, now) for account in accounts]
        await self.ctx.publish_batch(snapshots)
        for snapshot in snapshots:
            await self.ctx.bus.set_state(f"exposure:{snapshot.account}", _state_of(snapshot))
            book = self._books[snapshot.account]
            positions = {p.symbol: str(p.qty) for p in book.positions.open_positions()}
            await self.ctx.bus.set_state(f"positions:{snapshot.account}", positions)

    def snapshot(self, account: str, now_ns: int) -> ExposureSnapshot:
        """The account's exposure at ``now_ns`` with the marks known now."""
        book = self.book(account)
        orders = book.open_orders()
        symbols = {p.symbol for p in book.positions.open_positions()} | {o.symbol for o in orders}
        prices, as_of = self._marks(book, sorted(symbols))
        valued = [o for o in orders if o.limit_price is not None or o.symbol in prices]
        if len(valued) < len(orders):
            log.warning("%s: market orders without any price left out of potential", account)
        figures = compute_exposure(
            account,
            self._accounts[account].equity,
            book.positions.positions(),
            prices,
            valued,
            self._limits,
            self._groups,
        )
        return _to_event(figures, now_ns, as_of, self.name)

    def _marks(self, book: AccountBook, symbols: Sequence[str]) -> tuple[dict[str, Decimal], int]:
        """Market marks, else the book's fallback (prior close, then our last fill price)."""
        prices: dict[str, Decimal] = {}
        as_of = self._since_ns
        for symbol in symbols:
            mark = self._market.mark(symbol)
            if mark is not None:
                prices[symbol] = mark.price
                as_of = max(as_of, mark.ts_ns)
                continue
            fallback = book.fallback_price(symbol)
            if fallback is not None:
                prices[symbol] = fallback
        return prices, as_of


def _to_event(
    figures: ExposureFigures, now_ns: int, as_of_ns: int, source: str
) -> ExposureSnapshot:
    """Exact money stays Decimal; percentages become the event's floats only here."""
    return ExposureSnapshot(
        ts_event=now_ns,
        source=source,
        account=figures.account,
        equity=figures.equity,
        long_notional=figures.long_notional,
        short_notional=figures.short_notional,
        gross_exposure_pct=float(figures.gross_exposure_pct),
        long_gross_pct=float(figures.long_gross_pct),
        short_gross_pct=float(figures.short_gross_pct),
        net_exposure_pct=float(figures.net_exposure_pct),
        potential_gross_pct=float(figures.potential_gross_pct),
        buckets={
            bucket.value: BucketExposure(
                current=b.current,
                current_pct=float(b.current_pct),
                potential=b.potential,
                potential_pct=float(b.potential_pct),
                target=b.target,
                target_pct=float(b.target_pct),
                max=b.max,
                max_pct=float(b.max_pct),
            )
            for bucket, b in figures.buckets.items()
        },
        group_exposure={
            group: GroupExposure(
                long_notional=g.long_notional,
                short_notional=g.short_notional,
                gross_pct=float(g.gross_pct),
            )
            for group, g in figures.group_exposure.items()
        },
        open_orders_potential=figures.open_orders_potential,
        open_orders_potential_pct=float(figures.open_orders_potential_pct),
        prices_as_of_ns=as_of_ns,
    )


def _state_of(snapshot: ExposureSnapshot) -> dict[str, str]:
    """The snapshot's figures as strings for ``state:exposure:<ACCOUNT>``."""
    state = {
        "ts_ns": str(snapshot.ts_event),
        "event_id": snapshot.event_id,
        "equity": str(snapshot.equity),
        "long_notional": str(snapshot.long_notional),
        "short_notional": str(snapshot.short_notional),
        "gross_exposure_pct": repr(snapshot.gross_exposure_pct),
        "long_gross_pct": repr(snapshot.long_gross_pct),
        "short_gross_pct": repr(snapshot.short_gross_pct),
        "net_exposure_pct": repr(snapshot.net_exposure_pct),
        "potential_gross_pct": repr(snapshot.potential_gross_pct),
        "open_orders_potential": str(snapshot.open_orders_potential),
        "prices_as_of_ns": str(snapshot.prices_as_of_ns),
    }
    for name, bucket in snapshot.buckets.items():
        state[f"{name}.current"] = str(bucket.current)
        state[f"{name}.current_pct"] = repr(bucket.current_pct)
        state[f"{name}.potential"] = str(bucket.potential)
        state[f"{name}.potential_pct"] = repr(bucket.potential_pct)
    for group, figures in snapshot.group_exposure.items():
        state[f"group.{group}.gross_pct"] = repr(figures.gross_pct)
    return state
