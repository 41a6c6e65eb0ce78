"""The execution service's side of a Redis that lost its memory (``docs/redis_persistence.md``).

Noticed three ways: the service's marker in the bus state is gone (``MemoryWatch``), the order
registry no longer knows an order this process holds (``MirroredRegistry.missing``), or, at
start, the venue reports fills that ``trades.order`` does not have. Then, under the service's
lock, before any report is applied:

1. every order this process holds that the registry lost is written back;
2. the venue's fills are compared with the fill ids on ``trades.order`` and with the reports
   waiting to be applied (``fill_reconcile.compare_fills``): a fill our order has whose event
   is gone is published again, with its original fill id, time and fee (the ledger books it
   once: it is idempotent on the fill id); a fill our order lacks is queued as a report;
3. an ERROR alert names what was lost and what was done.

The same reconciliation runs on every start (before anything is sent) and after every Redis
outage (a fill saved just before Redis went away may never have been published).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from quantrail.bus.bus import EventBus
from quantrail.events import Event, EventDecodeError, OrderFilled, OrderPartiallyFilled
from quantrail.execution.fill_reconcile import FillGap, compare_fills, order_at_fill
from quantrail.execution.order_events import OrderEvents, alert
from quantrail.execution.registry_mirror import MirroredRegistry
from quantrail.execution.report_inbox import ReportInbox
from quantrail.execution.venues import Venue, VenueFill, VenueReport
from quantrail.execution.venues.base import FillRecord
from quantrail.runtime.memory_watch import MemoryWatch

log = logging.getLogger("quantrail.execution")

ORDERS_STREAM = "trades.order"
FILL_KINDS = {OrderFilled.__struct_config__.tag, OrderPartiallyFilled.__struct_config__.tag}
START, AFTER_OUTAGE = "start", "after a Redis outage"
MEMORY_LOST = "Redis lost its memory (restarted empty?)"
REGISTRY_LOST = "the order registry no longer knows orders this process holds"
SHOWN = 20  # ids named in an alert message (the details hold them all)
Publish = Callable[[list[Event]], Awaitable[None]]


class Recovery:
    def __init__(self, mirror: MirroredRegistry, venue: Venue, keep_s: int = 0) -> None:
        """``keep_s``: how long ``trades.order`` keeps an entry (its ``max_age_s``; 0: for
        ever): an older fill may have been trimmed from it, so it is not looked for."""
        self.mirror = mirror
        self.venue = venue
        self.keep_ns = keep_s * 1_000_000_000 if keep_s else 1 << 80
        self.stream = StreamFills()
        self.watch: MemoryWatch | None = None
        self.pending = ""  # why a reconciliation is due ("" when none)
        self.republished = 0
        self.reconciliations = 0
        self._recorded: list[VenueFill] = []
        self._written_back: set[str] = set()

    # --- the venue's fills --------------------------------------------------------------------

    def record(self, reports: Sequence[VenueReport]) -> None:
        """Keep the fills ``advance`` handed out, for a venue that has no record of its own."""
        if not isinstance(self.venue, FillRecord):
            self._recorded.extend(r for r in reports if isinstance(r, VenueFill))

    def fill_count(self) -> int:
        """How many fills the venue made for us (for the heartbeat)."""
        return len(self.venue.fills() if isinstance(self.venue, FillRecord) else self._recorded)

    def venue_fills(self) -> list[VenueFill]:
        if isinstance(self.venue, FillRecord):
            return self.venue.fills()
        return list(self._recorded)

    # --- noticing -----------------------------------------------------------------------------

    async def start(self, bus: EventBus, service: str, instance: str, now_ns: int) -> None:
        self.watch = MemoryWatch(service, instance)
        await self.watch.arm(bus, now_ns)

    async def due(self, bus: EventBus, now_ns: int) -> str:
        """Why a reconciliation must run now ("" when none); a loss outranks other reasons."""
        if self.watch is not None and await self.watch.lost(bus, now_ns):
            self.pending = MEMORY_LOST
        if self.mirror.missing and self.pending in ("", AFTER_OUTAGE):
            self.pending = REGISTRY_LOST
        return self.pending

    # --- reconciling --------------------------------------------------------------------------

    async def reconcile(
        self, bus: EventBus, events: OrderEvents, inbox: ReportInbox, publish: Publish, now: int
    ) -> FillGap:
        """Write back lost orders, publish again the fills whose events are gone, queue those
        never applied, and alert (ERROR) when anything was lost. May raise while Redis is away:
        ``pending`` stays set and the next tick tries again."""
        why = self.pending or "start"
        if why not in (START, AFTER_OUTAGE):
            self.stream.forget()
        # Kept until the alert is out: a reconciliation cut short by Redis going away again
        # still names, when it completes, every order it wrote back.
        self._written_back |= self.mirror.missing
        self._written_back |= set(await self.mirror.restore())
        orders = sorted(self._written_back)
        fills = [f for f in self.venue_fills() if f.ts_ns >= now - self.keep_ns]
        gap = FillGap()
        if fills:
            waiting = {r.fill_id for r in inbox.reports if isinstance(r, VenueFill)}
            ours = {oid: order.fill_ids for oid in self.mirror.held_ids()
                    if (order := self.mirror.held(oid)) is not None}  # fmt: skip
            on_stream = await self.stream.read(bus)
            gap = compare_fills(fills, on_stream, waiting, ours, self.venue.open_orders())
        lost_anything = bool(orders or not gap.clean)
        summary = _summary(why, orders, gap)
        said: list[Event] = [_alert(summary, why, orders, gap, now)] if lost_anything else []
        await publish([*self._republished(gap, fills, events), *said])  # one batch
        inbox.extend(gap.apply)
        if lost_anything or why != START:
            log.log(logging.ERROR if lost_anything else logging.INFO, "%s", summary)
        self.reconciliations += 1
        self.republished += len(gap.republish)
        self._written_back = set()
        self.pending = ""
        return gap

    def _republished(
        self, gap: FillGap, fills: Sequence[VenueFill], events: OrderEvents
    ) -> list[Event]:
        out: list[Event] = []
        for fill in gap.republish:
            order = self.mirror.held(fill.order_id)
            if order is None:
                continue
            of_order = [f for f in fills if f.order_id == fill.order_id]
            out.append(events.fill(order_at_fill(order, fill, of_order), fill))
        return out


class StreamFills:
    """The fill ids seen on ``trades.order``, read on from where the last look stopped (a
    week of the stream is not read again at every outage). ``forget`` after a loss: the stream
    was emptied and is read again from its start."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self._after = "-"

    def forget(self) -> None:
        self.ids, self._after = set(), "-"

    async def read(self, bus: EventBus) -> set[str]:
        entries = await bus.iter_range(ORDERS_STREAM, self._after)
        for entry in entries:
            if entry.fields.get(b"kind", b"").decode() not in FILL_KINDS:
                continue
            try:
                event = bus.codec.from_fields(entry.fields)
            except EventDecodeError:
                continue
            if isinstance(event, OrderFilled | OrderPartiallyFilled):
                self.ids.add(event.fill_id)
        if entries:
            self._after = "(" + entries[-1].entry_id
        return self.ids


def _summary(why: str, orders: list[str], gap: FillGap) -> str:
    parts = [f"reconciled with the venue ({why})"]
    if orders:
        parts.append(f"{len(orders)} orders the registry had lost written back ({_few(orders)})")
    if gap.republish:
        ids = [f.fill_id for f in gap.republish]
        parts.append(f"{len(ids)} fills no longer on {ORDERS_STREAM} published again ({_few(ids)})")
    if gap.apply:
        parts.append(f"{len(gap.apply)} fills never applied queued ({_few(_ids(gap.apply))})")
    if gap.unknown:
        parts.append(f"{len(gap.unknown)} fills of orders we have no record of, not booked "
                     f"({_few(_ids(gap.unknown))})")  # fmt: skip
    if gap.unknown_open:
        ids = [o.order_id for o in gap.unknown_open]
        parts.append(f"{len(ids)} orders working at the venue we have no record of ({_few(ids)})")
    if len(parts) == 1:
        parts.append("nothing lost")
    return ": ".join(parts[:1]) + ": " + "; ".join(parts[1:])


def _alert(summary: str, why: str, orders: list[str], gap: FillGap, now: int) -> Event:
    details: dict[str, Any] = {
        "why": why,
        "orders_written_back": orders,
        "fills_published_again": _ids(gap.republish),
        "fills_queued": _ids(gap.apply),
        "fills_unknown": _ids(gap.unknown),
        "orders_unknown": [o.order_id for o in gap.unknown_open],
    }
    return alert(f"redis_memory_lost:{now}", "ERROR", summary, details, now)


def _ids(fills: Sequence[VenueFill]) -> list[str]:
    return [fill.fill_id for fill in fills]


def _few(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:SHOWN])
    return shown if len(ids) <= SHOWN else f"{shown}, … {len(ids) - SHOWN} more"
