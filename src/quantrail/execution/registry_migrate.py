"""Moving an order registry written by an older release (untagged keys) to the tagged layout.

Older releases kept ``<ns>:order:<id>``, ``<ns>:orders:intent``, ``<ns>:orders:open:<account>``,
``<ns>:orders:symbol:<symbol>``, ``<ns>:orders:account:<account>`` and ``<ns>:orders:accounts``
(``registry_keys.LegacyKeys``). The first time a registry of this release touches a store that
still has ``<ns>:orders:accounts``, every order found there is created in the new layout (create
if absent: an order already moved, or written since, is never overwritten), under its intent
when the old intent index pointed at it. Only then are the old keys deleted, the accounts set
last: a crash at any point leaves it in place, and the next registry does the rest again.
Two processes migrating at once both create if absent, so the result is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from quantrail.execution.order import Order
from quantrail.execution.registry_keys import LegacyKeys

log = logging.getLogger("quantrail.execution")

Create = Callable[[Order, bool], Awaitable[tuple[Order, bool]]]


async def migrate_legacy(client: Any, legacy: LegacyKeys, create: Create) -> int:
    """Move every order of the old layout over with ``create(order, by_intent)``; the number
    created. Nothing to do (one EXISTS) when there is no old layout."""
    if not await client.exists(legacy.accounts):
        return 0
    intents = {_text(k): _text(v) for k, v in (await client.hgetall(legacy.intents)).items()}
    accounts = sorted(_text(a) for a in await client.smembers(legacy.accounts))
    found, created, spent = 0, 0, [legacy.intents]
    for account in accounts:
        ids = sorted(_text(i) for i in await client.smembers(legacy.every(account)))
        spent += [legacy.every(account), legacy.open(account)]
        for order_id in ids:
            raw = await client.hgetall(legacy.order(order_id))
            spent.append(legacy.order(order_id))
            if not raw:
                continue
            order, found = Order.from_dict(_texts(raw)), found + 1
            spent.append(legacy.symbol(order.symbol))
            by_intent = intents.get(order.intent_id) == order.order_id
            created += (await create(order, by_intent))[1]
    for key in dict.fromkeys(spent):  # one key per call: they lie in many cluster slots
        await client.delete(key)
    await client.delete(legacy.accounts)
    log.warning(
        "order registry: moved %d orders of %d accounts from the untagged layout (%d created)",
        found,
        len(accounts),
        created,
    )
    return created


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}
