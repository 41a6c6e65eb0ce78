"""``quantrail up --clock replay --speed max``: the short day in one process on the memory bus,
watched through its ``/metrics`` (the only window into a memory bus from outside)."""

from __future__ import annotations

from pathlib import Path

from kit.bus import new_namespace
from kit.event_base import ACCOUNT
from kit.opsrun import (
    all_running,
    free_port,
    sample,
    scrape,
    short_day_market,
    short_day_settings,
    start_cli,
    stop_cli,
    write_config,
)
from kit.poll import eventually


async def test_up_replays_the_short_day_at_max_speed_and_serves_its_metrics(
    tmp_path: Path,
) -> None:
    market = short_day_market(tmp_path / "acme.csv")
    config = write_config(tmp_path / "quantrail.yaml", short_day_settings(tmp_path, "max"))
    port = free_port()
    process = start_cli("up", "-c", str(config), "--clock", "replay", "--speed", "max",
                        "--market", str(market), "--metrics-port", str(port),
                        cwd=tmp_path, namespace=new_namespace())  # fmt: skip

    def fills_booked() -> float | None:
        all_running([process], tmp_path)
        return sample(
            scrape(port), "quantrail_events_handled_total", service="ledger",
            stream="trades.order", group="ledger", kind="trades.order.filled",
        )  # fmt: skip

    try:
        assert await eventually(fills_booked, lambda n: n == 2, within=60, what="2 fills") == 2
        # The monitor's figures are as of its last check (every 5 replayed seconds).
        samples = await eventually(
            lambda: scrape(port),
            lambda s: sample(s, "quantrail_stream_length_entries", stream="market.quote") == 33,
            within=30, what="every quote of the day published",
        )  # fmt: skip
        assert sample(samples, "quantrail_account_open_orders", account=ACCOUNT) == 0
        assert sample(samples, "quantrail_account_kill_switch_active", account=ACCOUNT) == 0
    finally:
        assert await stop_cli(process) == 0
