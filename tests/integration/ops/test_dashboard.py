"""`quantrail dashboard` as a real process on a private redis-server, seen in headless Chromium.

One dashboard (with the token configured) and one browser serve the whole module. ACC1 carries
the day's story published before the dashboard starts; ACC2 takes the live updates and the
actions, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from kit.bus import new_namespace
from kit.desk import (
    TOKEN,
    dashboard_up,
    dead_letter,
    desk_config,
    desk_story,
    free_port,
    get_json,
    post_json,
    publish,
    read_events,
    start_dashboard,
)
from kit.poll import wait_sync
from kit.risk_events import kill_switch_activated, risk_mode_changed
from kit.system_events import alert
from quantrail.events import DecisionAudited, KillSwitchActivated, KillSwitchReset
from quantrail.ops.redis_server import RedisServer
from quantrail.risk.kill_state import KillStateStore
from quantrail.vocab import Mode

pytestmark = pytest.mark.redis
CHROMIUM = Path("/usr/bin/chromium")
WITHIN_MS = 2_000


@dataclass(frozen=True)
class Desk:
    base: str
    redis_url: str
    namespace: str
    db_url: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def desk(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("desk")
    namespace, port = new_namespace(), free_port()
    db_url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    config = desk_config(tmp, db_url, port, accounts=["ACC1", "ACC2"])
    publish(redis_server.url, namespace, desk_story())
    process = start_dashboard(config, redis_server.url, namespace, TOKEN)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_sync(lambda: dashboard_up(base) or process.poll() is not None, timeout=20)
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        yield Desk(base, redis_server.url, namespace, db_url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is not installed: apt-get install chromium (make services)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One context for the module: its cache keeps plotly.min.js between the tests' pages."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    yield context
    context.close()


@pytest.fixture
def page(desk: Desk, context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    page.goto(desk.base)
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    yield page
    page.close()


def test_the_page_loads_with_the_day_so_far(page: Page, tmp_path: Path) -> None:
    acc1 = page.locator("#acct-ACC1")
    expect(acc1.locator(".mode")).to_have_text("NORMAL")
    expect(acc1.locator(".mode-reason")).to_contain_text("all limits met")
    expect(page.locator("#phase")).to_contain_text("MID")
    expect(acc1.locator(".chart .main-svg").first).to_be_visible()
    expect(acc1.locator(".chart")).to_contain_text("130% hard cap")
    expect(acc1.locator("table.orders")).to_contain_text("ord-w1")
    expect(acc1.locator("table.positions")).to_contain_text("ACME")
    expect(acc1.locator("table.buckets")).to_contain_text("MM_PURE")
    expect(acc1.locator("table.pnl")).to_contain_text("-12500.00")
    expect(page.locator("#alerts")).to_contain_text("LT bucket near its max")
    expect(page.locator("#streams")).to_contain_text("exposure.snapshot")
    expect(page.locator("#health")).to_contain_text("execution")
    expect(page.locator("#actions-mode")).to_have_text("enabled with the token")
    shot = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert len(shot) > 50_000  # a drawn page, not a blank one


def test_the_page_updates_within_2s_of_a_new_event(page: Page, desk: Desk) -> None:
    mode = page.locator("#acct-ACC2 .mode")
    expect(mode).to_have_text("UNKNOWN")
    published = time.monotonic()
    publish(
        desk.redis_url, desk.namespace, [risk_mode_changed(mode=Mode.SOFT_DERISK, account="ACC2")]
    )
    expect(mode).to_have_text("SOFT_DERISK", timeout=WITHIN_MS)
    assert time.monotonic() - published < WITHIN_MS / 1000


def test_the_kill_switch_shows_when_it_fires(page: Page, desk: Desk) -> None:
    banner = page.locator("#acct-ACC1 .kill")
    expect(banner).to_have_text("kill switch: off")
    fired = kill_switch_activated(activated_by="risk_kernel", action_taken="daily loss -5.2%")
    publish(desk.redis_url, desk.namespace, [fired])
    expect(banner).to_contain_text("KILL SWITCH ACTIVE", timeout=WITHIN_MS)
    expect(banner).to_contain_text("by risk_kernel (daily_loss_exceeded): daily loss -5.2%")
    expect(banner).to_have_class("kill active")


def test_an_action_without_the_token_is_refused(page: Page, desk: Desk) -> None:
    page.select_option("#action-account", "ACC2")
    page.fill("#action-by", "mallory")
    page.fill("#action-reason", "no token")
    page.click("#btn-activate")
    expect(page.locator("#action-status")).to_have_text(
        "403: refused: this action needs the dashboard token"
    )
    body = {"account": "ACC2", "by": "mallory", "reason": "wrong token"}
    url = f"{desk.base}/api/killswitch/activate"
    assert post_json(url, body)[0] == 403
    assert post_json(url, body, token="not-" + TOKEN)[0] == 403
    switched = read_events(desk.redis_url, desk.namespace, "risk.kill_switch")
    assert [e for e in switched if e.source == "dashboard" and e.activated_by == "mallory"] == []
    with KillStateStore.open(desk.db_url) as store:
        assert all(r.actor != "mallory" for r in store.records())


def test_with_the_token_the_kill_switch_is_pulled_and_reset_and_audited(
    page: Page, desk: Desk
) -> None:
    page.fill("#token", TOKEN)
    page.select_option("#action-account", "ACC2")
    page.fill("#action-by", "jane.doe")
    page.fill("#action-reason", "fire drill")
    page.click("#btn-activate")
    expect(page.locator("#action-status")).to_have_text("ACC2: kill switch activated by jane.doe")
    banner = page.locator("#acct-ACC2 .kill")
    expect(banner).to_contain_text("KILL SWITCH ACTIVE", timeout=WITHIN_MS)
    expect(banner).to_contain_text("by jane.doe (manual): fire drill")
    page.click("#btn-reset")
    expect(page.locator("#action-status")).to_have_text("ACC2: kill switch reset by jane.doe")
    expect(banner).to_contain_text("reset by jane.doe", timeout=WITHIN_MS)

    with KillStateStore.open(desk.db_url) as store:
        assert store.state().active("ACC2") is None
        assert [r.action for r in store.records() if r.account == "ACC2"] == ["ACTIVATED", "RESET"]
    switched = [e for e in read_events(desk.redis_url, desk.namespace, "risk.kill_switch")
                if e.account == "ACC2"]  # fmt: skip
    assert [type(e) for e in switched] == [KillSwitchActivated, KillSwitchReset]
    audits = [e for e in read_events(desk.redis_url, desk.namespace, "audit.decision")
              if isinstance(e, DecisionAudited) and e.account == "ACC2"]  # fmt: skip
    by_dashboard = [a for a in audits if a.service == "dashboard"]
    assert [a.decision_type for a in by_dashboard] == [
        "dashboard_kill_switch_activate", "dashboard_kill_switch_reset",
    ]  # fmt: skip
    assert by_dashboard[0].input_summary["by"] == "jane.doe"
    assert by_dashboard[0].correlation_id == switched[0].correlation_id
    assert {a.decision_type for a in audits} >= {"kill_switch_activated", "kill_switch_reset"}


def test_with_the_token_dead_letters_go_back_on_their_stream(page: Page, desk: Desk) -> None:
    dead_letter(desk.redis_url, desk.namespace, alert(alert_id="dl-1", message="from the DLQ"))
    expect(page.locator("#dead-letters")).to_have_text("1 dead letters", timeout=WITHIN_MS)
    page.fill("#token", TOKEN)
    page.fill("#action-by", "jane.doe")
    page.fill("#action-reason", "smtp is back")
    page.click("#btn-dlq")
    expect(page.locator("#action-status")).to_have_text("retried 1 dead letters")
    expect(page.locator("#alerts")).to_contain_text("from the DLQ", timeout=WITHIN_MS)
    expect(page.locator("#dead-letters")).to_have_text("0 dead letters", timeout=WITHIN_MS)
    audits = read_events(desk.redis_url, desk.namespace, "audit.decision")
    assert any(getattr(a, "decision_type", "") == "dashboard_dlq_retry" for a in audits)


def test_the_state_api_says_what_the_page_shows(desk: Desk) -> None:
    state = get_json(f"{desk.base}/api/state")
    assert [a["name"] for a in state["accounts"]][:2] == ["ACC1", "ACC2"]
    assert state["limits"] == {
        "close_limit_pct": 100.0, "derisk_pct": 120.0, "hard_cap_pct": 130.0,
        "tolerance_pct": 120.0,
    }  # fmt: skip
    assert "token" not in str(state).lower().replace("enabled with the token", "")


def test_a_taken_port_stops_the_dashboard_with_the_reason(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = desk_config(tmp_path, f"sqlite:///{tmp_path / 'ledger.sqlite'}", port)
        process = start_dashboard(config, redis_server.url, new_namespace(), None)
        try:
            output, _ = process.communicate(timeout=20)
        finally:
            process.kill()
    assert process.returncode != 0
    assert b"address already in use" in output
