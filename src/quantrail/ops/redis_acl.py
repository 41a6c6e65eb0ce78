"""The Redis ACL user each quantrail service needs: the commands it sends, the keys it touches.

Every service reaches Redis through the bus (``bus/redis.py``): streams, consumer groups, the
idempotency marks (``SET NX EX`` inside one script with ``XACK``), the ``state:`` hashes. The
execution service also keeps its order registry in hashes and sets (``execution/registry.py``).
The inspection verbs (``streams``, ``tail``, ``publish``, ``replay``, ``dlq``) need a few more:
listing streams (``SCAN``), consumer details and deleting dead letters (``XDEL``).

No user gets what could lose data wholesale or change the server: ``FLUSHALL``, ``FLUSHDB``,
``KEYS``, ``CONFIG``, ``ACL``, ``SHUTDOWN``, ``DEBUG``, ``MODULE`` are never granted. Keys are
limited to the namespace (``paper:*``); no Pub/Sub channels. docs/security.md prints the lines.
"""

from __future__ import annotations

from quantrail.ops.service_names import SERVICE_NAMES

BUS_COMMANDS: tuple[str, ...] = (
    # connection (redis-py's CLIENT SETINFO at connect may be refused: it carries on)
    "ping", "select",
    "xadd", "xrange", "xrevrange", "xread",  # publish and read
    "xgroup|create", "xreadgroup", "xack", "xpending", "xclaim", "xautoclaim",  # groups
    "xinfo|stream", "xinfo|groups",  # stream info (a simulated start, heartbeats)
    "evalsha", "eval", "script|load",  # the ack-and-mark script
    "set", "mget",  # the idempotency marks (SET inside the script)
    "multi", "exec", "del", "hset", "hgetall", "exists",  # dead letters, state hashes
)  # fmt: skip
REGISTRY_COMMANDS: tuple[str, ...] = ("hget", "sadd", "srem", "smembers")
INSPECT_COMMANDS: tuple[str, ...] = ("scan", "xinfo|consumers", "xdel", "xlen")
OPS_USER = "ops"
"""The user of the inspection verbs (``quantrail streams/tail/publish/replay/dlq``)."""
UP_USER = "up"
"""The user of ``quantrail up``: every service in one process, so every service's commands."""


def commands_for(user: str) -> tuple[str, ...]:
    """The commands the ACL user of ``user`` (a service name, or ``ops``) needs."""
    if user == OPS_USER:
        return BUS_COMMANDS + INSPECT_COMMANDS
    if user == UP_USER:
        return BUS_COMMANDS + REGISTRY_COMMANDS
    if user not in SERVICE_NAMES:
        raise ValueError(f"user: not a service name, {OPS_USER!r} or {UP_USER!r}: {user!r}")
    return BUS_COMMANDS + (REGISTRY_COMMANDS if user == "execution" else ())


def acl_user_name(user: str) -> str:
    return f"quantrail-{user}"


def acl_rule(user: str, namespace: str, password: str | None = None) -> str:
    """One ``aclfile`` line (the same words work after ``ACL SETUSER``): the user, its
    password (``>secret``; omitted: set it with ACL SETUSER), its keys and its commands."""
    secret = f" >{password}" if password else ""
    commands = " ".join(f"+{command}" for command in commands_for(user))
    return (
        f"user {acl_user_name(user)} on{secret} resetkeys ~{namespace}:* resetchannels "
        f"-@all {commands}"
    )


def acl_users() -> dict[str, tuple[str, ...]]:
    """Every user (each service, ``up`` and ``ops``) with its commands, for docs and tests."""
    return {acl_user_name(u): commands_for(u) for u in (*SERVICE_NAMES, UP_USER, OPS_USER)}
