"""Market data from Interactive Brokers onto the bus: L1 quotes and trade prints.

``reqMktData`` gives bid, ask, their sizes and the last print (price and size); each change
becomes a ``market.quote.updated`` or ``market.trade.printed``, so truth ticks, GRPAN, candles
and the simulated venue's twin all work on live IB data. IB's L1 ``last`` carries no venue or
sale conditions, so truth ticks filter by size only (round lots); IB's ``AllLast``
tick-by-tick prints, which carry the exchange and conditions, are not read yet
(``docs/ibkr.md``, "Not supported yet"). ``market_data_type: 3`` takes delayed data (a paper
account without a subscription).

ib_async calls back synchronously; changes are collected per tick of the service's timer and
published in one batch, in the order they arrived. A lost connection is an ERROR alert, then a
reconnect with the configured backoff and fresh subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from decimal import Decimal

from ib_async import IB, Ticker
from ib_async.objects import TickByTickAllLast

from quantrail.config import Config
from quantrail.events import AlertTriggered, Event, QuoteUpdated, TradePrinted
from quantrail.ibkr.config import IbkrConfig
from quantrail.ibkr.contracts import ContractBook
from quantrail.risk.baseline import load_baseline
from quantrail.runtime.service import Service, Timer

log = logging.getLogger("quantrail.ibkr")

NAME = "marketdata"
MARKET_DATA_CLIENT_OFFSET = 100
"""The market data connection's client id is the execution's plus this (IB allows one
connection per client id)."""


def ibkr_symbols(config: Config) -> list[str]:
    """What to subscribe: ``ibkr.contracts``, the symbol groups, the strategy's symbols and the
    accounts' baseline positions, in that order, each once."""
    symbols = [*config.ibkr.contracts, *config.risk.groups, *config.strategy.symbols]
    for account in config.risk.accounts:
        if account.baseline:
            symbols.extend(row.symbol for row in load_baseline(account.baseline))
    return list(dict.fromkeys(symbols))


class IbkrMarketDataService(Service):
    name = NAME

    def __init__(self, config: IbkrConfig, symbols: list[str], ib: IB | None = None) -> None:
        super().__init__()
        self.config = config
        self.symbols = symbols
        self.ib = ib or IB()
        self._tickers: dict[str, Ticker] = {}
        self._contracts = ContractBook(config)
        self._last_seen: dict[str, tuple[object, ...]] = {}
        self._prints_from: dict[str, Ticker] = {}
        self._quoted: set[str] = set()
        self._prints: list[_Print] = []
        self.published = 0
        self.ib.pendingTickersEvent += self._on_tickers
        self.ib.disconnectedEvent += self._on_disconnected
        self._reconnect: asyncio.Task[None] | None = None

    def timers(self) -> list[Timer]:
        return [Timer(0.1, self.publish_changes, "ib-ticks")]

    async def on_start(self) -> None:
        await self._connect()

    async def on_stop(self) -> None:
        if self._reconnect is not None:
            self._reconnect.cancel()
        self.ib.disconnect()

    async def _connect(self) -> None:
        client_id = self.config.client_id + MARKET_DATA_CLIENT_OFFSET
        timeout = self.config.connect_timeout_s
        await self.ib.connectAsync(
            self.config.host, self.config.port, clientId=client_id, timeout=timeout
        )
        self.ib.reqMarketDataType(self.config.market_data_type)
        for symbol in self.symbols:
            contract = await self._contracts.qualified(self.ib, symbol)
            self._tickers[symbol] = self.ib.reqMktData(contract, "", False, False)
            if self.config.tick_by_tick:
                self._prints_from[symbol] = self.ib.reqTickByTickData(contract, "AllLast")

    def _on_tickers(self, tickers: set[Ticker]) -> None:
        """ib_async clears a ticker's ticks after this callback: the prints are taken now."""
        for ticker in tickers:
            symbol = self._symbol_of(ticker)
            if any(known is ticker for known in self._prints_from.values()):
                self._prints.extend(self._tick_by_tick_prints(symbol, ticker))
            else:
                self._quoted.add(symbol)
                if not self.config.tick_by_tick:
                    self._prints.extend(self._l1_prints(symbol, ticker))

    def _symbol_of(self, ticker: Ticker) -> str:
        for symbol, known in self._tickers.items():
            if known is ticker:
                return symbol
        for symbol, known in self._prints_from.items():
            if known is ticker:
                return symbol
        return ticker.contract.symbol if ticker.contract else ""

    @staticmethod
    def _l1_prints(symbol: str, ticker: Ticker) -> list[_Print]:
        """L1 ``last`` ticks (4, delayed 68) with a size: a print each, no venue."""
        return [
            _Print(symbol, tick.price, int(tick.size), "IBKR", [])
            for tick in ticker.ticks
            if tick.tickType in (4, 68) and _valid(tick.price) and tick.size > 0
        ]

    @staticmethod
    def _tick_by_tick_prints(symbol: str, ticker: Ticker) -> list[_Print]:
        """``AllLast`` prints, with the exchange and the sale conditions (codes)."""
        prints: list[_Print] = []
        for tick in ticker.tickByTicks:
            if not isinstance(tick, TickByTickAllLast) or not _valid(tick.price) or tick.size <= 0:
                continue
            conditions = [code for code in str(tick.specialConditions).split() if code]
            venue = str(tick.exchange) or "IBKR"
            prints.append(_Print(symbol, tick.price, int(tick.size), venue, conditions))
        return prints

    async def publish_changes(self) -> int:
        quoted, self._quoted = self._quoted, set()
        prints, self._prints = self._prints, []
        now = self.ctx.now_ns()
        events: list[Event] = [*self._quotes(sorted(quoted), now)]
        events.extend(
            TradePrinted(
                ts_event=now,
                source=NAME,
                symbol=p.symbol,
                price=_money(p.price),
                size=p.size,
                venue=p.venue,
                conditions=p.conditions,
            )
            for p in prints
        )
        if events:
            await self.ctx.publish_batch(events)
            self.published += len(events)
        return len(events)

    def _quotes(self, symbols: list[str], now: int) -> list[Event]:
        """The latest top of book of each symbol that changed (conflated to the timer)."""
        events: list[Event] = []
        for symbol in symbols:
            ticker = self._tickers.get(symbol)
            if ticker is None:
                continue
            quote = (ticker.bid, ticker.ask, ticker.bidSize, ticker.askSize)
            if _valid(ticker.bid) and _valid(ticker.ask) and self._new(symbol, "quote", quote):
                events.append(
                    QuoteUpdated(
                        ts_event=now,
                        source=NAME,
                        symbol=symbol,
                        bid=_money(ticker.bid),
                        ask=_money(ticker.ask),
                        bid_size=_size(ticker.bidSize),
                        ask_size=_size(ticker.askSize),
                        venue="IBKR",
                    )
                )
        return events

    def _new(self, symbol: str, what: str, value: tuple[object, ...]) -> bool:
        key = f"{symbol}:{what}"
        if self._last_seen.get(key) == value:
            return False
        self._last_seen[key] = value
        return True

    def _on_disconnected(self) -> None:
        if self._ctx is None or self._reconnect is not None:
            return
        self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        where = f"{self.config.host}:{self.config.port}"
        await self.ctx.publish(
            AlertTriggered(
                ts_event=self.ctx.now_ns(),
                alert_id=f"{NAME}:ib_disconnected:{self.ctx.now_ns()}",
                source=NAME,
                severity="ERROR",
                message=f"IB market data connection to {where} lost; reconnecting",
            )
        )
        backoff = self.config.reconnect_backoff_s
        attempt = 0
        while True:
            await asyncio.sleep(backoff[min(attempt, len(backoff) - 1)])  # backoff by design
            attempt += 1
            try:
                await self._connect()
                break
            except (ConnectionError, OSError, TimeoutError) as exc:
                log.warning("IB market data: reconnect to %s failed: %s", where, exc)
        self._reconnect = None

    def health(self) -> dict[str, object]:
        return {"published": self.published, "connected": self.ib.isConnected()}


@dataclass(frozen=True, slots=True)
class _Print:
    symbol: str
    price: float
    size: int
    venue: str
    conditions: list[str]


def _valid(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _money(value: float) -> Decimal:
    return Decimal(str(value))  # the float's shortest text: 97.71, not 97.7099999...


def _size(value: float | None) -> int:
    return int(value) if value is not None and math.isfinite(value) else 0
