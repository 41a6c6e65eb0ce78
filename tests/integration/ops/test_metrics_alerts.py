"""``/metrics`` and the health monitor against real processes on the private Redis.

The sizer's group falls behind while its process is stopped: the scraped lag rises past the
threshold and the health monitor raises ``system.alert.triggered`` once; the sizer resumes,
the lag falls to 0 and ``system.alert.cleared`` follows.
"""

from __future__ import annotations

from pathlib import Path
from subprocess import Popen

from kit.bus import make_bus, new_namespace
from kit.opsrun import (
    all_running,
    free_port,
    sample,
    scrape,
    start_cli,
    stop_cli,
    write_config,
)
from kit.poll import eventually
from kit.risk_events import risk_evaluation
from quantrail.bus.bus import EventBus
from quantrail.events import AlertCleared, AlertTriggered, Event

LAG = "quantrail_consumer_group_lag_entries"
ALERT_ID = "consumer_lag:risk.evaluation:sizer"
BEHIND = 150  # over the threshold of 100


def settings() -> dict[str, object]:
    return {
        "bus": {"consumer": {"block_ms": 20}},
        "runtime": {"heartbeat_s": 1, "shutdown_grace_s": 5},
        "health": {"check_interval_s": 0.2, "max_lag": 100},
    }


async def test_a_stopped_consumer_shows_as_lag_and_an_alert_episode(
    redis_url: str, tmp_path: Path
) -> None:
    namespace, port = new_namespace(), free_port()
    config = write_config(tmp_path / "quantrail.yaml", settings())
    common = ("-c", str(config), "--redis", redis_url)
    bus = make_bus("redis", redis_url, namespace)
    health = start_cli("service", "health", *common, "--metrics-port", str(port),
                       cwd=tmp_path, namespace=namespace)  # fmt: skip
    sizer = start_cli("service", "sizer", *common, cwd=tmp_path, namespace=namespace)
    processes: list[Popen[bytes]] = [health, sizer]

    def lag() -> float | None:
        all_running(processes, tmp_path)
        return sample(scrape(port), LAG, stream="risk.evaluation", group="sizer")

    try:
        await eventually(lag, lambda value: value == 0, within=60, what="the sizer's group")
        assert await stop_cli(sizer) == 0
        processes.remove(sizer)
        await bus.publish_batch([
            risk_evaluation("VETOED", evaluation_id=f"eval-{n}", intent_id=f"int-{n}")
            for n in range(BEHIND)
        ])  # fmt: skip
        await eventually(lag, lambda value: value == BEHIND, within=30, what="the lag rising")
        await eventually(lambda: _alerts(bus), lambda found: len(found) == 1, within=30,
                         what="the lag alert")  # fmt: skip

        sizer = start_cli("service", "sizer", *common, cwd=tmp_path, namespace=namespace)
        processes.append(sizer)
        await eventually(lag, lambda value: value == 0, within=60, what="the lag falling")
        found = await eventually(lambda: _alerts(bus), lambda found: len(found) == 2,
                                 within=30, what="the alert clearing")  # fmt: skip
        triggered, cleared = found
        assert isinstance(triggered, AlertTriggered) and isinstance(cleared, AlertCleared)
        assert triggered.details["lag"] >= 101 and triggered.severity == "WARNING"
        assert cleared.ts_event >= triggered.ts_event
        samples = scrape(port)
        assert sample(samples, "quantrail_stream_length_entries", stream="risk.evaluation") == (
            BEHIND
        )
        handled = sample(
            samples, "quantrail_events_handled_total", service="health", stream="system.health",
            group="health", kind="system.health.heartbeat",
        )  # fmt: skip
        assert handled is not None and handled >= 1  # the monitor's own handler is measured
    finally:
        codes = [await stop_cli(process) for process in processes]
        await bus.close()
    assert codes == [0] * len(codes)


async def _alerts(bus: EventBus) -> list[Event]:
    return [
        event
        for event in await bus.read_events("system.alert")
        if isinstance(event, AlertTriggered | AlertCleared) and event.alert_id == ALERT_ID
    ]
