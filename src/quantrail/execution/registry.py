"""The order registry: every order the execution service made, kept so a restart loses none.

Two implementations with one behaviour. ``RedisOrderRegistry`` keeps each account's orders and
indexes under the account's hash tag and two global keys beside them (``registry_keys.py``), so
it runs on one Redis and on a Redis Cluster alike.

Creating an order is two atomic steps, each a Lua script on one slot:

1. **the claim**, on the global index: the intent is claimed for the order id (an intent has
   one order for ever: a claim by another id answers with that order) and the order id for the
   account (an id lives in one account), and the account is noted;
2. **the record**, on the account's slot: the order hash is written unless it exists, with its
   open/account/symbol sets.

Racing creates of one intent carry one order id (``order_id_for_intent``): they pass the claim
alike and the record makes exactly one of them. A crash between the two steps leaves a claim
without an order: nothing reads a claim alone as an order (``order_id_for_intent`` and ``get``
look for the hash), and the redelivered intent passes its own claim and writes the record.
Successors of a replace share their intent id and are created if absent by order id
(``by_intent=False``: no intent claim). ``save`` rewrites the hash and its open-set membership
in one script on the account's slot. A store written by an older release (untagged keys) is
moved to this layout the first time a registry touches it (``registry_migrate.py``).

``MemoryOrderRegistry`` does the same in process; ``registry_for(bus)`` picks by transport and
gives every service on one in-process transport the same memory registry, so a restarted
service finds its orders.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from quantrail.bus.bus import EventBus
from quantrail.bus.redis import RedisTransport
from quantrail.bus.transport import Transport
from quantrail.events.streams import StreamNames
from quantrail.execution.order import Order
from quantrail.execution.registry_keys import LegacyKeys, RegistryKeys, intent_field, order_field
from quantrail.execution.registry_migrate import migrate_legacy

# KEYS: index, accounts. ARGV: order id, account, intent id ('' = not by intent).
# Returns {1, order id} when claimed (again, by the same order: idempotent), else {0, owner}.
_CLAIM = """
if ARGV[3] ~= '' then
  local owner = redis.call('HGET', KEYS[1], 'intent:' .. ARGV[3])
  if owner and owner ~= ARGV[1] then return {0, owner} end
end
local home = redis.call('HGET', KEYS[1], 'order:' .. ARGV[1])
if home and home ~= ARGV[2] then return {0, ARGV[1]} end
redis.call('HSET', KEYS[1], 'order:' .. ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'intent:' .. ARGV[3], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[2])
return {1, ARGV[1]}
"""

# KEYS: order hash, open set, account set, symbol set. ARGV: order id, is open, fields...
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if ARGV[2] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""

# KEYS: order hash, open set. ARGV: order id, is open, fields... 0 when never created.
_SAVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if ARGV[2] == '1' then
  redis.call('SADD', KEYS[2], ARGV[1])
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
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


def _order_args(order: Order) -> list[str]:
    """ARGV of the record and save scripts: id, open flag, then the hash's fields."""
    fields = [item for pair in order.to_dict().items() for item in pair]
    return [order.order_id, "1" if order.is_open else "0", *fields]


class RedisOrderRegistry:
    """The registry on Redis or a Redis Cluster; ``client`` is the redis-py asyncio client
    (bytes replies), single-node or cluster."""

    def __init__(self, client: Any, names: StreamNames) -> None:
        self._client: Any = client
        self.keys = RegistryKeys(names)
        self._legacy = LegacyKeys(names)
        self._claim = client.register_script(_CLAIM)
        self._record = client.register_script(_RECORD)
        self._save = client.register_script(_SAVE)
        self._migrated = False
        self._migrating = asyncio.Lock()

    async def _ready(self) -> None:
        """Move an older release's layout over, once per registry (a no-op after that). The
        migration creates through ``_create``, which must never wait for this."""
        if self._migrated:
            return
        async with self._migrating:
            if not self._migrated:
                await migrate_legacy(self._client, self._legacy, self._create)
                self._migrated = True

    async def create(self, order: Order, *, by_intent: bool = True) -> tuple[Order, bool]:
        await self._ready()
        return await self._create(order, by_intent)

    async def _create(self, order: Order, by_intent: bool) -> tuple[Order, bool]:
        intent = order.intent_id if by_intent else ""
        claim = [self.keys.index, self.keys.accounts]
        claimed, owner = await self._claim(keys=claim, args=[order.order_id, order.account, intent])
        if claimed:
            keys = self.keys
            account = order.account
            record = [
                keys.order(account, order.order_id),
                keys.open(account),
                keys.every(account),
                keys.symbol(account, order.symbol),
            ]
            if await self._record(keys=record, args=_order_args(order)):
                return _copy(order), True
        found = _text(owner)
        stored = await self._get(found)
        if stored is None:
            raise KeyError(f"order_id: {found!r} is indexed but has no hash")
        return stored, False

    async def save(self, order: Order) -> None:
        await self._ready()
        keys = [self.keys.order(order.account, order.order_id), self.keys.open(order.account)]
        _require_created(order.order_id, bool(await self._save(keys=keys, args=_order_args(order))))

    async def _home(self, order_id: str) -> str | None:
        """The account an order id lives in (its claim), or None."""
        home = await self._client.hget(self.keys.index, order_field(order_id))
        return None if home is None else _text(home)

    async def get(self, order_id: str) -> Order | None:
        await self._ready()
        return await self._get(order_id)

    async def _get(self, order_id: str) -> Order | None:
        home = await self._home(order_id)
        if home is None:
            return None
        raw = await self._client.hgetall(self.keys.order(home, order_id))
        return _decode(raw) if raw else None

    async def order_id_for_intent(self, intent_id: str) -> str | None:
        """The intent's order id, once its order exists (a claim alone is not an order)."""
        await self._ready()
        found = await self._client.hget(self.keys.index, intent_field(intent_id))
        if found is None:
            return None
        order_id = _text(found)
        home = await self._home(order_id)
        if home is None or not await self._client.exists(self.keys.order(home, order_id)):
            return None
        return order_id

    async def _orders_in(self, account: str, set_key: str) -> list[Order]:
        ids = sorted(_text(i) for i in await self._client.smembers(set_key))
        if not ids:
            return []
        pipe = self._client.pipeline(transaction=False)  # one slot: the account's
        for order_id in ids:
            pipe.hgetall(self.keys.order(account, order_id))
        return _in_order(_decode(raw) for raw in await pipe.execute() if raw)

    async def open_orders(self, account: str) -> list[Order]:
        await self._ready()
        return await self._orders_in(account, self.keys.open(account))

    async def orders_for_account(self, account: str) -> list[Order]:
        await self._ready()
        return await self._orders_in(account, self.keys.every(account))

    async def orders_for_symbol(self, symbol: str) -> list[Order]:
        found: list[Order] = []
        for account in await self.accounts():
            found.extend(await self._orders_in(account, self.keys.symbol(account, symbol)))
        return _in_order(found)

    async def accounts(self) -> list[str]:
        await self._ready()
        return sorted(_text(a) for a in await self._client.smembers(self.keys.accounts))

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
