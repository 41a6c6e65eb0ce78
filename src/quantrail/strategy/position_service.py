"""The position state service (``positions``): fills -> ``position.state.*``.

See docs/positions_and_exits.md.

It follows ``trades.order`` (fills, and a venue's corrections of them:
``PositionKeeper.apply_correction``) and the market's prices with broadcast readers; the
requests and intents that made the orders (``trades.request``, ``trades.intent``) are pulled
when a fill needs them, so a fill never overtakes the request that gives its position a stop.

Start (restart-safe): the accounts' baseline files open the start-of-day positions, then
today's ``trades.order`` is replayed through the keeper. What that gives is compared with what
``position.state`` already holds (by idempotency key): only what is missing is published, so a
restarted service neither repeats an ``opened``/``closed`` nor loses one a crash cut off.
Live reading continues from the last replayed entry. The state is a projection of the streams:
one instance per bus (two would publish every event twice, with the same keys).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from quantrail.bus.cursor import ShardedCursor, StreamStart
from quantrail.bus.delivery import Delivery, Handler
from quantrail.config import Config
from quantrail.events import (
    Event,
    IntentCreated,
    OrderFill,
    OrderFillCorrected,
    PriceTicked,
    QuoteUpdated,
    SubmitOrder,
    TradePrinted,
)
from quantrail.risk.baseline import load_baseline
from quantrail.risk.exposure_service import day_start_ns
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.runtime.market_fold import MarketFold, Released, keeps_nothing, quiet_unless
from quantrail.runtime.service import Service, Subscription
from quantrail.strategy.position_state import (
    EXIT_PREFIX,
    FLATTEN_PREFIX,
    NO_CONTEXT,
    EntryContext,
    PositionKeeper,
    exit_reason_for,
)

log = logging.getLogger("quantrail.positions")

NAME = "positions"
ORDERS = "trades.order"
REQUESTS = "trades.request"
INTENTS = "trades.intent"
STATE = "position.state"
MARKET = ("market.tick", "market.quote", "market.trade")
DERISK_KEY = "derisk:"


class PositionService(Service):
    name = NAME

    def __init__(self, config: Config) -> None:
        super().__init__()
        self._config = config
        interval_ns = int(config.positions.update_interval_s * NS_PER_SECOND)
        self.keeper = PositionKeeper(interval_ns)
        self._contexts: dict[str, EntryContext] = {}
        self._derisk: set[str] = set()
        self._published: set[str] = set()
        self._starts: dict[str, StreamStart] = {}
        self._since_ns = 0
        self._requests: ShardedCursor | None = None
        self._intents: ShardedCursor | None = None
        self._lock = asyncio.Lock()
        self._mark_ns: dict[str, int] = {}  # when each symbol's mark was last set by a price

    # --- start -----------------------------------------------------------------------------

    async def on_start(self) -> None:
        bus, now = self.ctx.bus, self.ctx.now_ns()
        timezone = self._config.session.timezone
        self._since_ns = day_start_ns(now, timezone)
        day = datetime.fromtimestamp(now // NS_PER_SECOND, tz=ZoneInfo(timezone)).date()
        for market in MARKET:  # prices from now on; the replay below is about fills
            self._starts[market] = (await ShardedCursor.at_end(bus, market)).positions
        state = ShardedCursor(bus, STATE)
        self._published = {event.key for event in await state.read_new(self._since_ns)}
        self._requests, self._intents = ShardedCursor(bus, REQUESTS), ShardedCursor(bus, INTENTS)
        events: list[Event] = []
        for account in self._config.risk.accounts:
            rows = load_baseline(account.baseline) if account.baseline else []
            events += self.keeper.load_baseline(account.name, rows, day.isoformat(), self._since_ns)
        orders = ShardedCursor(bus, ORDERS)
        for fill in await orders.read_new(self._since_ns):
            if isinstance(fill, OrderFill):
                events += await self._apply(fill)
            elif isinstance(fill, OrderFillCorrected):
                events += self.keeper.apply_correction(fill)
        self._starts[ORDERS] = orders.positions
        await self._publish(events)
        log.info("positions rebuilt: %d open", len(self.keeper.positions))

    def subscriptions(self) -> list[Subscription]:
        def reader(stream: str, handler: Handler) -> Subscription:
            start = self._starts.get(stream, "$")
            fold = self._fold_of(stream)
            return Subscription([stream], handler, name=stream, broadcast=True, start=start,
                                fold=fold)  # fmt: skip

        return [reader(ORDERS, self.on_order)] + [reader(m, self.on_price) for m in MARKET]

    def health(self) -> dict[str, object]:
        return {"open_positions": len(self.keeper.positions)}

    # --- handlers --------------------------------------------------------------------------

    async def on_order(self, event: Event, _delivery: Delivery) -> None:
        if isinstance(event, OrderFill) and event.ts_event >= self._since_ns:
            async with self._lock:  # one order of events out: no mark after its close
                await self._publish(await self._apply(event))
        elif isinstance(event, OrderFillCorrected) and event.ts_event >= self._since_ns:
            async with self._lock:
                await self._publish(self.keeper.apply_correction(event))

    async def on_price(self, event: Event, _delivery: Delivery) -> None:
        price = price_of(event)
        if price is not None:
            # The service clock, not the print's time: the throttle and the update's age must
            # not depend on how late a feed stamps its events.
            symbol, now = event.symbol, self.ctx.now_ns()  # type: ignore[attr-defined]
            async with self._lock:
                self._mark_ns[symbol] = now
                await self._publish(self.keeper.mark(symbol, price, now))

    def _fold_of(self, stream: str) -> MarketFold[QuoteUpdated] | MarketFold[PriceTicked] | None:
        if stream == "market.quote":
            return MarketFold(self.quiet_quotes, self.fold_quotes, pokes=False, idle=self.idle)
        if stream == "market.tick":
            released = Released(self.quiet_ticks_at, self.fold_ticks_at)
            return dataclasses.replace(keeps_nothing(self.quiet_ticks), released=released)
        return None

    def quiet_quotes(self, quotes: Sequence[QuoteUpdated]) -> int:
        """How many quotes, from the first, publish no update (``MarketFold``), each at its
        own time: of symbols with no open position, or within a position's update interval
        or at its last published mark."""
        if self.idle():
            return len(quotes)
        return self._quiet_at(quotes, [quote.ts_event for quote in quotes])

    def idle(self) -> bool:
        """Nothing held: no price publishes anything (``MarketFold.idle``)."""
        return not self._lock.locked() and not self.keeper.positions

    def fold_quotes(self, quotes: Sequence[QuoteUpdated]) -> None:
        """Quiet quotes at once: each held symbol's last one is its positions' mark."""
        if self.keeper.positions:
            self._keep_marks(quotes, [quote.ts_event for quote in quotes], later_only=False)

    def quiet_ticks_at(self, ticks: Sequence[PriceTicked], at_ns: Sequence[int]) -> int:
        """``quiet_quotes`` for ticks, each at its release time."""
        return self._quiet_at(ticks, at_ns)

    def _quiet_at(self, prices: Sequence[QuoteUpdated | PriceTicked], at_ns: Sequence[int]) -> int:
        if self._lock.locked():
            return 0
        keeper = self.keeper
        if not keeper.positions:
            return len(prices)
        due = keeper.updates_due()
        for index, event in enumerate(prices):
            symbol, at = event.symbol, at_ns[index]
            if symbol not in due or at < due[symbol]:
                continue  # not held, or within its update interval: no price needed
            price = price_of(event)
            if price is not None and keeper.would_update(symbol, price, at):
                return index
        return len(prices)

    def fold_ticks_at(self, ticks: Sequence[PriceTicked], at_ns: Sequence[int]) -> None:
        """Quiet ticks at once: a held symbol's last is its mark, unless a quote of the run
        (folded first) came after it."""
        self._keep_marks(ticks, at_ns, later_only=True)

    def _keep_marks(
        self, prices: Sequence[QuoteUpdated | PriceTicked], at_ns: Sequence[int], *,
        later_only: bool,
    ) -> None:  # fmt: skip
        """Each held symbol's last price as its mark, and when (``_mark_ns``). A tick handed
        over with the quotes of its run is older than a quote of the same time or later
        (a timer at a quote's time runs before it): ``later_only`` keeps it only after them."""
        held = {position.symbol for position in self.keeper.positions.values()}
        if not held:
            return
        last: dict[str, tuple[Decimal, int]] = {}  # found from the end: a run's last, mostly
        for index in range(len(prices) - 1, -1, -1):
            symbol = prices[index].symbol
            if symbol not in held or symbol in last:
                continue
            if (price := price_of(prices[index])) is not None:
                last[symbol] = (price, at_ns[index])
                if len(last) == len(held):
                    break
        for symbol, (price, at) in last.items():
            if later_only and at <= self._mark_ns.get(symbol, at - 1):
                continue
            self.keeper.keep_mark(symbol, price)
            self._mark_ns[symbol] = at

    def quiet_ticks(self, ticks: Sequence[PriceTicked]) -> int:
        """Ticks of symbols with no open position (``MarketFold``): a tick is handed over
        after its release, at a time its fold does not know, so a held symbol's is not."""
        return 0 if self._lock.locked() else quiet_unless(ticks, self.keeper.holds)

    # --- helpers ---------------------------------------------------------------------------

    async def _apply(self, fill: OrderFill) -> list[Event]:
        if fill.fill_id in self.keeper.seen_fills:
            return []
        keys = [key for key in (fill.request_id, fill.intent_id) if key]
        known = any(key in self._contexts or key in self._derisk for key in keys)
        own = fill.intent_id.startswith((EXIT_PREFIX, FLATTEN_PREFIX))
        if keys and not known and not own:
            await self._pull()
        context = next((self._contexts[k] for k in keys if k in self._contexts), NO_CONTEXT)
        reason = exit_reason_for(fill.intent_id, fill.intent_id in self._derisk)
        return self.keeper.apply_fill(fill, context, reason)

    async def _pull(self) -> None:
        """What is new on ``trades.request`` and ``trades.intent``: entry contexts, de-risk ids."""
        assert self._requests is not None and self._intents is not None
        for event in await self._requests.read_new(self._since_ns):
            if isinstance(event, SubmitOrder):
                context = context_of(event)
                self._contexts[event.request_id] = context
                self._contexts[event.intent_id or event.request_id] = context
        for event in await self._intents.read_new(self._since_ns):
            if isinstance(event, IntentCreated) and event.idempotency_key.startswith(DERISK_KEY):
                self._derisk.add(event.intent_id)

    async def _publish(self, events: list[Event]) -> None:
        missing = [event for event in events if event.key not in self._published]
        if missing:
            await self.ctx.publish_batch(missing)
            self._published.update(event.key for event in missing)


def context_of(request: SubmitOrder) -> EntryContext:
    return EntryContext(
        request_id=request.request_id,
        stop_loss=request.stop_loss,
        risk_amount=request.risk_amount,
        strategy=request.strategy,
        signal_id=request.signal_id,
        evaluation_id=request.evaluation_id,
        correlation_id=request.correlation_id or request.signal_id,
    )


def price_of(event: Event) -> Decimal | None:
    """A mark: the print or tick price, else the quote's mid."""
    if isinstance(event, PriceTicked | TradePrinted):
        return event.price
    if isinstance(event, QuoteUpdated) and event.bid > 0 and event.ask > 0:
        return (event.bid + event.ask) / 2
    return None


def build_positions_service(config: Config) -> Service:
    return PositionService(config)
