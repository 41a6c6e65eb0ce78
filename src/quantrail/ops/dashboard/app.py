"""The dashboard's ASGI app (Starlette): the page, its state by server-sent events, actions.

``GET /`` the page; ``GET /events`` the desk as JSON, one SSE message per change (at most
every ``PUSH_MIN_S``) and a comment every ``KEEPALIVE_S``; ``GET /api/state`` the same once;
``POST /api/killswitch/activate|reset`` and ``POST /api/dlq/retry`` need the token
(``actions.py``). Plotly's own ``plotly.min.js`` is served from the installed package: the page
needs no network beyond this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from quantrail.bus.bus import EventBus
from quantrail.bus.transport import TransportError
from quantrail.config import Config
from quantrail.ops.dashboard.actions import ActionError, Ask, DeskActions
from quantrail.ops.desk_feed import DeskFeed

log = logging.getLogger(__name__)

PUSH_MIN_S = 0.2
KEEPALIVE_S = 15.0
STOP_WITHIN_S = 5.0
PACKAGE = "quantrail.ops.dashboard"


class Dashboard:
    """The feed, the actions and the routes around them."""

    def __init__(self, config: Config, feed: DeskFeed, actions: DeskActions) -> None:
        self.config, self.feed, self.actions = config, feed, actions
        self.closing = asyncio.Event()

    def state(self) -> dict[str, Any]:
        return self.feed.view.snapshot() | {
            "namespace": self.config.namespace,
            "timezone": self.config.session.timezone,
            "actions_enabled": self.actions.enabled,
            "feed_error": self.feed.error,
            "version": self.feed.version,
        }

    async def index(self, _request: Request) -> Response:
        page = resources.files(PACKAGE).joinpath("templates", "index.html").read_text()
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def api_state(self, _request: Request) -> Response:
        return JSONResponse(self.state())

    async def events(self, request: Request) -> Response:
        return StreamingResponse(
            self._stream(request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(self, request: Request) -> AsyncIterator[str]:
        seen = -1
        while not self.closing.is_set() and not await request.is_disconnected():
            version = self.feed.version
            if version != seen:
                seen = version
                yield f"data: {json.dumps(self.state(), separators=(',', ':'))}\n\n"
                await asyncio.sleep(PUSH_MIN_S)  # coalesce bursts: at most 5 pushes a second
            elif await self.feed.wait_change(seen, KEEPALIVE_S) == seen:
                yield ": keep-alive\n\n"

    async def plotly_js(self, _request: Request) -> Response:
        path = resources.files("plotly").joinpath("package_data", "plotly.min.js")
        return FileResponse(
            str(path), media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )  # fmt: skip

    async def kill_activate(self, request: Request) -> Response:
        async def act(body: dict[str, Any], ask: Ask) -> str:
            flatten = body.get("flatten", False)
            if not isinstance(flatten, bool):
                raise ActionError(400, f"flatten: must be true or false, got {flatten!r}")
            return await self.actions.activate(str(body.get("account", "")), flatten, ask)

        return await self._action(request, act)

    async def kill_reset(self, request: Request) -> Response:
        async def act(body: dict[str, Any], ask: Ask) -> str:
            return await self.actions.reset(str(body.get("account", "")), ask)

        return await self._action(request, act)

    async def dlq_retry(self, request: Request) -> Response:
        async def act(body: dict[str, Any], ask: Ask) -> str:
            ids = body.get("ids", [])
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ActionError(400, f"ids: must be a list of dead-letter ids, got {ids!r}")
            return await self.actions.retry_dead_letters(ids, body.get("all") is True, ask)

        return await self._action(request, act)

    async def _action(self, request: Request, act: Any) -> Response:
        remote = request.client.host if request.client else "?"
        try:
            self.actions.check_token(request.headers.get("authorization", ""))
            body = await _json_body(request)
            message = await act(body, Ask.of(body, remote))
        except ActionError as exc:
            log.warning("dashboard: %s %s refused (%s): %s", request.method,
                        request.url.path, remote, exc.message)  # fmt: skip
            return JSONResponse({"ok": False, "error": exc.message}, status_code=exc.status)
        except TransportError as exc:
            # A kill switch change is already in SQL: the killswitch service publishes it.
            log.error("dashboard: %s failed on Redis: %s", request.url.path, exc)
            error = f"cannot reach Redis: {exc} (a kill switch change saved in SQL is published "
            error += "by the killswitch service when it next starts)"
            return JSONResponse({"ok": False, "error": error}, status_code=503)
        log.info("dashboard: %s (%s)", message, remote)
        return JSONResponse({"ok": True, "message": message})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ActionError(400, "body: must be a JSON object") from None
    if not isinstance(body, dict):
        raise ActionError(400, f"body: must be a JSON object, got {type(body).__name__}")
    return body


def create_app(
    config: Config, bus: EventBus, feed: DeskFeed, token: str | None, db_url: str | None = None
) -> Starlette:
    """The app; it runs ``feed`` while it serves and closes ``bus`` when it stops."""
    board = Dashboard(config, feed, DeskActions(config, bus, token, db_url))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(feed.run(), name="desk-feed")
        try:
            yield
        finally:
            board.closing.set()
            feed.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, STOP_WITHIN_S)
            await bus.close()

    static = StaticFiles(packages=[(PACKAGE, "static")])
    routes = [
        Route("/", board.index),
        Route("/events", board.events),
        Route("/api/state", board.api_state),
        Route("/api/killswitch/activate", board.kill_activate, methods=["POST"]),
        Route("/api/killswitch/reset", board.kill_reset, methods=["POST"]),
        Route("/api/dlq/retry", board.dlq_retry, methods=["POST"]),
        Route("/static/plotly.min.js", board.plotly_js),
        Mount("/static", app=static, name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
