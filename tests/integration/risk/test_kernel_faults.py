"""The risk kernel and the position sizer under kill -9, as real processes on a real Redis.

* the kernel dies by SIGKILL right after publishing an evaluation and before its ack; two
  instances start, one is killed from outside mid-stream, the other takes over its pending
  advisories and finishes: one evaluation (and one audit record) per signal, none lost;
* the sizer likewise (once inside, once from outside, then a restart under another name): one
  request per approved evaluation, none for a veto, none lost, none doubled.

Counted both ways: the distinct ids and the total entries on the stream.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from kit.bus import make_bus, new_namespace
from kit.kernel import TEST_KEY, advisory, kernel_config, kernel_state
from kit.market_events import quote
from kit.poll import eventually
from quantrail.bus.bus import EventBus
from quantrail.events import DecisionAudited, RiskEvaluationCompleted, SubmitOrder
from quantrail.events.base import Event
from quantrail.risk.kernel import evaluate
from quantrail.risk.kernel_events import evaluation_events
from quantrail.risk.signing import SigningKeys, verify_approval

WORKER = Path(__file__).resolve().parents[2] / "kit" / "kernel_procs.py"
SECRET = "kernel-test-key-1"  # TEST_KEY's secret, handed to the workers by environment

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def start_worker(
    service: str, redis: str, namespace: str, instance: str, crash_after: str = ""
) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(WORKER), service, "--redis", redis, "--namespace", namespace,
               "--instance", instance]  # fmt: skip
    if crash_after:
        command += ["--crash-after", crash_after]
    env = {**os.environ, "QUANTRAIL_SIGNING_KEY": SECRET}
    return subprocess.Popen(command, stderr=subprocess.PIPE, env=env)


async def publish(bus: EventBus, events: Sequence[Event]) -> None:
    for start in range(0, len(events), 100):
        await bus.publish_batch(list(events[start : start + 100]))


async def length(bus: EventBus, stream: str) -> int:
    return (await bus.transport.info(bus.names.key(stream))).length


async def all_acked(bus: EventBus, stream: str, group: str) -> None:
    await eventually(
        lambda: bus.transport.info(bus.names.key(stream)),
        lambda i: any(g.name == group and g.pending == 0 and g.lag == 0 for g in i.groups),
        within=30,
        what=f"every {stream} entry acked by {group}",
    )


def stop(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is not None and worker.poll() is None:
        worker.kill()
        worker.wait(10)


def advisories(first: int, count: int) -> list[Event]:
    """LONG advisories stamped now (the workers run on the wall clock), two accounts."""
    now = time.time_ns()
    return [
        advisory(n, account=("ACC1", "ACC2")[n % 2], ts_event=now, ts_data_ns=now)
        for n in range(first, first + count)
    ]


async def test_kill_9_of_the_kernel_and_a_failover_instance_give_one_evaluation_per_signal(
    redis_url: str,
) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    first, second = advisories(1, 400), advisories(401, 100)
    await publish(bus, [quote(ts_event=time.time_ns()), *first])
    crash_id = first[99].signal_id  # type: ignore[attr-defined]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        # Run 1 dies by SIGKILL right after the 100th evaluation is published, before its ack.
        doomed = start_worker("risk_kernel", redis_url, namespace, "one", crash_id)
        workers.append(doomed)
        assert await asyncio.to_thread(doomed.wait, 60) == -9, doomed.stderr.read().decode()
        assert await length(bus, "risk.evaluation") == 100

        # Two instances: "a" is killed from outside mid-stream, "b" claims what "a" and the
        # dead run left pending, and goes on alone.
        a = start_worker("risk_kernel", redis_url, namespace, "a")
        b = start_worker("risk_kernel", redis_url, namespace, "b")
        workers += [a, b]
        await eventually(lambda: length(bus, "risk.evaluation"), lambda n: n >= 200,
                         within=60, interval=0.002, what="instances a and b at work")  # fmt: skip
        a.kill()
        assert await asyncio.to_thread(a.wait, 30) == -9
        killed_at = await length(bus, "risk.evaluation")
        assert 200 <= killed_at < 400, "the kill did not land mid-stream"
        await publish(bus, second)  # only b is left to evaluate these
        await eventually(lambda: length(bus, "risk.evaluation"), lambda n: n >= 500,
                         within=90, what="b finishing the stream")  # fmt: skip
        await all_acked(bus, "signals.advisory", "risk_kernel")
        b.terminate()
        assert await asyncio.to_thread(b.wait, 30) == 0, b.stderr.read().decode()
        evaluations = await bus.read_events("risk.evaluation")
        audits = await bus.read_events("audit.decision")
    finally:
        for worker in workers:
            stop(worker)
        await bus.close()
    per_signal = Counter(e.signal_id for e in evaluations if isinstance(e, RiskEvaluationCompleted))
    assert len(evaluations) == 500 and len(per_signal) == 500
    assert set(per_signal) == {e.signal_id for e in (*first, *second)}  # type: ignore[attr-defined]
    assert all(isinstance(e, RiskEvaluationCompleted) and e.decision == "APPROVED"
               and e.key_id == TEST_KEY.key_id for e in evaluations)  # fmt: skip
    decisions = Counter(a.decision_id for a in audits if isinstance(a, DecisionAudited))
    assert len(audits) == 500 and len(decisions) == 500


def evaluations(count: int) -> list[RiskEvaluationCompleted]:
    """Signed evaluations, every third one vetoed (kill switch), stamped now."""
    config, now = kernel_config(), time.time_ns()
    out = []
    for n in range(1, count + 1):
        signal = advisory(n, ts_event=now, ts_data_ns=now)
        state = kernel_state(kill_switch_active=n % 3 == 0)
        verdict = evaluate(signal, state, config, now)
        out.append(evaluation_events(signal, verdict, account="ACC1", key=TEST_KEY,
                                     config=config, now_ns=now)[1])  # fmt: skip
    return out


async def test_kill_9_of_the_sizer_gives_one_request_per_approval_and_none_for_a_veto(
    redis_url: str,
) -> None:
    namespace = new_namespace()
    bus = make_bus("redis", redis_url, namespace)
    made = evaluations(600)
    first, second = made[:450], made[450:]
    approved = [e.evaluation_id for e in made if e.decision != "VETOED"]
    await publish(bus, first)
    crash_id = [e.evaluation_id for e in first if e.decision == "APPROVED"][99]
    worker = None
    try:
        worker = start_worker("sizer", redis_url, namespace, "one", crash_id)
        assert await asyncio.to_thread(worker.wait, 60) == -9, worker.stderr.read().decode()
        assert await length(bus, "trades.request") == 100

        # The same instance name takes back its own pending evaluations; killed from outside.
        worker = start_worker("sizer", redis_url, namespace, "one")
        await eventually(lambda: length(bus, "trades.request"), lambda n: n > 100,
                         within=60, interval=0.002, what="run 2 at work")  # fmt: skip
        worker.kill()
        assert await asyncio.to_thread(worker.wait, 30) == -9
        assert await length(bus, "trades.request") < 300, "the kill did not land mid-stream"
        await publish(bus, second)

        # Another name claims what run 2 left pending once it is idle, and finishes.
        worker = start_worker("sizer", redis_url, namespace, "two")
        await eventually(lambda: length(bus, "trades.request"), lambda n: n >= len(approved),
                         within=90, what="run 3 finishing")  # fmt: skip
        await all_acked(bus, "risk.evaluation", "sizer")
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0, worker.stderr.read().decode()
        requests = await bus.read_events("trades.request")
    finally:
        stop(worker)
        await bus.close()
    per_evaluation = Counter(r.evaluation_id for r in requests if isinstance(r, SubmitOrder))
    assert len(requests) == len(approved) == 400 and len(per_evaluation) == 400
    assert sorted(per_evaluation) == sorted(approved)
    keys = SigningKeys(TEST_KEY)
    assert all(isinstance(r, SubmitOrder) and r.qty == 2000 and verify_approval(r, keys) is None
               for r in requests)  # fmt: skip
