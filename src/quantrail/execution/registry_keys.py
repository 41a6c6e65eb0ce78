"""Where the order registry keeps its data in Redis: one account's keys in one cluster slot.

Per account ``A`` (hash tag ``{acct:A}``, so the create script and the save script each touch
one slot, on one Redis or on a Redis Cluster):

* ``<ns>:order:{acct:A}:<order_id>``: the order, a hash (``Order.to_dict()``);
* ``<ns>:orders:open:{acct:A}``: the account's open (non-terminal) order ids;
* ``<ns>:orders:all:{acct:A}``: every order id of the account, open or not;
* ``<ns>:orders:symbol:{acct:A}:<symbol>``: every order id of the account in the symbol.

Global, beside ``<ns>:orders`` (hash tag ``{<ns>:orders}``, built by ``keyslot.beside``):

* ``<ns>:orders:index:{<ns>:orders}``: a hash, ``intent:<intent_id>`` -> order id (the intent
  claim: an intent has one order for ever) and ``order:<order_id>`` -> account (where an order
  id lives, so an order is found by its id alone);
* ``<ns>:orders:accounts:{<ns>:orders}``: the accounts that have orders.

The layout before this one (untagged: ``<ns>:order:<id>``, ``<ns>:orders:intent``, ...) is
named here too, for the one-time migration (``registry_migrate.py``).
"""

from __future__ import annotations

from quantrail.bus.keyslot import beside
from quantrail.events.streams import StreamNames


def account_tag(account: str) -> str:
    """``{acct:A}``: the hash tag of every per-account key (an account's keys share one slot)."""
    return f"{{acct:{account}}}"


class RegistryKeys:
    def __init__(self, names: StreamNames) -> None:
        self.names = names
        anchor = names.key("orders")
        self.index = beside(anchor, names.key("orders:index"))
        self.accounts = beside(anchor, names.key("orders:accounts"))

    def order(self, account: str, order_id: str) -> str:
        return self.names.key(f"order:{account_tag(account)}:{order_id}")

    def open(self, account: str) -> str:
        return self.names.key(f"orders:open:{account_tag(account)}")

    def every(self, account: str) -> str:
        return self.names.key(f"orders:all:{account_tag(account)}")

    def symbol(self, account: str, symbol: str) -> str:
        return self.names.key(f"orders:symbol:{account_tag(account)}:{symbol}")


def intent_field(intent_id: str) -> str:
    return f"intent:{intent_id}"


def order_field(order_id: str) -> str:
    return f"order:{order_id}"


class LegacyKeys:
    """The untagged layout of releases before the cluster one (read once, then removed)."""

    def __init__(self, names: StreamNames) -> None:
        self.names = names
        self.accounts = names.key("orders:accounts")
        self.intents = names.key("orders:intent")

    def order(self, order_id: str) -> str:
        return self.names.key(f"order:{order_id}")

    def open(self, account: str) -> str:
        return self.names.key(f"orders:open:{account}")

    def every(self, account: str) -> str:
        return self.names.key(f"orders:account:{account}")

    def symbol(self, symbol: str) -> str:
        return self.names.key(f"orders:symbol:{symbol}")
