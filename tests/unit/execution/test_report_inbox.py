"""Venue reports during a Redis outage: held and said honestly; given up only when really so."""

from __future__ import annotations

import logging

import pytest

from quantrail.bus.transport import TransportError
from quantrail.events import AlertTriggered, Event
from quantrail.execution.report_inbox import NS_PER_S, ReportInbox
from quantrail.execution.venues import VenueCanceled, VenueReport

T0 = 1_710_509_400_000_000_000


def canceled(n: int) -> VenueCanceled:
    return VenueCanceled(order_id=f"ord-{n}", venue_order_id=f"v-{n}", ts_ns=T0 + n)


class Redis:
    """Where applied reports and published alerts land; ``down`` makes both fail."""

    def __init__(self) -> None:
        self.down = False
        self.applied: list[VenueReport] = []
        self.published: list[Event] = []
        self.broken: set[str] = set()

    async def apply(self, report: VenueReport) -> None:
        if self.down:
            raise TransportError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
        if report.order_id in self.broken:
            raise KeyError(report.order_id)
        self.applied.append(report)

    async def publish(self, events: list[Event]) -> None:
        if self.down:
            raise TransportError("Connection refused")
        self.published.extend(events)


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_an_outage_holds_every_report_says_so_sparingly_and_gives_nothing_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "quantrail.execution")
    inbox, redis = ReportInbox(), Redis()
    redis.down = True
    inbox.extend([canceled(1), canceled(2), canceled(3)])
    now = T0
    for _ in range(650):  # 65 s of 100 ms ticks
        assert not await inbox.drain(redis.apply, redis.publish, now)
        now += NS_PER_S // 10
    warnings = lines(caplog, logging.WARNING)
    assert warnings[0].startswith("Redis unreachable, holding 3 venue reports, retrying in 0.1 s")
    assert len(warnings) == 3  # the start, then at most every 30 s (tries are 5 s apart)
    assert warnings[1].startswith("Redis still unreachable after 34 s, holding 3 venue reports")
    assert "retrying in 5.0 s" in warnings[2]
    assert not lines(caplog, logging.ERROR) and not lines(caplog, logging.CRITICAL)
    assert len(inbox) == 3 and inbox.status()["redis_outage_since_ns"] == T0
    redis.down = False
    now += 5 * NS_PER_S
    assert await inbox.drain(redis.apply, redis.publish, now)
    assert [r.order_id for r in redis.applied] == ["ord-1", "ord-2", "ord-3"]
    assert lines(caplog, logging.WARNING)[-1].startswith("Redis reachable again after 70.")
    assert redis.published == [] and inbox.status()["redis_outages"] == 1


async def test_a_report_that_keeps_failing_is_given_up_alone_with_a_critical_alert() -> None:
    inbox, redis = ReportInbox(attempts=5), Redis()
    redis.broken.add("ord-1")
    inbox.extend([canceled(1), canceled(2)])
    results = [await inbox.drain(redis.apply, redis.publish, T0 + i) for i in range(5)]
    assert results == [False] * 4 + [True]
    assert [r.order_id for r in redis.applied] == ["ord-2"]
    assert not redis.published  # the alert goes out on the next tick
    assert await inbox.drain(redis.apply, redis.publish, T0 + 9)
    (alert,) = redis.published
    assert isinstance(alert, AlertTriggered) and alert.severity == "CRITICAL"
    assert alert.message.startswith("venue report given up after 5 failed tries: 'ord-1'")
    assert alert.details["order_id"] == "ord-1"


async def test_stopping_while_holding_gives_up_with_an_alert_naming_every_report(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox, redis = ReportInbox(), Redis()
    redis.down = True
    inbox.extend([canceled(1), canceled(2)])
    assert not await inbox.drain(redis.apply, redis.publish, T0)
    (alert,) = inbox.give_up(T0 + 1, "the execution service stopped")
    assert isinstance(alert, AlertTriggered) and alert.severity == "CRITICAL"
    assert alert.message == (
        "2 venue reports given up (the execution service stopped): orders ord-1, ord-2"
    )
    assert alert.details["reports"] == [str(canceled(1)), str(canceled(2))]
    assert len(lines(caplog, logging.CRITICAL)) == 2 and len(inbox) == 0
    assert inbox.give_up(T0 + 2, "again") == []
