"""Position state (pure): fills in, ``position.state.opened | updated | closed`` out.

One position per account and symbol at a time; its id names the cycle from flat to flat,
``pos:<account>:<symbol>:<fill_id of the opening fill>`` (a start-of-day position from the
baseline file: ``pos:<account>:<symbol>:befday:<YYYY-MM-DD>``). Accounting is average cost:
an increasing fill moves the average, a reducing fill realizes ``(price - average) x qty``
(signed by the side), and a fill that crosses zero closes the position and opens a new one with
the rest of the fill at its price; its fee is split between the two by quantity (the closing
part rounded to the cent, the rest to the new position, so the fees still add up).

``realized_pnl`` is before fees (``fees`` holds every fee of the position's fills);
``realized_pnl_percent`` is the realized P&L over the cost of the closed shares; the exit price
is the average of the closing fills. Every event's idempotency key is deterministic
(``<position_id>:opened``, ``:closed``, ``:fill:<fill_id>``, ``:mark:<ts>``) and the keeper
ignores a fill id it has seen, so replaying a day's fills gives the same events again and a
consumer (or a restarted service) can tell which it already has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

import msgspec

from quantrail.events import (
    Event,
    OrderFill,
    OrderFillCorrected,
    PositionClosed,
    PositionOpened,
    PositionUpdated,
)
from quantrail.money import ZERO, cents
from quantrail.risk.baseline import BaselineRow
from quantrail.runtime.clock import NS_PER_SECOND
from quantrail.vocab import Bucket, Direction, Side

log = logging.getLogger("quantrail.positions")

SOURCE = "positions"
PRICE_PLACES = Decimal("0.000001")
"""Average prices are published to the micro-dollar (the keeper itself keeps them exact)."""

EXIT_PREFIX = "exit:"
FLATTEN_PREFIX = "flatten:"


@dataclass(frozen=True, slots=True)
class EntryContext:
    """What the request that opened a position says about it (``trades.request.submit``)."""

    request_id: str = ""
    stop_loss: Decimal | None = None
    risk_amount: Decimal | None = None
    strategy: str = ""
    signal_id: str = ""
    evaluation_id: str = ""
    correlation_id: str = ""


NO_CONTEXT = EntryContext()


def exit_reason_for(intent_id: str, derisk: bool) -> str:
    """The exit reason a closing order's intent id gives (docs/chain.md)."""
    if intent_id.startswith(EXIT_PREFIX):
        reason = intent_id[len(EXIT_PREFIX) :].split(":", 1)[0]
        return reason or "external"
    if intent_id.startswith(FLATTEN_PREFIX):
        return "kill_switch"
    return "derisk" if derisk else "external"


@dataclass(slots=True)
class OpenPosition:
    """One open position and what it has done so far (exact Decimals, never rounded)."""

    position_id: str
    account: str
    symbol: str
    bucket: Bucket
    qty: int
    avg_price: Decimal
    opened_ns: int
    context: EntryContext = NO_CONTEXT
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    closed_qty: int = 0
    closed_cost: Decimal = ZERO
    closed_value: Decimal = ZERO
    mark: Decimal | None = None
    published_mark: Decimal | None = None
    last_update_ns: int = 0

    @property
    def direction(self) -> Direction:
        return Direction.LONG if self.qty > 0 else Direction.SHORT

    def unrealized(self, price: Decimal) -> Decimal:
        return (price - self.avg_price) * self.qty


@dataclass(slots=True)
class PositionKeeper:
    """Every account's open positions; ``apply_fill`` and ``mark`` return the events to publish.

    ``update_interval_ns`` throttles mark updates per position (fills always publish)."""

    update_interval_ns: int
    positions: dict[tuple[str, str], OpenPosition] = field(default_factory=dict)
    seen_fills: set[str] = field(default_factory=set)
    histories: dict[str, PositionHistory] = field(default_factory=dict)
    """Per open position id: how it opened and the fills since (what a correction replays)."""
    seen_corrections: set[str] = field(default_factory=set)

    # --- start of day ----------------------------------------------------------------------

    def load_baseline(
        self, account: str, rows: list[BaselineRow], day: str, ts_ns: int
    ) -> list[Event]:
        """The account's start-of-day positions, each opened at its prior close."""
        events: list[Event] = []
        for row in rows:
            if row.qty == 0:
                continue
            position = OpenPosition(
                position_id=f"pos:{account}:{row.symbol}:befday:{day}",
                account=account,
                symbol=row.symbol,
                bucket=row.bucket,
                qty=row.qty,
                avg_price=row.prior_close,
                opened_ns=ts_ns,
                mark=row.prior_close,
                published_mark=row.prior_close,
            )
            self.positions[(account, row.symbol)] = position
            self.histories[position.position_id] = PositionHistory(replace(position), None)
            events.append(_opened(position, ts_ns, ""))
        return events

    # --- fills -----------------------------------------------------------------------------

    def apply_fill(self, fill: OrderFill, context: EntryContext, exit_reason: str) -> list[Event]:
        """The events of one fill; a fill id seen before gives nothing.

        ``context`` is the request that made the order (used if the fill opens a position);
        ``exit_reason`` is what a close by this fill is recorded as."""
        if fill.fill_id in self.seen_fills:
            return []
        self.seen_fills.add(fill.fill_id)
        account = fill.account or ""
        key = (account, fill.symbol)
        position = self.positions.get(key)
        qty, price, sign = fill.last_qty, fill.last_price, fill.side.sign
        if position is None:
            return [self._open(fill, qty, fill.fees, context)]
        if (position.qty > 0) == (sign > 0):
            return [self._add(position, fill, qty)]
        closing = min(qty, abs(position.qty))
        fee = fill.fees if closing == qty else cents(fill.fees * closing / qty)
        self._reduce(position, fill.side, closing, price, fee)
        position.last_update_ns = fill.ts_event
        if position.qty != 0:
            self.histories[position.position_id].fills.append(fill)
            return [_updated(position, fill.ts_event, f"fill:{fill.fill_id}", fill)]
        del self.positions[key]
        self.histories.pop(position.position_id, None)
        events: list[Event] = [_closed(position, fill, exit_reason)]
        if closing < qty:  # crossed zero: the rest opens the other side
            events.append(self._open(fill, qty - closing, fill.fees - fee, context))
        return events

    def _open(self, fill: OrderFill, qty: int, fee: Decimal, context: EntryContext) -> Event:
        account = fill.account or ""
        position = OpenPosition(
            position_id=f"pos:{account}:{fill.symbol}:{fill.fill_id}",
            account=account,
            symbol=fill.symbol,
            bucket=fill.bucket,
            qty=fill.side.sign * qty,
            avg_price=fill.last_price,
            opened_ns=fill.ts_event,
            context=context,
            fees=fee,
            mark=fill.last_price,
            published_mark=fill.last_price,
            last_update_ns=fill.ts_event,
        )
        self.positions[(account, fill.symbol)] = position
        self.histories[position.position_id] = PositionHistory(replace(position), fill)
        return _opened(position, fill.ts_event, fill.event_id, fill.correlation_id)

    def _add(self, position: OpenPosition, fill: OrderFill, qty: int) -> Event:
        _add_to(position, fill, qty)
        position.last_update_ns = fill.ts_event
        self.histories[position.position_id].fills.append(fill)
        return _updated(position, fill.ts_event, f"fill:{fill.fill_id}", fill)

    # --- corrections -----------------------------------------------------------------------

    def apply_correction(self, correction: OrderFillCorrected) -> list[Event]:
        """A venue corrected the price or fee of a fill of an open position: the position is
        replayed from how it opened with the fill as corrected, and one update published
        (``<position_id>:correction:<correction_id>``). A correction seen before gives nothing.

        Not applied here (logged; the ledger re-books them, ``docs/positions_and_exits.md``):
        a correction that changes the quantity, and one of a fill whose position has closed
        (its ``closed`` event is history)."""
        if correction.correction_id in self.seen_corrections:
            return []
        self.seen_corrections.add(correction.correction_id)
        position = self.positions.get((correction.account or "", correction.symbol))
        history = None if position is None else self.histories.get(position.position_id)
        if position is None or history is None or not history.holds(correction.fill_id):
            log.warning("correction %s of fill %s: not of an open position, not applied",
                        correction.correction_id, correction.fill_id)  # fmt: skip
            return []
        if correction.last_qty != correction.previous_qty:
            log.warning("correction %s of fill %s changes the quantity: not applied here",
                        correction.correction_id, correction.fill_id)  # fmt: skip
            return []
        rebuilt = history.replayed(correction)
        rebuilt.context, rebuilt.last_update_ns = position.context, correction.ts_event
        rebuilt.mark, rebuilt.published_mark = position.mark, position.published_mark
        self.positions[(position.account, position.symbol)] = rebuilt
        action = f"correction:{correction.correction_id}"
        update = _updated(rebuilt, correction.ts_event, action, None)
        return [msgspec.structs.replace(update, causation_id=correction.event_id)]

    @staticmethod
    def _reduce(position: OpenPosition, side: Side, qty: int, price: Decimal, fee: Decimal) -> None:
        direction = 1 if position.qty > 0 else -1
        position.realized += (price - position.avg_price) * qty * direction
        position.closed_qty += qty
        position.closed_cost += position.avg_price * qty
        position.closed_value += price * qty
        position.fees += fee
        position.qty += side.sign * qty
        position.mark = position.published_mark = price

    # --- marks -----------------------------------------------------------------------------

    def holds(self, symbol: str) -> bool:
        """Whether a position in ``symbol`` is open (one ``mark`` would update)."""
        return any(position.symbol == symbol for position in self.positions.values())

    def would_update(self, symbol: str, price: Decimal, ts_ns: int) -> bool:
        """Whether ``mark`` would publish an update (else it only keeps the price)."""
        return any(
            position.symbol == symbol
            and price != position.published_mark
            and ts_ns - position.last_update_ns >= self.update_interval_ns
            for position in self.positions.values()
        )

    def updates_due(self) -> dict[str, int]:
        """Per held symbol, the first time ``mark`` may publish an update (before it, any
        price is only kept: ``would_update`` is False)."""
        due: dict[str, int] = {}
        for position in self.positions.values():
            at = position.last_update_ns + self.update_interval_ns
            due[position.symbol] = min(due.get(position.symbol, at), at)
        return due

    def keep_mark(self, symbol: str, price: Decimal) -> None:
        """A price ``mark`` would not publish on (``would_update`` False): kept as the mark."""
        for position in self.positions.values():
            if position.symbol == symbol:
                position.mark = price

    def mark(self, symbol: str, price: Decimal, ts_ns: int) -> list[Event]:
        """A new price for ``symbol``: an update per open position whose last one is at least
        ``update_interval_ns`` old and whose mark moved."""
        events: list[Event] = []
        for position in self.positions.values():
            if position.symbol != symbol:
                continue
            position.mark = price
            # Compared with the last published price: a move held back by the interval goes
            # out with the next price, even an unchanged one.
            moved = price != position.published_mark
            if moved and ts_ns - position.last_update_ns >= self.update_interval_ns:
                position.last_update_ns, position.published_mark = ts_ns, price
                events.append(_updated(position, ts_ns, f"mark:{ts_ns}", None))
        return events


@dataclass(slots=True)
class PositionHistory:
    """How an open position came to be: as it opened (``origin``, a copy; ``opener`` the fill
    that opened it, None for a baseline position) and the fills applied to it since."""

    origin: OpenPosition
    opener: OrderFill | None
    fills: list[OrderFill] = field(default_factory=list)

    def holds(self, fill_id: str) -> bool:
        opened_by = self.opener is not None and self.opener.fill_id == fill_id
        return opened_by or any(fill.fill_id == fill_id for fill in self.fills)

    def replayed(self, correction: OrderFillCorrected) -> OpenPosition:
        """The position as if the corrected fill had been so from the start (the history
        keeps the corrected fill, so a later correction builds on it)."""
        self.fills = [_corrected(fill, correction) for fill in self.fills]
        position = replace(self.origin)
        if self.opener is not None and self.opener.fill_id == correction.fill_id:
            self.opener = opener = _corrected(self.opener, correction)
            closing = opener.last_qty - abs(position.qty)  # crossed zero: the rest opened
            position.avg_price = opener.last_price
            position.fees = opener.fees - (cents(opener.fees * closing / opener.last_qty)
                                           if closing else ZERO)  # fmt: skip
            self.origin = replace(position)
        for fill in self.fills:
            if (position.qty > 0) == (fill.side.sign > 0):
                _add_to(position, fill, fill.last_qty)
            else:  # a reduce that left the position open (a close ends the history)
                PositionKeeper._reduce(position, fill.side, fill.last_qty, fill.last_price,
                                       fill.fees)  # fmt: skip
        return position


def _corrected(fill: OrderFill, correction: OrderFillCorrected) -> OrderFill:
    if fill.fill_id != correction.fill_id:
        return fill
    return msgspec.structs.replace(fill, last_price=correction.last_price, fees=correction.fees)


def _add_to(position: OpenPosition, fill: OrderFill, qty: int) -> None:
    cost = abs(position.qty) * position.avg_price + qty * fill.last_price
    position.qty += fill.side.sign * qty
    position.avg_price = cost / abs(position.qty)
    position.fees += fill.fees
    position.mark = position.published_mark = fill.last_price


# --- the events --------------------------------------------------------------------------------


def _opened(
    position: OpenPosition, ts_ns: int, causation_id: str, correlation_id: str = ""
) -> PositionOpened:
    context = position.context
    return PositionOpened(
        ts_event=ts_ns,
        idempotency_key=f"{position.position_id}:opened",
        source=SOURCE,
        correlation_id=context.correlation_id or correlation_id or position.position_id,
        causation_id=causation_id,
        account=position.account,
        position_id=position.position_id,
        symbol=position.symbol,
        bucket=position.bucket,
        direction=position.direction,
        qty=abs(position.qty),
        entry_price=position.avg_price,
        stop_loss=context.stop_loss,
        risk_amount=context.risk_amount,
        strategy=context.strategy,
        signal_id=context.signal_id,
        evaluation_id=context.evaluation_id,
        request_id=context.request_id,
    )


def _updated(
    position: OpenPosition, ts_ns: int, action: str, fill: OrderFill | None
) -> PositionUpdated:
    mark = position.mark if position.mark is not None else position.avg_price
    unrealized = position.unrealized(mark)
    percent = float((mark - position.avg_price) / position.avg_price * 100)
    return PositionUpdated(
        ts_event=ts_ns,
        idempotency_key=f"{position.position_id}:{action}",
        source=SOURCE,
        correlation_id=position.context.correlation_id or position.position_id,
        causation_id=fill.event_id if fill is not None else "",
        account=position.account,
        position_id=position.position_id,
        symbol=position.symbol,
        bucket=position.bucket,
        qty=position.qty,
        entry_price=position.avg_price.quantize(PRICE_PLACES),
        current_price=mark,
        unrealized_pnl=cents(unrealized),
        unrealized_pnl_percent=percent if position.qty > 0 else -percent,
        stop_loss=position.context.stop_loss,
        age_seconds=(ts_ns - position.opened_ns) // NS_PER_SECOND,
        realized_pnl=cents(position.realized),
        strategy=position.context.strategy,
    )


def _closed(position: OpenPosition, fill: OrderFill, exit_reason: str) -> PositionClosed:
    entry = position.closed_cost / position.closed_qty
    exit_price = position.closed_value / position.closed_qty
    percent = float(position.realized / position.closed_cost * 100)
    context = position.context
    return PositionClosed(
        ts_event=fill.ts_event,
        idempotency_key=f"{position.position_id}:closed",
        source=SOURCE,
        correlation_id=context.correlation_id or position.position_id,
        causation_id=fill.event_id,
        account=position.account,
        position_id=position.position_id,
        symbol=position.symbol,
        bucket=position.bucket,
        direction=Direction.LONG if fill.side is Side.SELL else Direction.SHORT,
        qty=position.closed_qty,
        entry_price=entry.quantize(PRICE_PLACES),
        exit_price=exit_price.quantize(PRICE_PLACES),
        realized_pnl=cents(position.realized),
        realized_pnl_percent=percent,
        hold_duration_seconds=(fill.ts_event - position.opened_ns) // NS_PER_SECOND,
        exit_reason=exit_reason,
        fees=position.fees,
        opened_ns=position.opened_ns,
        strategy=context.strategy,
        signal_id=context.signal_id,
        evaluation_id=context.evaluation_id,
    )
