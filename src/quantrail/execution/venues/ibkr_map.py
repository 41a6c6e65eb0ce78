"""How Interactive Brokers' words map to ours (pure): order statuses, error codes, exec ids.

The status table (``docs/ibkr.md`` shows it): IB's order status says where an order is, not
what filled — executions (``execDetails``) are the only source of fills, because IB may send
no ``orderStatus`` for a fill, or send it before or after the execution.

| IB status | our report | why |
|---|---|---|
| PendingSubmit, ApiPending | none | sent, not yet acknowledged: stays SUBMITTED |
| PreSubmitted, Submitted | VenueAccepted (once) | IB holds or works it |
| PendingCancel | none | our cancel is on its way: stays PENDING_CANCEL |
| Cancelled, ApiCancelled | VenueCanceled | ended without (further) fills |
| Filled | none | the executions carry the fills |
| Inactive | VenueRejected | IB will not work it (the last error code and text as reason) |

Error codes are classed by what they mean for us; anything unknown on an order is a warning,
never silently a rejection.
"""

from __future__ import annotations

import enum

from quantrail.ibkr.exec_ids import exec_base, exec_revision, is_correction

__all__ = [
    "ErrorKind",
    "StatusMeaning",
    "error_kind",
    "exec_base",
    "exec_revision",
    "is_correction",
    "status_meaning",
]


class StatusMeaning(enum.StrEnum):
    NONE = "NONE"
    ACCEPTED = "ACCEPTED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


STATUS_TABLE: dict[str, StatusMeaning] = {
    "PendingSubmit": StatusMeaning.NONE,
    "ApiPending": StatusMeaning.NONE,
    "PreSubmitted": StatusMeaning.ACCEPTED,
    "Submitted": StatusMeaning.ACCEPTED,
    "PendingCancel": StatusMeaning.NONE,
    "Cancelled": StatusMeaning.CANCELED,
    "ApiCancelled": StatusMeaning.CANCELED,
    "Filled": StatusMeaning.NONE,
    "Inactive": StatusMeaning.REJECTED,
    "ValidationError": StatusMeaning.NONE,  # ib_async's own: may go on to Submitted
}


def status_meaning(status: str) -> StatusMeaning:
    """An IB status we do not know changes nothing (logged by the caller)."""
    return STATUS_TABLE.get(status, StatusMeaning.NONE)


class ErrorKind(enum.StrEnum):
    INFO = "INFO"  # logged, nothing else: farm status and the like
    CONNECTIVITY = "CONNECTIVITY"  # the link to IB's servers: alert, reconcile on restore
    RESTORED = "RESTORED"  # connectivity back: reconcile (fills may have been missed)
    REJECTED = "REJECTED"  # the order will not work: OrderRejected with IB's code
    CANCEL_REJECTED = "CANCEL_REJECTED"  # our cancel was refused: OrderCancelRejected
    CANCELED = "CANCELED"  # IB says it canceled the order (a status follows)
    WARNING = "WARNING"  # about an order, not fatal: alert


_INFO = frozenset({2100, 2104, 2106, 2107, 2108, 2119, 2150, 2158, 399, 10167, 10349})
_CONNECTIVITY = frozenset({1100, 2103, 2105, 2157, 502, 504, 1300})
_RESTORED = frozenset({1101, 1102})
_REJECTED = frozenset({103, 110, 200, 201, 203, 321, 387, 404, 434, 461, 10147, 10326})
_CANCEL_REJECTED = frozenset({135, 161, 10148})
_CANCELED = frozenset({202})


def error_kind(code: int) -> ErrorKind:
    for codes, kind in (
        (_INFO, ErrorKind.INFO),
        (_CONNECTIVITY, ErrorKind.CONNECTIVITY),
        (_RESTORED, ErrorKind.RESTORED),
        (_REJECTED, ErrorKind.REJECTED),
        (_CANCEL_REJECTED, ErrorKind.CANCEL_REJECTED),
        (_CANCELED, ErrorKind.CANCELED),
    ):
        if code in codes:
            return kind
    return ErrorKind.WARNING
