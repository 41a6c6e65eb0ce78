"""The ``bar`` venue: a backtest's fill model on OHLCV bars.

The backtest hands it each bar when the bar opens (``on_bar``), before the bar's price path is
published; quotes and prints from the feed are not used for fills. The rules:

- an order without a stop price (market, or a limit) works until the next bar opens, and
  fills there: a market order at the open plus ``slippage_ticks`` ticks against it (a buy pays
  more, a sell gets less); a limit order at that price capped at its limit when the open is
  marketable, else at its limit when the bar trades through it (low <= a buy limit, high >= a
  sell limit), else it keeps working;
- a stop exit (an order carrying ``stop_price``) fills when it arrives, against the bar in
  progress, at the stop, or at that bar's open when the open gapped through it (a sell stop
  with open <= stop, a buy stop with open >= stop); with no bar yet it waits for the first;
- fees: ``fee_per_share`` with ``min_fee_per_order`` per order, to the cent;
- every order fills completely (the bar's volume is not a cap; the execution service's
  LiquidityGuard sizes orders against the displayed size first).

Reports are visible through ``advance`` at once (no latency): the simulated clock already
puts the fill at the right moment. Same calls, same reports and ids.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from decimal import Decimal

from quantrail.backtest.bars import Bar
from quantrail.backtest.config import BacktestConfig
from quantrail.execution.order import Order
from quantrail.execution.venues.base import (
    Liquidity,
    RestingOrder,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueExpired,
    VenueFill,
    VenueReport,
    order_fee,
)
from quantrail.money import ZERO
from quantrail.vocab import OrderType, Side, TimeInForce

NAME = "bar"


@dataclasses.dataclass(slots=True, kw_only=True)
class _Working:
    order: RestingOrder
    stop_price: Decimal | None
    fees_paid: Decimal = ZERO
    fill_count: int = 0


class BarVenue:
    """Fills on bars by the rules in the module doc."""

    def __init__(self, config: BacktestConfig, *, name: str = NAME) -> None:
        self._name = name
        self._slippage = config.slippage_ticks * config.tick_size
        self._fee_per_share = config.fee_per_share
        self._min_fee = config.min_fee_per_order
        self._working: dict[str, _Working] = {}
        self._known: set[str] = set()
        self._bars: dict[str, Bar] = {}
        self._outbox: deque[VenueReport] = deque()

    @property
    def name(self) -> str:
        return self._name

    # --- requests ------------------------------------------------------------------------

    def submit(self, order: Order, now_ns: int) -> None:
        if order.order_id in self._known:
            return
        self._take(order)
        venue_id = self._working[order.order_id].order.venue_order_id
        self._outbox.append(
            VenueAccepted(order_id=order.order_id, venue_order_id=venue_id, ts_ns=now_ns)
        )
        self._try_stop(self._working[order.order_id], now_ns)

    def restore(self, order: Order, now_ns: int) -> None:
        """After our restart: the order as the registry kept it (its fills and fees carry
        on, so the minimum fee is not charged twice and fill ids continue)."""
        if order.order_id in self._known:
            return
        working = self._take(order)
        working.fees_paid, working.fill_count = order.fees, len(order.fill_ids)
        if not order.venue_order_id:  # its ack died with the old venue: answered again
            venue_id = working.order.venue_order_id
            self._outbox.append(
                VenueAccepted(order_id=order.order_id, venue_order_id=venue_id, ts_ns=now_ns)
            )

    def _take(self, order: Order) -> _Working:
        self._known.add(order.order_id)
        venue_order_id = order.venue_order_id or f"BAR-{order.order_id}"
        resting = RestingOrder(
            order_id=order.order_id, venue_order_id=venue_order_id,
            symbol=order.symbol, side=order.side, order_type=order.order_type,
            limit_price=order.limit_price, tif=order.tif, qty=order.qty,
            filled_qty=order.filled_qty,
        )  # fmt: skip
        working = _Working(order=resting, stop_price=order.stop_price)
        self._working[order.order_id] = working
        return working

    def modify(self, order_id: str, qty: int, limit_price: Decimal, now_ns: int) -> bool:
        """No in-place modify here: a replace is cancel, then the successor as a new order."""
        return False

    def cancel(self, order_id: str, now_ns: int) -> None:
        working = self._working.pop(order_id, None)
        if working is None:
            reason = "unknown order" if order_id not in self._known else "order already done"
            self._outbox.append(VenueCancelRejected(order_id=order_id, reason=reason, ts_ns=now_ns))
            return
        venue_id = working.order.venue_order_id
        self._outbox.append(
            VenueCanceled(order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns,
                          reason="canceled on request")
        )  # fmt: skip

    def expire_all(self, now_ns: int) -> None:
        for order_id, working in list(self._working.items()):
            if working.order.tif is TimeInForce.DAY:
                del self._working[order_id]
                venue_id = working.order.venue_order_id
                self._outbox.append(
                    VenueExpired(order_id=order_id, venue_order_id=venue_id, ts_ns=now_ns)
                )

    # --- market data ---------------------------------------------------------------------

    def on_bar(self, bar: Bar, now_ns: int) -> None:
        """A bar opens: orders waiting for it fill at its open (stops by the gap rule)."""
        self._bars[bar.symbol] = bar
        for working in list(self._working.values()):
            if working.order.symbol != bar.symbol:
                continue
            if working.stop_price is not None:
                self._try_stop(working, now_ns)
            else:
                self._try_open(working, bar, now_ns)

    def on_quote(
        self, symbol: str, bid: Decimal, ask: Decimal, bid_size: int, ask_size: int, now_ns: int
    ) -> None:
        """Not used for fills: the bars are."""

    def on_trade(self, symbol: str, price: Decimal, size: int, now_ns: int) -> None:
        """Not used for fills: the bars are."""

    # --- reports -------------------------------------------------------------------------

    def advance(self, now_ns: int) -> list[VenueReport]:
        due = list(self._outbox)
        self._outbox.clear()
        return due

    def open_orders(self) -> list[RestingOrder]:
        return [working.order for working in self._working.values()]

    # --- matching ------------------------------------------------------------------------

    def _try_stop(self, working: _Working, now_ns: int) -> None:
        stop = working.stop_price
        bar = self._bars.get(working.order.symbol)
        if stop is None or bar is None:
            return
        selling = working.order.side is Side.SELL
        gapped = bar.open <= stop if selling else bar.open >= stop
        self._fill(working, bar.open if gapped else stop, now_ns)

    def _try_open(self, working: _Working, bar: Bar, now_ns: int) -> None:
        buying = working.order.side is Side.BUY
        at_open = bar.open + self._slippage if buying else bar.open - self._slippage
        limit = working.order.limit_price
        if working.order.order_type is OrderType.MARKET or limit is None:
            self._fill(working, at_open, now_ns)
            return
        if at_open <= limit if buying else at_open >= limit:
            self._fill(working, at_open, now_ns)
        elif bar.low <= limit if buying else bar.high >= limit:
            self._fill(working, limit, now_ns, Liquidity.MAKER)

    def _fill(
        self,
        working: _Working,
        price: Decimal,
        now_ns: int,
        liquidity: Liquidity = Liquidity.TAKER,
    ) -> None:
        resting = working.order
        qty = resting.leaves_qty
        fee = order_fee(resting.qty, self._fee_per_share, self._min_fee) - working.fees_paid
        working.fees_paid += fee
        working.fill_count += 1
        del self._working[resting.order_id]
        self._outbox.append(
            VenueFill(
                order_id=resting.order_id, venue_order_id=resting.venue_order_id,
                fill_id=f"{resting.venue_order_id}-F{working.fill_count}", symbol=resting.symbol,
                side=resting.side, qty=qty, price=max(price, Decimal("0.01")), fee=fee,
                liquidity=liquidity, ts_ns=now_ns,
            )
        )  # fmt: skip
