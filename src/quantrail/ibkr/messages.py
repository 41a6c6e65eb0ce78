"""TWS API messages as the gateway simulator speaks them, at server version 157.

Incoming requests are parsed into small records (only the fields the simulator acts on, read by
position as both ``ibapi`` and ``ib_async`` send them); outgoing messages are built as field lists
in the order both clients' decoders read them at this server version (``ib_async`` decoder.py,
``ibapi`` decoder.py/orderdecoder.py). Field layouts are the protocol's, not ours: see
``docs/ibkr.md`` for the sources.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from quantrail.ibkr.wire import Field, ProtocolError


class In(enum.IntEnum):
    """Client -> server message ids."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCOUNT_UPDATES = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DETAILS = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_MARKET_DATA_TYPE = 59
    REQ_GLOBAL_CANCEL = 58
    REQ_POSITIONS = 61
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    REQ_TICK_BY_TICK = 97
    CANCEL_TICK_BY_TICK = 98
    REQ_COMPLETED_ORDERS = 99


class Out(enum.IntEnum):
    """Server -> client message ids."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ORDER_STATUS = 3
    ERROR = 4
    OPEN_ORDER = 5
    ACCOUNT_DOWNLOAD_END = 54
    NEXT_VALID_ID = 9
    CONTRACT_DETAILS = 10
    EXEC_DETAILS = 11
    MANAGED_ACCOUNTS = 15
    CONTRACT_DETAILS_END = 52
    OPEN_ORDER_END = 53
    EXEC_DETAILS_END = 55
    MARKET_DATA_TYPE = 58
    COMMISSION_REPORT = 59
    POSITION = 61
    POSITION_END = 62
    ACCOUNT_UPDATE_MULTI_END = 74
    TICK_BY_TICK = 99
    COMPLETED_ORDERS_END = 102


@dataclass(frozen=True, slots=True)
class Contract:
    con_id: int
    symbol: str
    sec_type: str = "STK"
    exchange: str = "SMART"
    primary_exchange: str = ""
    currency: str = "USD"

    def fields(self) -> list[Field]:
        """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency,
        localSymbol, tradingClass: the block openOrder, execDetails and position carry."""
        return [
            self.con_id, self.symbol, self.sec_type, "", 0.0, "", "", self.exchange,
            self.currency, self.symbol, self.symbol,
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    order_id: int
    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    action: str
    total_quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    account: str
    order_ref: str

    @classmethod
    def parse(cls, fields: list[str]) -> PlaceOrder:
        """Fields after the id: orderId, the contract (conId, symbol, secType, lastTradeDate,
        strike, right, multiplier, exchange, primaryExchange, currency, localSymbol,
        tradingClass), secIdType, secId, action, totalQuantity, orderType, lmtPrice, auxPrice,
        tif, ocaGroup, account, openClose, origin, orderRef, ..."""
        if len(fields) < 27:
            raise ProtocolError(f"placeOrder: expected at least 27 fields, got {len(fields)}")
        return cls(
            order_id=_int("orderId", fields[1]),
            con_id=_int("conId", fields[2] or "0"),
            symbol=fields[3],
            sec_type=fields[4] or "STK",
            exchange=fields[9],
            primary_exchange=fields[10],
            currency=fields[11] or "USD",
            action=fields[16],
            total_quantity=_decimal("totalQuantity", fields[17]),
            order_type=fields[18],
            lmt_price=_optional_price(fields[19]),
            aux_price=_optional_price(fields[20]),
            tif=fields[21] or "DAY",
            account=fields[23],
            order_ref=fields[26],
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    """What openOrder and orderStatus report of one order."""

    order_id: int
    client_id: int
    perm_id: int
    contract: Contract
    action: str
    total_quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    aux_price: Decimal | None
    tif: str
    account: str
    order_ref: str
    status: str
    filled: Decimal
    remaining: Decimal
    avg_fill_price: Decimal
    last_fill_price: Decimal


@dataclass(frozen=True, slots=True)
class Execution:
    exec_id: str
    order_id: int
    perm_id: int
    client_id: int
    contract: Contract
    time: str  # "YYYYMMDD  HH:MM:SS" (two spaces), exchange-local or UTC
    account: str
    exchange: str
    side: str  # BOT | SLD
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    order_ref: str
    commission: Decimal


def next_valid_id(order_id: int) -> list[Field]:
    return [Out.NEXT_VALID_ID, 1, order_id]


def managed_accounts(accounts: list[str]) -> list[Field]:
    return [Out.MANAGED_ACCOUNTS, 1, ",".join(accounts)]


def error(req_id: int, code: int, message: str) -> list[Field]:
    """Below server version 166 there is no advanced-reject JSON field."""
    return [Out.ERROR, 2, req_id, code, message]


def order_status(view: OrderView) -> list[Field]:
    """Server >= 131: no version field; ends with whyHeld and mktCapPrice."""
    return [
        Out.ORDER_STATUS, view.order_id, view.status, view.filled, view.remaining,
        view.avg_fill_price, view.perm_id, 0, view.last_fill_price, view.client_id, "", 0.0,
    ]  # fmt: skip


def open_order(view: OrderView) -> list[Field]:
    """The long openOrder at server 157 (no version field since 145; faProfile below 177)."""
    return [
        Out.OPEN_ORDER, view.order_id, *view.contract.fields(),
        view.action, view.total_quantity, view.order_type, _price(view.lmt_price),
        _price(view.aux_price), view.tif, "", view.account, "O", 0, view.order_ref,
        view.client_id, view.perm_id, False, False, 0.0, "", "", "", "", "", "",
        *_open_order_middle(),
        *_open_order_state(view.status),
        *_open_order_tail(),
    ]  # fmt: skip


def _open_order_middle() -> list[Field]:
    """modelCode .. algoStrategy, all at their neutral values."""
    return [
        "", "", "", "", "", 0, "", 0, 0, "", "", "", "", "", 0, False, False, False, "", 0,
        False, False, "", 0, 0, "", 0, "", "",  # .. volatilityType, deltaNeutral type and aux
        0, 0, "", "", "", 0, "",  # continuousUpdate .. comboLegsDescrip
        0, 0, 0,  # combo legs, order combo legs, smart combo routing params
        "", "", "",  # scale init/subs level size, scale price increment
        "",  # hedgeType
        False, "", "", False, False,  # optOutSmartRouting, clearing, notHeld, no delta-neutral
        "",  # algoStrategy
    ]  # fmt: skip


def _open_order_state(status: str) -> list[Field]:
    """solicited, whatIf, then the order state: status, margins, commissions, warning."""
    return [False, False, status, *([""] * 9), "", "", "", "", "", False, False]


def _open_order_tail() -> list[Field]:
    """No conditions, then adjusted-order fields, soft dollar tier, cash qty and flags."""
    return [0, "", "", "", "", "", "", "", 0, "", "", "", "", False, False, "", False]


def open_order_end() -> list[Field]:
    return [Out.OPEN_ORDER_END, 1]


def exec_details(req_id: int, execution: Execution) -> list[Field]:
    e = execution
    return [
        Out.EXEC_DETAILS, req_id, e.order_id, *e.contract.fields(), e.exec_id, e.time,
        e.account, e.exchange, e.side, e.shares, e.price, e.perm_id, e.client_id, 0,
        e.cum_qty, e.avg_price, e.order_ref, "", "", "", 2,
    ]  # fmt: skip


def exec_details_end(req_id: int) -> list[Field]:
    return [Out.EXEC_DETAILS_END, 1, req_id]


def commission_report(exec_id: str, commission: Decimal, currency: str = "USD") -> list[Field]:
    return [Out.COMMISSION_REPORT, 1, exec_id, commission, currency, "", "", ""]


def position(account: str, contract: Contract, qty: Decimal, avg_cost: Decimal) -> list[Field]:
    return [Out.POSITION, 3, account, *contract.fields(), qty, avg_cost]


def position_end() -> list[Field]:
    return [Out.POSITION_END, 1]


def tick_price(req_id: int, tick_type: int, price: Decimal, size: int) -> list[Field]:
    """Version 6: price with its size and an attribute mask (0)."""
    return [Out.TICK_PRICE, 6, req_id, tick_type, price, size, 0]


def tick_size(req_id: int, tick_type: int, size: int) -> list[Field]:
    return [Out.TICK_SIZE, 6, req_id, tick_type, size]


def tick_by_tick_last(
    req_id: int, time_s: int, price: Decimal, size: int, exchange: str, conditions: str
) -> list[Field]:
    """An ``AllLast`` print (tick type 2): time in whole seconds, a zero attribute mask."""
    return [Out.TICK_BY_TICK, req_id, 2, time_s, price, size, 0, exchange, conditions]


def market_data_type(req_id: int, data_type: int) -> list[Field]:
    return [Out.MARKET_DATA_TYPE, 1, req_id, data_type]


def account_download_end(account: str) -> list[Field]:
    return [Out.ACCOUNT_DOWNLOAD_END, 1, account]


def account_update_multi_end(req_id: int) -> list[Field]:
    return [Out.ACCOUNT_UPDATE_MULTI_END, 1, req_id]


def completed_orders_end() -> list[Field]:
    return [Out.COMPLETED_ORDERS_END]


def contract_details(req_id: int, contract: Contract) -> list[Field]:
    """Version 8 below server 164: with the obsolete mdSizeMultiplier after minTick."""
    c = contract
    return [
        Out.CONTRACT_DETAILS, 8, req_id, c.symbol, c.sec_type, "", 0.0, "", c.exchange,
        c.currency, c.symbol, c.symbol, c.symbol, c.con_id, 0.01, 1, "", "LMT,MKT",
        "SMART,ISLAND,NYSE,ARCA", 1, 0, c.symbol, c.primary_exchange or "NYSE", "", "", "", "",
        "US/Eastern", "", "", "", "", 0, "", "", "", "26", "", "COMMON",
    ]  # fmt: skip


def contract_details_end(req_id: int) -> list[Field]:
    return [Out.CONTRACT_DETAILS_END, 1, req_id]


def _price(value: Decimal | None) -> Field:
    return "" if value is None else value


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"{name}: expected an integer, got {text!r}") from None


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise ProtocolError(f"{name}: expected a number, got {text!r}") from None
    if not value.is_finite():
        raise ProtocolError(f"{name}: expected a finite number, got {text!r}")
    return value


def _optional_price(text: str) -> Decimal | None:
    if text in ("", "1.7976931348623157E308", "1.7976931348623157e+308"):
        return None
    value = _decimal("price", text)
    return value if value != 0 else None
