"""IB's order statuses, errors and executions turned into our venue reports (no I/O).

``IbReports`` keeps what the IB venue knows of each of our orders (``Sent``) and the reports
and notices waiting for the execution service. Rules (``docs/ibkr.md``):

- Fills come only from executions, each once per ``execId``, and only with its commission
  report (the fee). An execId that revises an execution already booked (the next revision
  after its final period) is a correction: a ``VenueFillCorrected`` that replaces the booked
  values, once, with a WARNING notice; never a second fill. An execution of an order that is
  not ours is a notice.
- A Cancelled status while IB counts more filled than we have booked waits for those fills.
- ``ib_async`` marks an order Cancelled itself when IB sends an error for it; such a status is
  left to the error, which knows the code: a refused new order is a rejection carrying IB's
  code, a working order IB ends is a cancel with the reason.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any, Literal

from ib_async import Trade
from ib_async.objects import Fill

from quantrail.execution.order import Order
from quantrail.execution.venues.base import (
    Liquidity,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueFill,
    VenueFillCorrected,
    VenueRejected,
    VenueReport,
)
from quantrail.execution.venues.ibkr_map import (
    ErrorKind,
    StatusMeaning,
    error_kind,
    exec_base,
    exec_revision,
    status_meaning,
)
from quantrail.vocab import Side

log = logging.getLogger("quantrail.ibkr")

Severity = Literal["INFO", "WARNING", "ERROR", "CRITICAL"]
NS = 1_000_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Notice:
    """Something the operator must hear about (the service publishes it as an alert)."""

    key: str
    severity: Severity
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class Sent:
    """One of our orders as the IB venue tracks it."""

    order: Order
    ib_order_id: int = 0
    accepted: bool = False
    ended: bool = False
    reported_qty: int = 0
    cancel_waiting: bool = False
    ib_filled: int = 0
    filled_before: int = 0
    """Shares IB filled on this IB order before it was modified into this one of ours."""
    modifying: tuple[int, Decimal] | None = None
    """A modify sent and not yet taken: the new total quantity and limit price."""
    contract: Any = None


class IbReports:
    def __init__(self) -> None:
        self.orders: dict[str, Sent] = {}
        self.by_ib_id: dict[int, str] = {}
        self.reports: list[VenueReport] = []
        self.notices: list[Notice] = []
        self.emitted: dict[str, str] = {}  # exec base -> the execId booked for it (latest)
        self.first: dict[str, str] = {}  # exec base -> the execId it was first booked under
        self.owner: dict[str, str] = {}  # exec base -> our order it was booked for
        self.known: Mapping[str, Fill] = {}  # execId -> IB's execution (ib_async's fills)
        self.now_ns = 0
        self.modified: dict[str, Sent] = {}  # old order id -> its Sent, awaiting the successor
        self.forward: dict[str, str] = {}  # old order id -> the successor on the same IB order
        self.fallback_cancels: list[str] = []  # modifies IB refused: cancel, then new

    def track(self, sent: Sent) -> None:
        self.orders[sent.order.order_id] = sent
        if sent.ib_order_id:
            self.by_ib_id[sent.ib_order_id] = sent.order.order_id

    def drain(self) -> list[VenueReport]:
        reports, self.reports = self.reports, []
        return reports

    def notice(
        self, key: str, severity: Severity, message: str, details: dict[str, Any] | None = None
    ) -> None:
        level = logging.ERROR if severity in ("ERROR", "CRITICAL") else logging.WARNING
        log.log(level, "%s", message)
        self.notices.append(Notice(key, severity, message, details or {}))

    # --- statuses -----------------------------------------------------------------------------

    def on_status(self, trade: Trade) -> None:
        sent = self._sent(trade.order.orderRef, trade.order.orderId)
        if sent is None or sent.ended:
            return
        status = trade.orderStatus.status
        meaning = status_meaning(status)
        sent.ib_filled = max(sent.ib_filled, int(trade.orderStatus.filled))
        if sent.modifying is not None and _takes(trade, sent.modifying):
            self._modified_in_place(sent)
        elif meaning is StatusMeaning.ACCEPTED:
            self.accept(sent, trade.order.orderId)
        elif meaning is StatusMeaning.CANCELED and not _from_error(trade):
            sent.cancel_waiting = True
            self._maybe_cancel(sent, "")
        elif meaning is StatusMeaning.REJECTED:
            self._end(sent, f"IB {status}: {_last_error(trade)}")

    def accept(self, sent: Sent, ib_order_id: int) -> None:
        if sent.accepted:
            return
        sent.accepted, sent.ib_order_id = True, ib_order_id
        self.by_ib_id[ib_order_id] = sent.order.order_id
        self.reports.append(
            VenueAccepted(
                order_id=sent.order.order_id, venue_order_id=str(ib_order_id), ts_ns=self.now_ns
            )
        )

    def gone(self, sent: Sent, reason: str) -> None:
        """IB no longer has this order (found by reconciliation)."""
        sent.cancel_waiting = True
        self._maybe_cancel(sent, reason)

    def _modified_in_place(self, sent: Sent) -> None:
        """IB took the modify: the old order ends here (the service then submits its
        successor, which ``attach`` puts on the same IB order)."""
        sent.modifying, sent.ended = None, True
        self.modified[sent.order.order_id] = sent
        self.reports.append(
            VenueCanceled(
                order_id=sent.order.order_id,
                venue_order_id=str(sent.ib_order_id),
                ts_ns=self.now_ns,
                reason="modified in place at IB",
            )
        )

    def attach(self, successor: Order) -> bool:
        """The successor of an order IB modified in place: the same IB order, accepted."""
        old = self.modified.pop(successor.replaces_order_id, None)
        if old is None:
            return False
        new = Sent(
            successor, old.ib_order_id, ib_filled=old.ib_filled,
            filled_before=old.filled_before + old.reported_qty, contract=old.contract,
        )  # fmt: skip
        self.forward[old.order.order_id] = successor.order_id
        self.track(new)
        self.accept(new, old.ib_order_id)
        return True

    def _maybe_cancel(self, sent: Sent, reason: str) -> None:
        if sent.cancel_waiting and sent.filled_before + sent.reported_qty >= sent.ib_filled:
            sent.cancel_waiting, sent.ended = False, True
            self.reports.append(
                VenueCanceled(
                    order_id=sent.order.order_id,
                    venue_order_id=str(sent.ib_order_id),
                    ts_ns=self.now_ns,
                    reason=reason,
                )
            )

    def reject(self, sent: Sent, reason: str) -> None:
        """Refused before it reached IB."""
        self._end(sent, reason)

    def _end(self, sent: Sent, reason: str) -> None:
        """A refused order: rejected before IB worked it, canceled by IB after."""
        if sent.accepted:
            sent.cancel_waiting = True
            self._maybe_cancel(sent, reason)
            return
        sent.ended = True
        self.reports.append(
            VenueRejected(
                order_id=sent.order.order_id,
                reason=reason,
                ts_ns=self.now_ns,
                venue_order_id=str(sent.ib_order_id),
            )
        )

    # --- errors -------------------------------------------------------------------------------

    def on_error(self, req_id: int, code: int, message: str, trade: Trade | None) -> ErrorKind:
        kind = error_kind(code)
        sent = self._sent("", req_id)
        text = f"IB {code}: {message}"
        if kind is ErrorKind.INFO:
            log.info("%s", text)
        elif kind is ErrorKind.CONNECTIVITY:
            self.notice(f"link:{code}", "ERROR", f"IB connectivity: {code} {message}")
        elif kind is ErrorKind.RESTORED:
            self.notice(f"link:{code}", "WARNING", f"IB connectivity back: {code} {message}")
        elif (
            sent is not None
            and sent.modifying is not None
            and (kind is ErrorKind.REJECTED or _killed(trade))
        ):
            sent.modifying = None  # IB refused the change: the order works on as it was
            self.fallback_cancels.append(sent.order.order_id)
            self.notice(f"modify:{sent.order.order_id}", "WARNING",
                        f"IB refused to modify {sent.order.order_id} ({text}): "
                        "canceling it, the replacement follows as a new order")  # fmt: skip
        elif sent is None or sent.ended:
            if kind is not ErrorKind.CANCELED:
                self.notice(f"ib:{code}:{req_id}", "WARNING", text, {"req_id": req_id})
        elif kind is ErrorKind.CANCEL_REJECTED:
            self.reports.append(
                VenueCancelRejected(order_id=sent.order.order_id, reason=text, ts_ns=self.now_ns)
            )
        elif kind is ErrorKind.CANCELED:
            sent.cancel_waiting = True
            self._maybe_cancel(sent, "")
        elif _killed(trade) or (not sent.accepted and kind is ErrorKind.REJECTED):
            self._end(sent, text)
        else:
            self.notice(f"ib:{code}:{req_id}", "WARNING", text, {"req_id": req_id})
        return kind

    # --- executions ---------------------------------------------------------------------------

    def book(self, fill: Fill) -> bool:
        """One execution with its commission report: a fill of ours, once. False: not yet
        (its order was just modified at IB and its successor is not attached yet)."""
        execution = fill.execution
        base = exec_base(execution.execId)
        booked = self.emitted.get(base)
        if booked is not None:
            if booked != execution.execId:
                self._correct(fill, booked)
            return True
        if self._awaiting_successor(execution.orderRef):
            return False
        sent = self._sent(execution.orderRef, -1)
        if sent is None:
            self.notice(
                f"external_fill:{execution.execId}", "WARNING",
                f"execution {execution.execId} ({execution.side} {execution.shares} "
                f"{fill.contract.symbol}) is of an order not ours: placed by hand?",
                {"exec_id": execution.execId, "symbol": fill.contract.symbol},
            )  # fmt: skip
            return True
        self.emitted[base] = self.first[base] = execution.execId
        self.owner[base] = sent.order.order_id
        if not sent.accepted:  # an execution before any status: IB has the order
            self.accept(sent, execution.orderId)
        sent.reported_qty += int(execution.shares)
        sent.ib_filled = max(sent.ib_filled, int(execution.cumQty))
        self.reports.append(self.fill_report(sent, fill))
        self._maybe_cancel(sent, "")
        return True

    def _correct(self, fill: Fill, booked: str) -> None:
        """IB replaced execution ``booked`` by ``fill`` (its next revision): a correction of
        the fill as first booked, carrying the values it replaces, and a notice for a person.
        An older revision than the one booked changes nothing; a correction of an execution
        not known here (no values to replace) is only a notice."""
        exec_id = fill.execution.execId
        if exec_revision(exec_id) < exec_revision(booked):
            log.info("IB execution %s is older than %s, already booked: ignored", exec_id, booked)
            return
        base = exec_base(exec_id)
        details: dict[str, Any] = {"exec_id": exec_id, "earlier": booked}
        earlier = self.known.get(booked)
        # The order the fill was booked for (before a modify in place: the old one).
        sent = self.orders.get(self.owner.get(base, "")) or self._sent(fill.execution.orderRef, -1)
        if sent is None or earlier is None or earlier.commissionReport.execId != booked:
            why = "the execution it corrects is not known here"
        elif fill.execution.shares <= 0 or fill.execution.price <= 0:
            why = f"to {fill.execution.shares} @ {fill.execution.price} (a bust?)"
        else:
            why = ""
        if why or sent is None or earlier is None:
            self.notice(
                f"correction:{exec_id}", "ERROR",
                f"IB corrected execution {booked} as {exec_id}, {why}: not booked, reconcile "
                "it by hand", details,
            )  # fmt: skip
            return
        self.emitted[base] = exec_id
        first = self.first.get(base, booked)
        was, now = self.fill_report(sent, earlier), self.fill_report(sent, fill)
        sent.reported_qty += now.qty - was.qty
        self.reports.append(
            VenueFillCorrected(
                order_id=sent.order.order_id, fill_id=first, previous=was, corrected=now,
                ts_ns=now.ts_ns,
            )
        )  # fmt: skip
        details |= {"fill_id": first, "order_id": sent.order.order_id}
        self.notice(
            f"correction:{exec_id}", "WARNING",
            f"IB corrected execution {booked} as {exec_id} ({sent.order.symbol}): {was.qty} @ "
            f"{was.price} fee {was.fee} -> {now.qty} @ {now.price} fee {now.fee}; booked as a "
            f"correction of fill {first}", details,
        )  # fmt: skip

    def remember(self, order_id: str, fill_ids: Iterable[str]) -> None:
        """Fills booked for ``order_id`` before a restart (its fill ids, corrections included):
        a later revision of one of them is a correction, never a new fill."""
        for exec_id in fill_ids:
            base = exec_base(exec_id)
            self.owner[base] = order_id
            first, last = self.first.get(base), self.emitted.get(base)
            if first is None or exec_revision(exec_id) < exec_revision(first):
                self.first[base] = exec_id
            if last is None or exec_revision(exec_id) > exec_revision(last):
                self.emitted[base] = exec_id

    def _awaiting_successor(self, order_ref: str) -> bool:
        return order_ref in self.modified

    def fill_report(self, sent: Sent, fill: Fill) -> VenueFill:
        execution = fill.execution
        when = execution.time
        ts_ns = int(when.astimezone(UTC).timestamp() * NS) if when else self.now_ns
        return VenueFill(
            order_id=sent.order.order_id, venue_order_id=str(sent.ib_order_id),
            fill_id=execution.execId, symbol=sent.order.symbol,
            side=Side.BUY if execution.side == "BOT" else Side.SELL, qty=int(execution.shares),
            price=Decimal(str(execution.price)),
            fee=Decimal(str(fill.commissionReport.commission)).quantize(Decimal("0.01")),
            liquidity=Liquidity.MAKER if execution.lastLiquidity == 1 else Liquidity.TAKER,
            ts_ns=max(ts_ns, self.now_ns),
        )  # fmt: skip

    def _sent(self, order_ref: str, ib_order_id: int) -> Sent | None:
        """Ours by ``orderRef`` (our order id), else by IB's order id; an order IB modified in
        place answers for its successor (IB keeps the old ``orderRef``)."""
        our_id = order_ref if order_ref in self.orders else self.by_ib_id.get(ib_order_id)
        while our_id in self.forward:
            our_id = self.forward[our_id]
        return self.orders.get(our_id) if our_id is not None else None


def _from_error(trade: Trade) -> bool:
    """ib_async set this status itself on an error: the error decides what it means."""
    entry = trade.log[-1] if trade.log else None
    return entry is not None and entry.errorCode != 0 and entry.status == trade.orderStatus.status


def _takes(trade: Trade, change: tuple[int, Decimal]) -> bool:
    """IB's view of the order shows the modify's quantity and limit price."""
    qty, price = change
    order = trade.order
    return int(order.totalQuantity) == qty and Decimal(str(order.lmtPrice)) == price


def _killed(trade: Trade | None) -> bool:
    """ib_async canceled the order on an error (IB will not work it any more)."""
    return trade is not None and _from_error(trade) and trade.orderStatus.status == "Cancelled"


def _last_error(trade: Trade) -> str:
    for entry in reversed(trade.log):
        if entry.errorCode:
            return f"{entry.errorCode} {entry.message}"
    return "no reason given"
