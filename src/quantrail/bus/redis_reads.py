"""A group consumer's read on a single Redis: acks, wait, read and mark check in one write.

A plain consumer cycle is three round trips: the last batch's ack, a blocking XREADGROUP, and
an MGET of the new entries' idempotency marks before any handler may run. Each is a wake-up of
the consumer and of Redis; on a busy machine every wake-up is a chance to wait for a core, and
the one between read and handler adds to every event's latency. Here one write carries:

1. the ack scripts of the last batch (``ACK_AND_MARK``; applied before anything waits);
2. ``XREAD COUNT 1 BLOCK <block_ms> STREAMS <keys> <ids>``: only a wait. It returns as soon as
   one of the streams has an entry after the id given, which is the newest id this group had
   been given (or the stream's newest entry when it had been given everything); it delivers
   nothing to the group;
3. ``READ_AND_CHECK``: XREADGROUP ``>`` of up to ``count`` entries and, for each, whether its
   mark is set (the marks are ``mark_prefix + key``), in one script, so atomically.

Redis runs the script the moment the XREAD returns, so the consumer wakes once, with its
entries and their marks. Behind a backlog (the last batch was full) latency is not the point
and Redis's CPU is: there the write carries the acks and a plain XREADGROUP, and the consumer
checks the marks with MGET, as a batch of 500 costs Redis less that way than through a script
(whose reply is converted to Lua tables and back). What is delivered, to whom and how often
is what XREADGROUP alone does: the XREAD only decides when to look. A wait that found nothing
new (another consumer of the group was faster, or ``block_ms`` passed) returns an empty batch,
as a blocking read does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from redis import exceptions as redis_errors

from quantrail.bus.redis_wire import Command, RedisWire
from quantrail.bus.transport import Ack, Entry, GroupBatch, GroupRead, log_lost_ack

# KEYS: the idempotency marks, then the stream; ARGV: mark TTL, group, entry ids. One slot on a
# cluster (the marks sit in their stream's slot), so the cluster transport runs it as it is.
ACK_AND_MARK = """
local stream = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1])
end
if #ARGV > 2 then
  return redis.call('XACK', stream, ARGV[2], unpack(ARGV, 3))
end
return 0
"""

# KEYS: the streams; ARGV: group, consumer, count, mark prefix ('' checks no marks).
# Returns the XREADGROUP reply (nil when nothing was new), one 0/1 per entry read (its mark's
# EXISTS, in reply order), and per stream the id to wait after next: the newest entry read
# from it, else its newest entry ('0-0' when it has none).
READ_AND_CHECK = """
local args = {'XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS'}
for i = 1, #KEYS do args[#args + 1] = KEYS[i] end
for i = 1, #KEYS do args[#args + 1] = '>' end
local reply = redis.call(unpack(args))
local seen, newest, after = {}, {}, {}
for _, stream in ipairs(reply or {}) do
  local rows = stream[2]
  newest[stream[1]] = rows[#rows][1]
  if ARGV[4] ~= '' then
    for _, row in ipairs(rows) do
      local key = row[1]
      local fields = row[2] or {}
      for j = 1, #fields, 2 do
        if fields[j] == 'key' then
          if fields[j + 1] ~= '' then key = fields[j + 1] end
          break
        end
      end
      seen[#seen + 1] = redis.call('EXISTS', ARGV[4] .. key)
    end
  end
end
for i = 1, #KEYS do
  local last = newest[KEYS[i]]
  if not last then
    local top = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
    last = top[1] and top[1][1] or '0-0'
  end
  after[i] = last
end
return {reply or false, seen, after}
"""

_ACK_SHA = hashlib.sha1(ACK_AND_MARK.encode()).hexdigest()
_READ_SHA = hashlib.sha1(READ_AND_CHECK.encode()).hexdigest()


class GroupReads:
    """``ack_and_read_new`` of the single-node transport; remembers, per group, consumer and
    stream, the id to wait after."""

    def __init__(self, wire: RedisWire) -> None:
        self._wire = wire
        self._after: dict[tuple[str, str, str], str] = {}
        self._behind: set[tuple[str, str]] = set()

    async def ack_and_read_new(self, read: GroupRead) -> GroupBatch:
        acks = [ack for ack in read.acks if ack.ids or ack.marks]
        commands: list[Command] = [ack_command(ack, read.group, read.ttl_s) for ack in acks]
        behind = (read.group, read.consumer) in self._behind
        if behind:  # a backlog: no wait, and the marks by MGET (less work for Redis per entry)
            commands.append(
                read_command(
                    ["XREADGROUP", "GROUP", read.group, read.consumer],
                    dict.fromkeys(read.keys, ">"),
                    read.count,
                    read.block_ms,
                )
            )
        else:
            commands += [self._wait(read), self._read(read, "EVALSHA", _READ_SHA)]
        replies = await self._wire.exchange(commands, max(read.block_ms, 0) / 1000)
        for ack, outcome in zip(acks, replies, strict=False):
            await self._settle_ack(ack, outcome, read)
        reply = replies[-1]
        if behind:
            return self._bulk(read, reply)
        if isinstance(reply, redis_errors.NoScriptError):  # a restarted Redis: EVAL loads it
            reply = await self._wire.call(*self._read(read, "EVAL", READ_AND_CHECK))
        elif isinstance(reply, Exception):
            raise self._failed(read, reply)
        found, seen, after = reply
        for key, last in zip(read.keys, after, strict=True):
            self._after[(read.group, read.consumer, key)] = last.decode()
        entries = entries_from_raw_read(found)
        self._note_full(read, entries)
        return GroupBatch(entries, [bool(s) for s in seen] if read.mark_prefix else None)

    def _bulk(self, read: GroupRead, reply: Any) -> GroupBatch:
        if isinstance(reply, Exception):
            raise self._failed(read, reply)
        entries = entries_from_raw_read(reply)
        for entry in entries:  # the newest of each stream comes last
            self._after[(read.group, read.consumer, entry.stream)] = entry.entry_id
        self._note_full(read, entries)
        return GroupBatch(entries)

    def _failed(self, read: GroupRead, error: Exception) -> Exception:
        if str(error).startswith("NOGROUP"):  # the stream was lost, and its ids with it
            for key in read.keys:
                self._after.pop((read.group, read.consumer, key), None)
            self._behind.discard((read.group, read.consumer))
        return error

    def _note_full(self, read: GroupRead, entries: list[Entry]) -> None:
        """A full batch means a backlog: the next read skips the wait and the script."""
        if len(entries) >= read.count:
            self._behind.add((read.group, read.consumer))
        else:
            self._behind.discard((read.group, read.consumer))

    def _wait(self, read: GroupRead) -> Command:
        ids = [self._after.get((read.group, read.consumer, key), "0-0") for key in read.keys]
        wait: list[bytes | str | int] = ["XREAD", "COUNT", 1]
        if read.block_ms > 0:  # Redis reads BLOCK 0 as "for ever"; here 0 means "do not block"
            wait += ["BLOCK", read.block_ms]
        return [*wait, "STREAMS", *read.keys, *ids]

    @staticmethod
    def _read(read: GroupRead, verb: str, script: str) -> Command:
        marks = read.mark_prefix or ""
        keys = len(read.keys)
        return [verb, script, keys, *read.keys, read.group, read.consumer, read.count, marks]

    async def _settle_ack(self, ack: Ack, outcome: Any, read: GroupRead) -> None:
        if isinstance(outcome, redis_errors.NoScriptError):  # a restarted Redis forgot it
            await self._wire.call(
                "EVAL", ACK_AND_MARK, *ack_command(ack, read.group, read.ttl_s)[2:]
            )
        elif isinstance(outcome, Exception) and str(outcome).startswith("NOGROUP"):
            log_lost_ack(read.group, ack.stream)
        elif isinstance(outcome, Exception):
            raise outcome


def ack_command(ack: Ack, group: str, ttl_s: int) -> list[bytes | str | int]:
    """EVALSHA of ``ACK_AND_MARK`` (its arguments from the third on are EVAL's too)."""
    keys = [*ack.marks, ack.stream]
    return ["EVALSHA", _ACK_SHA, len(keys), *keys, max(ttl_s, 1), group, *ack.ids]


def read_command(
    head: list[str], streams: Mapping[str, str], count: int, block_ms: int
) -> list[bytes | str | int]:
    """XREAD or XREADGROUP (``head``) of ``streams`` (key: id after which to read)."""
    command: list[bytes | str | int] = [*head, "COUNT", count]
    if block_ms > 0:  # Redis reads BLOCK 0 as "for ever"; here 0 means "do not block"
        command += ["BLOCK", block_ms]
    return [*command, "STREAMS", *streams.keys(), *streams.values()]


def entries_from_raw_read(reply: Any) -> list[Entry]:
    """Entries of a raw XREAD/XREADGROUP reply: ``{stream: [[id, [f, v, ...]], ...]}`` in RESP3
    (redis-py 8's default), ``[[stream, rows], ...]`` in RESP2 and from a script, ``None`` when
    a blocking read timed out; an entry deleted while pending has no fields."""
    entries: list[Entry] = []
    for stream, rows in reply.items() if isinstance(reply, dict) else reply or ():
        name = stream.decode()
        for entry_id, flat in rows:
            pairs = iter(flat or ())
            entries.append(Entry(name, entry_id.decode(), dict(zip(pairs, pairs, strict=False))))
    return entries
