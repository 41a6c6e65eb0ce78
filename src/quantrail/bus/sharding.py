"""Sharding high-volume streams by symbol (``bus.shards``; DESIGN.md decision 11).

With ``shards: 1`` (the default) every stream is one key, exactly as before. With more, each
high-volume stream splits into ``shards`` streams, ``<stream>:{sNN}``: a symbol always lands in
the same shard (CRC-32 of the symbol, which every process and version computes alike), so one
symbol's events stay in order on one stream. Every stream of shard NN carries the same hash
tag ``{sNN}``, so what one consumer reads for a shard (quotes, signals, orders...) is one slot
of a Redis Cluster and one XREADGROUP. Streams per account or global (exposure, session, risk
mode, kill switch, audit, alerts) are never sharded; their key is their own hash tag.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from quantrail.events.base import Event

SHARDED_STREAMS = frozenset(
    {
        "market.quote",
        "market.trade",
        "market.tick",
        "market.candle",
        "market.feature",
        "signals.advisory",
        "risk.evaluation",
        "trades.request",
        "trades.order",
        "position.state",
    }
)
_SHARD_SUFFIX = re.compile(r":\{s(\d+)\}$")


class ShardingError(ValueError):
    """An event cannot be placed on a shard (a sharded stream's event without a symbol)."""


def shard_of(symbol: str, shards: int) -> int:
    """The shard of ``symbol``: stable across processes, hosts and Python versions."""
    return zlib.crc32(symbol.encode()) % shards


def shard_tag(index: int) -> str:
    return f"s{index:02d}"


def shard_index(stream: str) -> int | None:
    """``paper:trades.order:{s03}`` -> 3; None for a stream (or key) that is not a shard."""
    found = _SHARD_SUFFIX.search(stream)
    return None if found is None else int(found.group(1))


def base_stream(stream: str) -> str:
    """``trades.order:{s03}`` -> ``trades.order`` (a stream without a shard is itself)."""
    return _SHARD_SUFFIX.sub("", stream)


@dataclass(frozen=True, slots=True)
class Sharding:
    shards: int = 1
    streams: frozenset[str] = SHARDED_STREAMS

    def __post_init__(self) -> None:
        if not 1 <= self.shards <= 1024:
            raise ValueError(f"bus.shards: must be 1 to 1024, got {self.shards}")

    def is_sharded(self, stream: str) -> bool:
        return self.shards > 1 and stream in self.streams

    def shard_stream(self, stream: str, index: int) -> str:
        return f"{stream}:{{{shard_tag(index)}}}"

    def stream_for(self, stream: str, event: Event) -> str:
        """The (logical) stream that ``event`` of ``stream`` is written to."""
        if not self.is_sharded(stream):
            return stream
        symbol = getattr(event, "symbol", "")
        if not isinstance(symbol, str) or not symbol:
            raise ShardingError(
                f"{event.kind}: symbol is empty ({symbol!r}); {stream} is sharded by symbol"
                f" (bus.shards={self.shards})"
            )
        return self.shard_stream(stream, shard_of(symbol, self.shards))

    def expand(self, streams: Iterable[str], held: Iterable[int] | None = None) -> list[str]:
        """Each sharded stream as its shards (all, or the ``held`` ones); others as they are."""
        indexes = sorted(set(held)) if held is not None else list(range(self.shards))
        out: list[str] = []
        for stream in streams:
            if self.is_sharded(stream):
                out.extend(self.shard_stream(stream, i) for i in indexes)
            else:
                out.append(stream)
        return out
