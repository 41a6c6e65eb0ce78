"""The execution service: the only component that talks to a venue.

It reads intents and order requests (``trades.intent``, ``trades.request``, a group), market
data, risk modes and the kill switch (broadcasts: every instance needs all of them) and the
session clock, and hands them to ``OrderFlow`` (the order path). A timer feeds the venue's due
reports back. Every handler runs under one lock, so the venue sees one sequence of calls and the
same events and seed give the same events out. ``docs/orders.md`` ("Service") has the rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from quantrail.bus.cursor import ShardedCursor, StreamStart
from quantrail.bus.delivery import Delivery
from quantrail.bus.transport import TransportError
from quantrail.config import Config
from quantrail.events import (
    CancelOrder,
    Event,
    EventDecodeError,
    IntentCreated,
    KillSwitchActivated,
    QuoteUpdated,
    ReplaceOrder,
    RiskModeChanged,
    SessionClockTicked,
    SubmitOrder,
    TradePrinted,
)
from quantrail.execution.approvals import Approvals
from quantrail.execution.flow import OrderFlow
from quantrail.execution.order import Order
from quantrail.execution.order_events import alert
from quantrail.execution.pretrade import PreTrade
from quantrail.execution.recovery import AFTER_OUTAGE, START, Recovery
from quantrail.execution.registry import OrderRegistry
from quantrail.execution.registry_mirror import MirroredRegistry
from quantrail.execution.report_inbox import UNREACHABLE, ReportInbox
from quantrail.execution.venue_link import linked, notices_as_alerts, positions_by_venue_account
from quantrail.execution.venues import Venue, make_venue
from quantrail.execution.venues.simulated import SimulatedVenue
from quantrail.execution.working import WorkingOrders, copy
from quantrail.runtime.market_fold import MarketFold
from quantrail.runtime.service import Service, Subscription, Timer
from quantrail.vocab import OrderStatus, Phase, TimeInForce

log = logging.getLogger("quantrail.execution")

NAME = "execution"
TICK_S = 0.1
"""How often (service clock seconds) the venue's due reports are applied."""
REPORT_ATTEMPTS = 5


class ExecutionService(Service):
    name = NAME

    def __init__(
        self,
        config: Config,
        registry: OrderRegistry,
        venue: Venue | None = None,
        *,
        tick_s: float = TICK_S,
    ) -> None:
        super().__init__()
        self._config = config
        self._tick_s = tick_s
        self.venue = venue or make_venue(config.execution)
        self.mirror = MirroredRegistry(registry)  # our copy: a Redis that forgets loses nothing
        self.orders = WorkingOrders(self.mirror)
        self.pretrade = PreTrade(config.liquidity)
        self.approvals = Approvals(config)
        self.flow = OrderFlow(
            self.orders, self.pretrade, self.venue, self._publish, self._now, self._authorize
        )
        self._lock = asyncio.Lock()
        self._starts: dict[str, StreamStart] = {}
        self.inbox = ReportInbox(attempts=REPORT_ATTEMPTS)
        keep_s = config.bus.retention_for("trades.order").max_age_s or 0
        self.recovery = Recovery(self.mirror, self.venue, keep_s)
        self._now_ns = 0

    # --- wiring ----------------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        def broadcast(stream: str, handler: Any) -> Subscription:
            start = self._starts.get(stream, "$")
            return Subscription([stream], handler, name=stream, broadcast=True, start=start)

        return [
            Subscription(["trades.intent", "trades.request"], self.on_order_flow, name="orders"),
            Subscription(["session.clock"], self.on_session, name="session"),
            dataclasses.replace(
                broadcast("market.quote", self.on_market),
                fold=MarketFold(
                    self.quiet_quotes,
                    self.fold_quotes,
                    pokes=False,
                    idle=self.idle_on_quotes,
                    quiet_checked=self.quiet_checked_quotes,
                ),  # no timer plan
            ),
            broadcast("market.trade", self.on_market),
            broadcast("risk.mode", self.on_state),
            broadcast("risk.kill_switch", self.on_state),
        ]

    def timers(self) -> list[Timer]:
        return [Timer(self._tick_s, self.tick, "venue", due_ns=self.next_work_ns)]

    def next_work_ns(self) -> int | None:
        """When ``tick`` next has work, as things stand (``Timer.due_ns``): every tick (0)
        while an order is open, reports are held, a reconciliation or a kill switch's
        flatten may be due, or the venue is not the simulated one; else when the simulated
        venue's first report comes due, or the memory watch's next look (None: none)."""
        venue = self.venue
        busy = any(
            (self.orders, self.inbox, self.recovery.pending, self.mirror.missing,
             self.flow.kill.activations)
        )  # fmt: skip
        if busy or not isinstance(venue, SimulatedVenue):
            return 0
        times = [venue.next_report_ns()]
        if self.recovery.watch is not None:
            times.append(self.recovery.watch.due_ns(self.ctx.bus))
        return min((t for t in times if t is not None), default=None)

    def health(self) -> dict[str, object]:
        figures: dict[str, object] = {
            "open_orders": len(self.orders),
            "kill_switch": bool(self.flow.kill.activations),
            **self.inbox.status(),
            "venue_fills": self.recovery.fill_count(),
            "fills_republished": self.recovery.republished,
        }
        if linked(self.venue) and not self.venue.connected:
            figures["degraded"] = f"venue {self.venue.name} not connected"
        return figures

    def open_orders(self) -> list[Order]:
        return [copy(order) for order in self.orders.open()]

    # --- start: state from the streams, orders from the registry ---------------------------

    async def on_start(self) -> None:
        bus = self.ctx.bus
        self.pretrade.load_baselines(self._config.risk.accounts)
        # Mode and kill switch are state: replay what the streams keep, then read on from there.
        for stream in ("risk.mode", "risk.kill_switch"):
            entries = await bus.iter_range(stream)
            for entry in entries:
                try:
                    self._set_state(bus.codec.from_fields(entry.fields))
                except EventDecodeError as exc:
                    log.warning("%s entry %s skipped: %s", stream, entry.entry_id, exc)
            self._starts[stream] = entries[-1].entry_id if entries else "0-0"
        # Market data from now on, with no gap between this read and the subscription.
        for stream in ("market.quote", "market.trade"):  # every shard's end, when sharded
            self._starts[stream] = (await ShardedCursor.at_end(bus, stream)).positions
        if linked(self.venue):
            await self.venue.connect()
        await self.approvals.start(bus, self.orders.registry, self._now())
        async with self._lock:
            await self._reload(self._now())
            if linked(self.venue):  # before anything new goes out: what does the venue have?
                await self.venue.reconcile(self._positions_at_venue())
            await self.recovery.start(bus, NAME, self.ctx.instance, self._now())
            self.recovery.pending = START
            await self.recovery.reconcile(
                bus, self.flow.events, self.inbox, self._publish, self._now()
            )
            if linked(self.venue):
                self.venue.start_sending()

    async def _authorize(self, order: Order, cause: Event | None) -> str | None:
        position = self.pretrade.position(order.account, order.symbol)
        return await self.approvals.authorize(order, cause, position, self._now())

    def _positions_at_venue(self) -> dict[tuple[str, str], int]:
        account_at = getattr(self.venue, "venue_account", str)
        return positions_by_venue_account(self.pretrade.books.values(), account_at)

    async def _reload(self, now: int) -> None:
        """Own fills and open orders from the registry; those that were sent are restored at the
        venue (their cancel sent again if one was pending)."""
        remember = getattr(self.venue, "remember_fills", None)  # the IB venue: corrections
        for order in await self.orders.load():
            if order.filled_qty:
                price = order.filled_notional / order.filled_qty
                self.pretrade.book_fill(order, order.filled_qty, price)
            if remember is not None and order.fill_ids and not order.is_open:
                remember(order)
        # The simulated venue lives in this process, so a new one knows none of our orders: it
        # takes them back as they were. A real venue would be reconciled instead.
        known = {resting.order_id for resting in self.venue.open_orders()}
        for order in self.orders.at_venue():
            if order.order_id in known:
                continue
            self.venue.restore(order, now)
            if order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
                self.venue.cancel(order.order_id, now)
        for activation in list(self.flow.kill.activations.values()):
            await self.flow.cancel_all(activation)
        await self.flow.release_parked()

    # --- handlers --------------------------------------------------------------------------

    async def on_order_flow(self, event: Event, delivery: Delivery) -> None:
        retry = delivery.deliveries > 1  # a failure left this event unacked last time
        async with self._lock:
            if isinstance(event, IntentCreated):
                await self.flow.on_intent(event, retry)
            elif isinstance(event, SubmitOrder):
                key = event.intent_id or event.request_id
                await self.flow.new_order(event, key, None, retry=retry)
            elif isinstance(event, CancelOrder):
                await self.flow.on_cancel(event)
            elif isinstance(event, ReplaceOrder):
                await self.flow.on_replace(event)

    async def on_market(self, event: Event, _delivery: Delivery) -> None:
        async with self._lock:
            now, venue = self._now(), self.venue
            try:
                if isinstance(event, QuoteUpdated):
                    sizes = (event.bid_size, event.ask_size)
                    venue.on_quote(event.symbol, event.bid, event.ask, *sizes, now)
                    self.pretrade.quotes[event.symbol] = event
                elif isinstance(event, TradePrinted):
                    venue.on_trade(event.symbol, event.price, event.size, now)
            except ValueError as exc:  # bad data must not stop the feed: refuse it loudly
                log.warning("market data %s refused: %s", event.event_id, exc)
                message = f"market data refused by the venue: {exc}"
                details = {"event_id": event.event_id, "kind": event.kind}
                key = f"market:{event.event_id}"
                await self._publish([alert(key, "WARNING", message, details, now)])

    def quiet_quotes(self, quotes: Sequence[QuoteUpdated], *, checked: bool = False) -> int:
        """How many quotes, from the first, the venue would only keep as its book
        (``MarketFold``): valid, and no order of their symbol working; ``checked``: each is
        known usable already (``usable_quote``, ``MarketFold.quiet_checked``)."""
        venue = self.venue
        if self._lock.locked() or not isinstance(venue, SimulatedVenue):
            return 0
        return venue.quietly_taken(quotes, checked=checked)

    def quiet_checked_quotes(self, quotes: Sequence[QuoteUpdated]) -> int:
        return self.quiet_quotes(quotes, checked=True)

    def idle_on_quotes(self) -> bool:
        """Only a bad quote could be other than quiet: no order works at the simulated venue
        (``MarketFold.idle``)."""
        venue = self.venue
        return not self._lock.locked() and isinstance(venue, SimulatedVenue) and venue.idle()

    def fold_quotes(self, quotes: Sequence[QuoteUpdated]) -> None:
        """Quiet quotes at once: each symbol's last is the venue's book and the pre-trade
        check's quote (the earlier ones were each replaced by the next)."""
        last = {quote.symbol: quote for quote in quotes}
        now = self._now()
        for symbol, quote in last.items():
            sizes = (quote.bid_size, quote.ask_size)
            self.venue.on_quote(symbol, quote.bid, quote.ask, *sizes, now)
            self.pretrade.quotes[symbol] = quote

    async def on_state(self, event: Event, _delivery: Delivery) -> None:
        """``risk.mode`` and ``risk.kill_switch``; an activation cancels every open order."""
        async with self._lock:
            if self._set_state(event) and isinstance(event, KillSwitchActivated):
                await self.flow.cancel_all(event)

    def _set_state(self, event: Event) -> bool:
        if isinstance(event, RiskModeChanged):
            self.pretrade.modes[event.account] = event.mode
        return self.flow.kill.apply(event)

    async def on_session(self, event: Event, _delivery: Delivery) -> None:
        """At POST, DAY orders of the session that closed expire (a replayed tick of an older
        session finds no order created before its close and does nothing)."""
        if not isinstance(event, SessionClockTicked) or event.phase is not Phase.POST:
            return
        close_ns = event.close_ns or 0
        async with self._lock:
            day = [o for o in self.orders.open() if o.tif is TimeInForce.DAY]
            day = [order for order in day if order.created_ns < close_ns]
            for order in day:
                if order.status is OrderStatus.NEW:  # parked, never sent
                    await self.flow.cancel(order, "session closed before it was sent", event)
            if any(order.status is not OrderStatus.NEW for order in day):
                self.venue.expire_all(self._now())

    async def tick(self) -> None:
        """Apply the venue's due reports, release parked orders, step a flatten.

        While Redis is away the reports are held and nothing else runs (``ReportInbox`` says so
        once, then every 30 s); nothing is given up for an outage while the service runs."""
        async with self._lock:
            now = self._now()
            reports = self.venue.advance(now)
            self.recovery.record(reports)
            self.inbox.extend(reports)
            if linked(self.venue) and self.venue.notices:
                await self._publish(notices_as_alerts(self.venue, now))
            if await self.recovery.due(self.ctx.bus, now) and not await self._reconcile(now):
                return
            was_out = self.inbox.outage_since_ns is not None
            if not await self.inbox.drain(self.flow.apply, self._publish, now):
                return
            if was_out:  # a fill saved just before Redis went away may not be on the stream
                self.recovery.pending = AFTER_OUTAGE
            await self.flow.release_parked()
            await self.flow.flatten(now)

    async def on_stop(self) -> None:
        """Reports still held are really given up now: a CRITICAL alert names every one."""
        events = self.inbox.give_up(self._now(), "the execution service stopped")
        try:
            await self._publish(events)
        except TransportError as exc:
            log.critical("the give-up alert was not published (Redis unreachable): %s", exc)
        if linked(self.venue):
            await self.venue.close()

    # --- helpers ---------------------------------------------------------------------------

    async def _reconcile(self, now: int) -> bool:
        """The reconciliation ``recovery`` asks for; False while Redis is away (tried again)."""
        try:
            await self.recovery.reconcile(
                self.ctx.bus, self.flow.events, self.inbox, self._publish, now
            )
        except UNREACHABLE as exc:
            log.warning("reconciliation with the venue waits for Redis: %s", exc)
            return False
        return True

    def _now(self) -> int:
        """The service clock, never going back (the venue refuses time that does)."""
        self._now_ns = max(self._now_ns, self.ctx.now_ns())
        return self._now_ns

    async def _publish(self, events: list[Event]) -> None:
        if events:
            await self.ctx.publish_batch(events)
