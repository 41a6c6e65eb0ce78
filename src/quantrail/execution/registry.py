"""The order registry: every order the execution service made, kept so a restart loses none.

Two implementations with one behaviour. ``RedisOrderRegistry`` keeps, behind the namespace:

* ``<ns>:order:<order_id>``: a hash, ``Order.to_dict()``;
* ``<ns>:orders:intent``: a hash intent id -> order id (the idempotency index);
* ``<ns>:orders:open:<account>``: the set of the account's open (non-terminal) order ids;
* ``<ns>:orders:symbol:<symbol>`` and ``<ns>:orders:account:<account>``: every order id of the
  symbol / account, open or not; ``<ns>:orders:accounts``: the accounts that have orders.

``create`` is one Lua script, so it is atomic: keyed by intent id, a second order for an intent
is never made, however many instances race (the answer is the order already there). Successors
of a replace share their intent id and are created if absent by order id instead. ``save`` writes
the hash and moves the id in or out of the open set in one MULTI. ``MemoryOrderRegistry`` does
the same in process; ``registry_for(bus)`` picks by transport and gives every service on one
in-process transport the same memory registry, so a restarted service finds its orders.
The keys of one order live in different hash slots: on a Redis Cluster they need hash tags.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport
from quantrail.bus.transport import Transport
from quantrail.events.streams import StreamNames
from quantrail.execution.order import Order

_CREATE = """
if ARGV[2] ~= '' then
  local existing = redis.call('HGET', KEYS[2], ARGV[2])
  if existing then return {0, existing} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, ARGV[1]} end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[1]) end
if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[1]) end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[6], ARGV[3])
return {1, ARGV[1]}
"""


class OrderRegistry(Protocol):
    async def create(self, order: Order, *, by_intent: bool = True) -> tuple[Order, bool]:
        """Store ``order`` unless its intent (or, ``by_intent=False``, its id) is already
        known. Returns the stored order and whether this call created it."""
        ...

    async def save(self, order: Order) -> None:
        """Overwrite a created order with its new state (and its open-set membership)."""

    async def get(self, order_id: str) -> Order | None: ...

    async def order_id_for_intent(self, intent_id: str) -> str | None: ...

    async def open_orders(self, account: str) -> list[Order]: ...

    async def orders_for_account(self, account: str) -> list[Order]: ...

    async def orders_for_symbol(self, symbol: str) -> list[Order]: ...

    async def accounts(self) -> list[str]: ...

    async def load_open(self) -> list[Order]:
        """Every open order of every account, oldest first: what a restart picks up."""
        ...


def _in_order(orders: Iterable[Order]) -> list[Order]:
    return sorted(orders, key=lambda order: (order.created_ns, order.order_id))


def _require_created(order_id: str, known: bool) -> None:
    if not known:
        raise KeyError(f"order_id: {order_id!r} was never created in the registry")


class RedisOrderRegistry:
    """The registry on Redis; ``client`` is the redis-py asyncio client (bytes replies)."""

    def __init__(self, client: Any, names: StreamNames) -> None:
        self._client: Any = client
        self._names = names
        self._create = client.register_script(_CREATE)

    def _key(self, suffix: str) -> str:
        return self._names.key(suffix)

    def _order_key(self, order_id: str) -> str:
        return self._key(f"order:{order_id}")

    async def create(self, order: Order, *, by_intent: bool = True) -> tuple[Order, bool]:
        keys = [
            self._order_key(order.order_id),
            self._key("orders:intent"),
            self._key(f"orders:open:{order.account}"),
            self._key(f"orders:symbol:{order.symbol}"),
            self._key(f"orders:account:{order.account}"),
            self._key("orders:accounts"),
        ]
        fields = [item for pair in order.to_dict().items() for item in pair]
        is_open = "1" if order.is_open else "0"
        intent = order.intent_id if by_intent else ""
        args = [order.order_id, intent, order.account, is_open, *fields]
        created, order_id = await self._create(keys=keys, args=args)
        if created:
            return _copy(order), True
        stored = await self.get(_text(order_id))
        if stored is None:
            raise KeyError(f"order_id: {_text(order_id)!r} is indexed but has no hash")
        return stored, False

    async def save(self, order: Order) -> None:
        key = self._order_key(order.order_id)
        _require_created(order.order_id, bool(await self._client.exists(key)))
        open_key = self._key(f"orders:open:{order.account}")
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(key, mapping=order.to_dict())
        if order.is_open:
            pipe.sadd(open_key, order.order_id)
        else:
            pipe.srem(open_key, order.order_id)
        await pipe.execute()

    async def get(self, order_id: str) -> Order | None:
        raw = await self._client.hgetall(self._order_key(order_id))
        return _decode(raw) if raw else None

    async def order_id_for_intent(self, intent_id: str) -> str | None:
        found = await self._client.hget(self._key("orders:intent"), intent_id)
        return None if found is None else _text(found)

    async def _orders_in(self, set_key: str) -> list[Order]:
        ids = sorted(_text(i) for i in await self._client.smembers(self._key(set_key)))
        if not ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for order_id in ids:
            pipe.hgetall(self._order_key(order_id))
        return _in_order(_decode(raw) for raw in await pipe.execute() if raw)

    async def open_orders(self, account: str) -> list[Order]:
        return await self._orders_in(f"orders:open:{account}")

    async def orders_for_account(self, account: str) -> list[Order]:
        return await self._orders_in(f"orders:account:{account}")

    async def orders_for_symbol(self, symbol: str) -> list[Order]:
        return await self._orders_in(f"orders:symbol:{symbol}")

    async def accounts(self) -> list[str]:
        return sorted(_text(a) for a in await self._client.smembers(self._key("orders:accounts")))

    async def load_open(self) -> list[Order]:
        found: list[Order] = []
        for account in await self.accounts():
            found.extend(await self.open_orders(account))
        return _in_order(found)


class MemoryOrderRegistry:
    """The same registry in process (orders kept as their string dicts, never shared)."""

    def __init__(self) -> None:
        self._orders: dict[str, dict[str, str]] = {}
        self._intents: dict[str, str] = {}
        self._open: dict[str, set[str]] = {}
        self._by_symbol: dict[str, set[str]] = {}
        self._by_account: dict[str, set[str]] = {}

    async def create(self, order: Order, *, by_intent: bool = True) -> tuple[Order, bool]:
        existing = self._intents.get(order.intent_id) if by_intent else None
        if existing is None and order.order_id in self._orders:
            existing = order.order_id
        if existing is not None:
            return Order.from_dict(self._orders[existing]), False
        self._orders[order.order_id] = order.to_dict()
        if by_intent:
            self._intents[order.intent_id] = order.order_id
        self._by_symbol.setdefault(order.symbol, set()).add(order.order_id)
        self._by_account.setdefault(order.account, set()).add(order.order_id)
        self._set_open(order)
        return _copy(order), True

    async def save(self, order: Order) -> None:
        _require_created(order.order_id, order.order_id in self._orders)
        self._orders[order.order_id] = order.to_dict()
        self._set_open(order)

    def _set_open(self, order: Order) -> None:
        open_ids = self._open.setdefault(order.account, set())
        if order.is_open:
            open_ids.add(order.order_id)
        else:
            open_ids.discard(order.order_id)

    async def get(self, order_id: str) -> Order | None:
        stored = self._orders.get(order_id)
        return None if stored is None else Order.from_dict(stored)

    async def order_id_for_intent(self, intent_id: str) -> str | None:
        return self._intents.get(intent_id)

    def _orders_in(self, ids: Iterable[str]) -> list[Order]:
        return _in_order(Order.from_dict(self._orders[order_id]) for order_id in ids)

    async def open_orders(self, account: str) -> list[Order]:
        return self._orders_in(self._open.get(account, ()))

    async def orders_for_account(self, account: str) -> list[Order]:
        return self._orders_in(self._by_account.get(account, ()))

    async def orders_for_symbol(self, symbol: str) -> list[Order]:
        return self._orders_in(self._by_symbol.get(symbol, ()))

    async def accounts(self) -> list[str]:
        return sorted(self._by_account)

    async def load_open(self) -> list[Order]:
        return self._orders_in(i for ids in self._open.values() for i in ids)


_MEMORY: weakref.WeakKeyDictionary[Transport, dict[str, MemoryOrderRegistry]] = (
    weakref.WeakKeyDictionary()
)


def registry_for(bus: EventBus) -> OrderRegistry:
    """Redis transport: a ``RedisOrderRegistry`` on its client. Memory transport: the one
    memory registry of that transport and namespace (it outlives any one service)."""
    if isinstance(bus.transport, RedisTransport):
        return RedisOrderRegistry(bus.transport.client, bus.names)
    by_namespace = _MEMORY.setdefault(bus.transport, {})
    return by_namespace.setdefault(bus.names.namespace, MemoryOrderRegistry())


def _copy(order: Order) -> Order:
    return Order.from_dict(order.to_dict())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(raw: Mapping[Any, Any]) -> Order:
    return Order.from_dict({_text(k): _text(v) for k, v in raw.items()})
