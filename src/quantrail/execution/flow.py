"""The order path: every way an order is made, changed or ended, and the venue's reports.

``OrderFlow`` is the execution service's logic without the bus: it is given a way to publish and
a clock (never going back). New orders pass ``PreTrade`` and are created in the registry before
``OrderSubmitted`` goes out and the venue is called; a denied order is stored DENIED and
announced with ``OrderDenied`` and its reason code. Replace is cancel -> ack -> new: a
``ReplaceOrder`` successor comes from ``Order.confirm_cancel``; an intent naming
``replaces_intent_id`` waits parked (NEW, linked) until the order it replaces has ended.
Venue reports are applied to a copy of the order and saved before their events are published;
a report the state table refuses is logged and alerted, never applied. A refused cancel (by the
venue, or here for an order that has ended) is an ``OrderCancelRejected`` with the status the
order stays in.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from quantrail.events import (
    CancelOrder,
    Event,
    IntentCreated,
    KillSwitchActivated,
    OrderCanceled,
    OrderDenied,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderSubmitted,
    ReplaceOrder,
    SubmitOrder,
)
from quantrail.execution.approvals import refusal_events
from quantrail.execution.authority import UNAPPROVED_REQUEST
from quantrail.execution.kill_switch import KillSwitch
from quantrail.execution.order import Order, order_id_for_intent
from quantrail.execution.order_events import OrderEvents, alert
from quantrail.execution.pretrade import PreTrade, Verdict
from quantrail.execution.venues import (
    Venue,
    VenueCancelRejected,
    VenueFill,
    VenueFillCorrected,
    VenueReport,
    apply_report,
)
from quantrail.execution.working import WorkingOrders, copy
from quantrail.ledger.classify import class_label, classify
from quantrail.vocab import Mode, OrderStatus

log = logging.getLogger("quantrail.execution")

REPLACED_ORDER_FILLED = "DENIED_REPLACED_ORDER_FILLED"
S = OrderStatus
Publish = Callable[[list[Event]], Awaitable[None]]
Authorize = Callable[[Order, Event | None], Awaitable[str | None]]
"""Judges an order's authority (``docs/orders.md``): None when it may trade, else why not."""


class OrderFlow:
    def __init__(
        self,
        orders: WorkingOrders,
        pretrade: PreTrade,
        venue: Venue,
        publish: Publish,
        now: Callable[[], int],
        authorize: Authorize | None = None,
    ) -> None:
        self.orders = orders
        self.authorize = authorize
        self.pretrade = pretrade
        self.venue = venue
        self.kill = KillSwitch()
        self.events = OrderEvents(venue.name)
        self._publish = publish
        self._now = now

    # --- orders in -------------------------------------------------------------------------

    async def on_intent(self, intent: IntentCreated, retry: bool = False) -> None:
        order = await self.new_order(intent, intent.intent_id, intent.mode, send=False, retry=retry)
        if order is None:
            return
        replaces = intent.replaces_intent_id
        old = await self.orders.latest_for_intent(replaces) if replaces else None
        if old is not None:
            order.replaces_order_id, old.replaced_by_order_id = old.order_id, order.order_id
            if old.is_open:  # cancel -> ack -> new: the new order waits, parked, in the registry
                if await self.orders.create(order):
                    await self.orders.save(old)
                    await self.cancel(old, f"replaced by intent {intent.intent_id}", intent)
                return
            await self.orders.save(old)
        await self.release(order, stored=False, cause=intent)

    async def new_order(
        self,
        event: IntentCreated | SubmitOrder,
        key: str,
        mode: Mode | None,
        *,
        send: bool = True,
        retry: bool = False,
    ) -> Order | None:
        """The order for ``key`` unless one exists (a duplicate); sent when ``send``.

        ``retry``: the event is being redelivered after a failure; an order it left SUBMITTED
        (stored, maybe not announced, not sent) is announced and sent now. NEW ones are
        released by the next tick."""
        existing = await self.orders.registry.order_id_for_intent(key)
        if existing is not None:
            log.info("intent %s already has order %s: nothing new", key, existing)
            if retry:
                await self._resume(existing, event)
            return None
        account = event.account or ""
        try:
            order = Order(
                order_id=order_id_for_intent(key), intent_id=key, account=account,
                symbol=event.symbol, side=event.side, qty=event.qty, order_type=event.order_type,
                limit_price=event.limit_price, tif=event.tif, bucket=event.bucket,
                created_ns=self._now(), reduce_only=event.reduce_only,
                mode=mode or self.pretrade.mode(account),
                evaluation_id=event.evaluation_id if isinstance(event, SubmitOrder) else "",
                stop_price=event.stop_price if isinstance(event, IntentCreated) else None,
            )  # fmt: skip
        except ValueError as exc:  # no account: denied, and nothing to store
            await self._publish([self.events.unbuildable(event, key, str(exc), self._now())])
            return None
        self.events.remember(order.order_id, event)
        if send:
            await self.release(order, stored=False, cause=event)
        return order

    async def _resume(self, order_id: str, cause: Event) -> None:
        order = await self.orders.find(order_id)
        if order is not None and order.status is S.SUBMITTED:
            # Same ts, same idempotency key: a consumer that saw the first one drops this one;
            # the venue ignores an order id it already has.
            submitted = self.events.order(OrderSubmitted, order, order.updated_ns, cause)
            await self._publish([submitted])
            self.venue.submit(order, self._now())

    async def on_cancel(self, request: CancelOrder) -> None:
        order = await self._open_or_refuse(request, request.order_id, "cancel")
        if order is not None:
            await self.cancel(order, request.reason or "cancel requested", request)

    async def on_replace(self, request: ReplaceOrder) -> None:
        order = await self._open_or_refuse(request, request.order_id, "replace")
        if order is None:
            return
        terms = (order.replace_qty, order.replace_price)
        if order.status is S.PENDING_REPLACE and terms == (request.qty, request.limit_price):
            return  # the same request again
        now, left = self._now(), request.qty - order.filled_qty
        # The successor is checked before the cancel goes out: a replace that would be denied
        # leaves the order working instead of canceled.
        verdict = self._check(order, left, now, {order.order_id}) if left > 0 else None
        if verdict is not None and not verdict.allowed:
            await self.refuse(request, f"replace refused: {verdict.code}: {verdict.reason}")
            return
        try:
            order.request_replace(request.qty, request.limit_price, now)
        except ValueError as exc:
            await self.refuse(request, f"replace of {order.order_id!r} refused: {exc}")
            return
        await self.orders.save(order)
        await self._publish([self.events.order(OrderPendingReplace, order, now, request)])
        if not self.venue.modify(order.order_id, request.qty, request.limit_price, now):
            self.venue.cancel(order.order_id, now)

    async def _open_or_refuse(
        self, request: CancelOrder | ReplaceOrder, order_id: str, what: str
    ) -> Order | None:
        """The open order, or None after refusing the request: with an alert, and for an order
        that has ended with an ``OrderCancelRejected`` too (a replace is a cancel first)."""
        order = await self.orders.find(order_id)
        if order is not None and order.is_open:
            return order
        status = "unknown" if order is None else order.status.value
        message = f"{what} of {order_id!r} refused: order {status}"
        if order is not None:
            rejected = self.events.cancel_rejected(order, message, self._now(), request)
            await self._publish([rejected])
        await self.refuse(request, message)
        return None

    # --- the order path --------------------------------------------------------------------

    async def release(
        self, order: Order, *, stored: bool, cause: Event | None, by_intent: bool = True
    ) -> None:
        """Pre-trade checks, then registry, ``OrderSubmitted`` and venue; or DENIED, stored,
        with ``OrderDenied`` naming the reason code. ``stored``: a parked order."""
        now = self._now()
        ref = order.replaces_order_id
        replaced = await self.orders.find(ref) if ref else None
        verdict = self._check(order, order.qty, now, {order.order_id, ref})
        refusal = await self.authorize(order, cause) if self.authorize else None
        if refusal is not None:
            verdict = Verdict(False, UNAPPROVED_REQUEST, refusal)
        if replaced is not None and replaced.status is S.FILLED:
            reason = f"the order it replaces, {replaced.order_id!r}, filled before the cancel"
            verdict = Verdict(False, REPLACED_ORDER_FILLED, reason)
        events: list[Event] = refusal_events(order, cause, refusal, now) if refusal else []
        if verdict.guard is not None and verdict.guard.reasons:
            events.append(self.events.audit(order, verdict.guard, now, cause))
        if not verdict.allowed:
            order.move_to(S.DENIED, now)
            if await self._store(order, stored, by_intent):
                reasons = {"reason": verdict.reason, "reason_code": verdict.code}
                events.append(self.events.order(OrderDenied, order, now, cause, **reasons))
                await self._publish(events)
            return
        order = dataclasses.replace(order, qty=verdict.qty)
        if not await self._store(order, stored, by_intent):
            return
        self.pretrade.guard.record_submitted(order.symbol, now)
        order.move_to(S.SUBMITTED, now)
        await self.orders.save(order)
        linked = replaced is not None and replaced.status is S.CANCELED
        if linked and replaced is not None and replaced.order_type is order.order_type:
            events.append(self.events.replaced(replaced, order, now, cause))
        events.append(self.events.order(OrderSubmitted, order, now, cause))
        await self._publish(events)
        self.venue.submit(order, now)

    async def _store(self, order: Order, stored: bool, by_intent: bool) -> bool:
        if stored:
            await self.orders.save(order)
            return True
        return await self.orders.create(order, by_intent=by_intent)

    def _check(self, order: Order, qty: int, now: int, skip: set[str]) -> Verdict:
        killed = self.kill.active(order.account)
        at_venue = self.orders.at_venue()
        return self.pretrade.check(order, qty, at_venue, now, killed=killed, skip=frozenset(skip))

    async def cancel(self, order: Order, reason: str, cause: Event | None) -> None:
        now, work = self._now(), copy(order)
        if work.status is S.NEW:  # parked, never sent: withdrawn here
            work.move_to(S.CANCELED, now)
            await self.orders.save(work)
            canceled = self.events.order(
                OrderCanceled, work, now, cause, reason=reason, filled_qty=work.filled_qty
            )
            await self._publish([canceled])
        elif work.status is not S.PENDING_CANCEL:
            work.request_cancel(now)
            await self.orders.save(work)
            await self._publish([self.events.order(OrderPendingCancel, work, now, cause)])
            self.venue.cancel(work.order_id, now)

    async def release_parked(self) -> None:
        for order in self.orders.parked():
            if not await self.orders.blocked(order):
                await self.release(order, stored=True, cause=None)

    # --- venue reports ---------------------------------------------------------------------

    async def apply(self, report: VenueReport) -> None:
        order, ts = await self.orders.find(report.order_id), report.ts_ns
        if order is None:
            message = f"venue report for unknown order {report.order_id!r}: {report}"
            await self._publish(
                [alert(f"unknown:{report.order_id}:{ts}", "ERROR", message, {}, ts)]
            )
            return
        details = {"order_id": order.order_id, "status": order.status.value, "report": str(report)}
        try:
            applied = apply_report(order, report)  # on a copy: a refused report changes nothing
        except ValueError as exc:  # InvalidTransition, OverfillError: reported, never applied
            log.error("venue report refused for order %s: %s", order.order_id, exc)
            await self._publish(
                [alert(f"invalid:{order.order_id}:{ts}", "ERROR", str(exc), details, ts)]
            )
            return
        if isinstance(report, VenueCancelRejected):
            await self._cancel_rejected(order, report, details)
            return
        events: list[Event] = []
        if applied.changed:
            await self.orders.save(order)
            classification = ""
            if isinstance(report, VenueFill):
                # The 8-way class from the position just before this fill (issue 4).
                before = self.pretrade.position(order.account, order.symbol)
                legs = classify(order.bucket, before, order.side, report.qty)
                classification = class_label(legs)
                self.pretrade.book_fill(order, report.qty, report.price)
            elif isinstance(report, VenueFillCorrected):
                was, now = report.previous, report.corrected
                self.pretrade.correct_fill(order, (was.qty, was.price), (now.qty, now.price))
            for status in applied.transitions:
                events.append(self.events.from_report(order, status, report, classification))
        await self._publish(events)
        if applied.successor is not None:
            self.events.inherit(applied.successor.order_id, order)
            await self.release(applied.successor, stored=False, cause=None, by_intent=False)

    async def _cancel_rejected(
        self, order: Order, report: VenueCancelRejected, details: dict[str, str]
    ) -> None:
        """The order is back where it was before the cancel, or stays where a fill took it;
        saved even without a status change, since a dropped replace request is a change too.
        One ``OrderCancelRejected`` says so, and an alert tells the operator: a WARNING while
        the order still works (it was meant to stop), an INFO when a fill ended it first (the
        ordinary race of a cancel and a fill: nothing is left working)."""
        await self.orders.save(order)
        ts, reason = report.ts_ns, report.reason or "refused by the venue"
        message = f"cancel of {order.order_id!r} refused by the venue: {reason}"
        details["status"] = order.status.value
        severity = "INFO" if order.status is OrderStatus.FILLED else "WARNING"
        await self._publish(
            [
                self.events.cancel_rejected(order, reason, ts),
                alert(f"cancel_rejected:{order.order_id}:{ts}", severity, message, details, ts),
            ]
        )

    # --- kill switch -----------------------------------------------------------------------

    async def cancel_all(self, activation: KillSwitchActivated) -> None:
        for order in self.kill.to_cancel(activation, self.orders.open()):
            await self.cancel(order, f"kill switch: {activation.trigger}", activation)

    async def flatten(self, now: int) -> None:
        books, guard = self.pretrade.books, self.pretrade.guard
        for activation, order in self.kill.flatten_orders(books, self.orders.open(), guard, now):
            if await self.orders.registry.order_id_for_intent(order.intent_id) is None:
                self.events.remember(order.order_id, activation)
                await self.release(order, stored=False, cause=activation)

    async def refuse(self, request: Event, message: str) -> None:
        log.warning(message)
        details = {"request": request.kind, "event_id": request.event_id}
        key, now = f"refused:{request.event_id}", self._now()
        await self._publish([alert(key, "WARNING", message, details, now)])
