"""Market data taken in runs: a market reader's batch form of its handler.

Live, a reader's handler takes quotes and ticks one by one. A replay that holds many at once
(the backtest, ``backtest/feed.py``) hands a run of them to every reader of the stream that
offers a ``MarketFold`` and calls the run quiet; an event some reader would act on goes through
the handlers as usual. Most quotes and ticks change nothing but a last price, so a run costs a
few calls instead of a handler call per reader per event.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from quantrail.events.base import Event


class _OfSymbol(Protocol):
    @property
    def symbol(self) -> str: ...


E = TypeVar("E")
S = TypeVar("S", bound=_OfSymbol)


@dataclass(frozen=True, slots=True)
class TimerGrid:
    """When a service's timer can fire, ``origin_ns + k x step_ns``, and when it next does
    (a backtest's plan, ``backtest/timers.py``)."""

    origin_ns: int
    step_ns: int
    wake_ns: int | None
    """Where the plan's next wake-up stands (None: none until its service's state moves)."""

    def at_or_after(self, ns: int) -> int:
        steps = -(-(ns - self.origin_ns) // self.step_ns)  # ceil
        return self.origin_ns + steps * self.step_ns


class TimedRun(Protocol):
    """A run of events walked ahead as a reader and its own timer would take them (``timed``).

    ``quiet``: how many events, from the first, stay quiet with the timer firing among them;
    ``released``: what the timer publishes meanwhile, as (time, event), in order, each before
    event ``fired_before(k)``. Nothing is taken until ``apply_through(k)`` (the events before
    release ``k`` and the releases up to it) or ``apply(quiet)`` (the rest); each returns the
    releases it took."""

    @property
    def quiet(self) -> int: ...

    @property
    def released(self) -> Sequence[tuple[int, Event]]: ...

    def fired_before(self, release: int) -> int: ...

    def apply_through(self, release: int) -> list[tuple[int, Event]]: ...

    def apply(self, count: int) -> list[tuple[int, Event]]: ...


@dataclass(frozen=True, slots=True)
class Released(Generic[E]):
    """The batch form of a handler for events handled at a time of their own: a relayed tick
    is handled when its timer released it, not at its ``ts_event``. ``at_ns[i]`` is when
    ``events[i]`` is handled (the service clock then).

    ``quiet`` and ``fold`` are ``MarketFold``'s with those times. ``take`` (optional, for one
    reader of a stream at most) is for a handler whose effect cannot be known without running
    it (a strategy's ``on_tick``): it handles the events one by one while each has no effect
    outside the service and says how many; the one it stopped at (if any) it has run as far as
    it could, keeping the outcome, and its handler, which is given that event next, finishes
    it from there (the strategy is asked once per event, as per event)."""

    quiet: Callable[[Sequence[E], Sequence[int]], int]
    fold: Callable[[Sequence[E], Sequence[int]], None]
    take: Callable[[Sequence[E], Sequence[int]], int] | None = None


@dataclass(frozen=True, slots=True)
class MarketFold(Generic[E]):
    """The batch form of a market reader's handler (quotes, or ticks).

    ``quiet(events)``: how many of ``events``, from the first, the handler would take one by
    one without any effect outside the service (nothing published, nothing another reader or
    a timer could see sooner or later than per event), each at its own ``ts_event`` as the
    service clock. Fewer is always safe: the rest go through the handler. ``fold(events)``:
    take that many at once, leaving the service as the handler would have. The runner folds
    only a run every reader of the stream calls quiet, so the events are the per-event ones.
    ``pokes``: whether a fold may move the service's timers (False when it keeps nothing).
    A run is handed over with the clock at its end, so a fold keeps nothing that depends on
    when it is called.
    """

    quiet: Callable[[Sequence[E]], int]
    fold: Callable[[Sequence[E]], None]
    pokes: bool = True
    timed: Callable[[Sequence[E], TimerGrid], TimedRun] | None = None
    """Optional, for a reader with one timer: the run walked with that timer firing on the
    grid among the events (``TimedRun``), so a run need not end at the timer's wake-up."""
    horizon: Callable[[TimerGrid], int | None] | None = None
    """Optional, with ``timed``: a time no walk on the grid reaches (an event at or after it
    would end the walk before it: a candle's end), so a run is not cut longer."""
    idle: Callable[[], bool] | None = None
    """Optional: True while the reader holds and works nothing, so that only a bad event
    could make it call a run not quiet (a runner then walks a run with a timed reader first,
    ``backtest/quote_runs.py``)."""
    released: Released[E] | None = None
    """Optional, for relayed events: the batch form with each event's handling time."""
    quiet_checked: Callable[[Sequence[E]], int] | None = None
    """Optional: ``quiet`` of events known to pass the reader's own check of each event
    (a backtest's tape checks its quotes with the venue's ``usable_quote`` when it is built):
    only what the reader's state decides is looked at."""


_symbol_of = operator.attrgetter("symbol")


def quiet_unless(events: Sequence[S], busy: Callable[[str], bool]) -> int:
    """How many events, from the first, are of symbols that are not ``busy`` (a reader that
    acts on a symbol's prices only while it holds or works something in it). Each symbol is
    asked once, in the order of its first event, until one is busy."""
    for symbol in dict.fromkeys(map(_symbol_of, events)):
        if busy(symbol):
            return next(i for i, event in enumerate(events) if event.symbol == symbol)
    return len(events)


def fold_nothing(_events: Sequence[object]) -> None:
    """The fold of a reader that keeps nothing of a quiet event."""


def fold_nothing_at(_events: Sequence[object], _at_ns: Sequence[int]) -> None:
    """``fold_nothing`` for relayed events (``Released``)."""


def keeps_nothing(quiet: Callable[[Sequence[E]], int]) -> MarketFold[E]:
    """The fold of a reader whose quiet events change nothing in it."""
    return MarketFold(quiet, fold_nothing, pokes=False)
