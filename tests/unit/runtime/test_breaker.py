from __future__ import annotations

from quantrail.runtime.breaker import BreakerState, CircuitBreaker


def make(now: list[float]) -> CircuitBreaker:
    return CircuitBreaker("svc.main", failures=5, reset_s=60, now_s=lambda: now[0])


def test_five_consecutive_failures_open_it() -> None:
    now = [0.0]
    breaker = make(now)
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.seconds_until_trial() == 60


def test_a_success_resets_the_count() -> None:
    now = [0.0]
    breaker = make(now)
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_half_open_after_reset_time_then_one_failure_reopens() -> None:
    now = [0.0]
    breaker = make(now)
    for _ in range(5):
        breaker.record_failure()
    now[0] = 60.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.seconds_until_trial() == 0
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 2


def test_half_open_success_closes() -> None:
    now = [0.0]
    breaker = make(now)
    for _ in range(5):
        breaker.record_failure()
    now[0] = 61.0
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
