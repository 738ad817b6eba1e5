"""The FastAPI app of the command center: routers, error mapping, health, the event stream."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import anyio
from fastapi import FastAPI, Query, WebSocket, WebSocketDisconnect
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from jiaoxun import __version__
from jiaoxun.activities.api import router as activities_router
from jiaoxun.audit.api import router as audit_router
from jiaoxun.city.api import router as city_router
from jiaoxun.city.context import load_city_context
from jiaoxun.db import MAX_ID
from jiaoxun.errors import JiaoxunError
from jiaoxun.events import Event, LocalBus, Subscription, publish_on_commit
from jiaoxun.incidents.api import router as incidents_router
from jiaoxun.incidents.config_api import router as config_router
from jiaoxun.settings import Settings
from jiaoxun.tracking.api import router as tracking_router
from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.mqtt import subscribe
from jiaoxun.tracking.service import Ingestor
from jiaoxun.units.api import router as units_router
from jiaoxun.users.api import me_router
from jiaoxun.users.api import router as users_router
from jiaoxun.users.service import user_for_token
from jiaoxun.web.deps import AppState, read_session
from jiaoxun.web.errors import add_error_handlers
from jiaoxun.web.guards import add_guards
from jiaoxun.web.pages import mount_pages

_POLICY_VIOLATION = 1008


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    """The app on a migrated database holding a built city."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    bus = LocalBus()
    publish_on_commit(sessions, bus)
    with sessions() as session:
        city = load_city_context(session, settings)
    ingestor = Ingestor(sessions=sessions, city=city, bus=bus)
    gateway = Gateway(sessions=sessions, ingestor=ingestor)
    mqtt_stats: Counter[str] = Counter()
    state = AppState(
        settings=settings,
        sessions=sessions,
        city=city,
        bus=bus,
        ingestor=ingestor,
        gateway=gateway,
        mqtt=mqtt_stats,
    )
    inputs = {"running": False}  # a second lifespan of the same app (tests) starts none again

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        bus.bind(asyncio.get_running_loop())
        if inputs["running"]:
            yield
            return
        inputs["running"] = True
        tasks = [
            asyncio.create_task(ingestor.run_forever()),
            asyncio.create_task(_housekeeping(ingestor, settings)),
        ]
        if settings.mqtt_url:
            tasks.append(
                asyncio.create_task(
                    subscribe(
                        settings.mqtt_url,
                        ingestor,
                        prefix=settings.mqtt_topic_prefix,
                        stats=mqtt_stats,
                    )
                )
            )
        server = None
        if settings.jt808_port:
            server = await gateway.serve(settings.host, settings.jt808_port)
        try:
            yield
        finally:
            if server is not None:
                server.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            inputs["running"] = False

    app = FastAPI(
        title="jiaoxun 交巡 command center",
        version=__version__,
        description="110 intake, recommendations by road ETA, multi-point dispatch, 1-3-5 timing.",
        lifespan=lifespan,
        # no CDN: mount_pages serves the API description and Swagger UI, by the settings
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.jiaoxun = state
    app.add_middleware(GZipMiddleware, minimum_size=2048)  # the city map: 650 KB, 150 KB gzipped
    add_guards(app, settings)
    add_error_handlers(app)
    routers = (
        users_router,
        incidents_router,
        config_router,
        units_router,
        tracking_router,
        audit_router,
        city_router,
        me_router,
        activities_router,
    )
    for router in routers:
        app.include_router(router)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness and database reachability, for probes (no token needed)."""
        with sessions() as session:
            session.connection(execution_options={"read_only": True}).execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    mount_pages(app, settings)

    @app.websocket("/api/events")
    async def events(
        websocket: WebSocket,
        token: Annotated[str, Query(max_length=100)] = "",
        moves_of: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> None:
        """Every incident, order and unit change as JSON; `?token=` carries the bearer token.
        `?moves_of=<unit id>` keeps only that unit's positions (an officer's phone needs no
        fleet's worth of them)."""
        if not _token_ok(state, token):
            await websocket.close(code=_POLICY_VIOLATION, reason="a valid ?token= is needed")
            return
        # subscribed before the handshake ends: what a page loads once the socket is open,
        # and every change after it, reach it
        with bus.subscribe() as subscription:
            await websocket.accept()
            await _stream(websocket, subscription, moves_of=moves_of)

    return app


async def _stream(websocket: WebSocket, events: Subscription, *, moves_of: int | None) -> None:
    """Send `events` until the client leaves or the server stops (which closes the socket:
    reading it is what notices, even while no event flows)."""
    async with anyio.create_task_group() as tasks:

        async def send() -> None:
            try:
                async for event in events:
                    if moves_of is None or not _moves_of_another(event, moves_of):
                        await websocket.send_json(event.as_json())
            except (WebSocketDisconnect, OSError):
                pass  # gone while an event was on its way
            tasks.cancel_scope.cancel()

        async def closed() -> None:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # the stream is one way: what a client sends is ignored
            tasks.cancel_scope.cancel()

        tasks.start_soon(send)
        tasks.start_soon(closed)


async def _housekeeping(ingestor: Ingestor, settings: Settings, *, every_s: float = 30.0) -> None:
    """Mark silent devices offline and drop track points past the retention period."""
    while True:
        await asyncio.sleep(every_s)
        now = datetime.now(UTC)
        await asyncio.to_thread(
            ingestor.mark_offline, now=now, after=timedelta(seconds=settings.device_offline_s)
        )
        await asyncio.to_thread(
            ingestor.purge, now=now, keep=timedelta(days=settings.track_retention_days)
        )


def _moves_of_another(event: Event, unit_id: int) -> bool:
    data = event.data
    return (event.kind, event.action) == ("unit", "moved") and (
        data.get("unit_id", data.get("id")) != unit_id
    )


def _token_ok(state: AppState, token: str) -> bool:
    try:
        with read_session(state) as session:
            user_for_token(session, token)
    except JiaoxunError:
        return False
    return True
