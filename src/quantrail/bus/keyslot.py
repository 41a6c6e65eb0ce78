"""Redis Cluster hash tags: which part of a key decides its slot, and keys that share it.

Redis hashes only the text inside the first ``{…}`` of a key when there is one (and it is not
empty); otherwise the whole key. Keys that one script or transaction touches must share a slot,
so a key that must live beside another is built under the other's tag.
"""

from __future__ import annotations


def hash_tag(key: str) -> str:
    """The text Redis hashes for ``key``: its first non-empty ``{…}``, else the whole key."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def beside(key: str, name: str) -> str:
    """The key ``name:{tag}``: in the same cluster slot as ``key`` (whose tag it carries).

    ``name`` should carry the namespace (``names.key("effects")``): a shard's tag (``s07``) is
    the same in every namespace. A handler whose effect must share a Lua script with its
    idempotency mark builds its effect key with ``beside(delivery.mark, names.key("effects"))``.
    """
    tag = hash_tag(key)
    if "}" in tag:
        raise ValueError(f"key {key!r}: a '}}' in an untagged key cannot be used as a hash tag")
    return f"{name}:{{{tag}}}"
