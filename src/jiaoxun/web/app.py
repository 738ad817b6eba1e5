"""The FastAPI app of the command center: routers, error mapping, health, the event stream."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from jiaoxun import __version__
from jiaoxun.activities.api import router as activities_router
from jiaoxun.analytics.api import router as analytics_router
from jiaoxun.audit.api import router as audit_router
from jiaoxun.city.api import router as city_router
from jiaoxun.city.context import load_city_context
from jiaoxun.duty.api import router as duty_router
from jiaoxun.duty.upkeep import duty_upkeep
from jiaoxun.eta.api import router as eta_router
from jiaoxun.events import EventBus, LocalBus, publish_on_commit
from jiaoxun.events_jetstream import JetStreamBus
from jiaoxun.incidents.api import router as incidents_router
from jiaoxun.incidents.config_api import router as config_router
from jiaoxun.incidents.escalation import escalation_upkeep
from jiaoxun.services.catalogue_api import router as catalogue_router
from jiaoxun.services.counter_api import router as counter_router
from jiaoxun.services.public_api import router as citizens_router
from jiaoxun.services.upkeep import services_upkeep
from jiaoxun.settings import Settings
from jiaoxun.throttle import TokenBuckets
from jiaoxun.tracking.api import router as tracking_router
from jiaoxun.tracking.clock import ShiftClock
from jiaoxun.tracking.gateway import Gateway
from jiaoxun.tracking.jt808_link import Limits
from jiaoxun.tracking.mqtt import subscribe
from jiaoxun.tracking.partitions import Partitions
from jiaoxun.tracking.patrol_api import router as patrol_router
from jiaoxun.tracking.service import Ingestor
from jiaoxun.traffic.accident_api import router as accidents_router
from jiaoxun.traffic.photo_api import router as photos_router
from jiaoxun.traffic.violation_api import router as violations_router
from jiaoxun.units.api import router as units_router
from jiaoxun.users.admin_api import router as user_admin_router
from jiaoxun.users.api import me_router
from jiaoxun.users.api import router as users_router
from jiaoxun.web.deps import AppState
from jiaoxun.web.errors import add_error_handlers
from jiaoxun.web.guards import add_guards
from jiaoxun.web.logs import redact_access_log
from jiaoxun.web.pages import mount_pages
from jiaoxun.web.routing import Route
from jiaoxun.web.stream import purge_tickets
from jiaoxun.web.stream import router as stream_router

_POLICY_VIOLATION = 1008


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    """The app on a migrated database holding a built city."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    bus: EventBus = LocalBus()
    if settings.bus_url:
        bus = JetStreamBus(settings.bus_url, name=settings.bus_name)
    publish_on_commit(sessions, bus)
    with sessions() as session:
        city = load_city_context(session, settings)
    ingestor = Ingestor(
        sessions=sessions,
        city=city,
        bus=bus,
        throttle=TokenBuckets(
            rate_per_s=settings.device_fixes_per_s, burst=settings.device_fix_burst
        ),
        arrival_radius_m=settings.arrival_radius_m,
        shifts=ShiftClock.of(settings.shift_starts, settings.tz),
    )
    gateway = Gateway(
        sessions=sessions,
        ingestor=ingestor,
        limits=Limits(connections_per_address=settings.jt808_connections_per_address),
    )
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
        redact_access_log()  # after uvicorn set up its loggers
        if inputs["running"]:
            yield
            return
        inputs["running"] = True
        await bus.open()
        tasks = [
            asyncio.create_task(ingestor.run_forever()),
            asyncio.create_task(_housekeeping(ingestor, settings, sessions)),
            asyncio.create_task(_duty_round(settings, sessions, ingestor)),
        ]
        if isinstance(bus, JetStreamBus):
            tasks.append(asyncio.create_task(_follow_devices(bus, ingestor)))
            ingestor.router = partitions = Partitions(
                bus.client, ingestor, name=settings.bus_name, count=settings.bus_partitions
            )
            tasks.append(asyncio.create_task(partitions.run()))
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
            await bus.close()
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
    app.router.route_class = Route  # the app's own routes (health, pages) as the routers' are
    app.add_middleware(GZipMiddleware, minimum_size=2048)  # the city map: 650 KB, 150 KB gzipped
    add_guards(app, settings)
    add_error_handlers(app)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, object]:
        """Liveness and database reachability, for probes (no token needed); with several
        server processes, the parts of the devices this one ingests."""
        with sessions() as session:
            session.connection(execution_options={"read_only": True}).execute(text("SELECT 1"))
        reply: dict[str, object] = {"status": "ok", "version": __version__}
        if isinstance(ingestor.router, Partitions):
            reply["partitions"] = sorted(ingestor.router.owned)
        return reply

    # a request is matched against the routers in this order: the devices' fixes (hundreds a
    # second) and the dispatchers' work first; no path is matched by two routers but the
    # photos' and the accidents' (in their order)
    routers = (
        tracking_router,
        incidents_router,
        stream_router,
        units_router,
        users_router,
        user_admin_router,
        config_router,
        audit_router,
        city_router,
        me_router,
        activities_router,
        eta_router,
        patrol_router,
        analytics_router,
        citizens_router,
        counter_router,
        catalogue_router,
        photos_router,
        accidents_router,
        violations_router,
        duty_router,
    )
    for router in routers:
        app.include_router(router)

    mount_pages(app, settings)

    return app


async def _follow_devices(bus: EventBus, ingestor: Ingestor) -> None:
    """Devices registered or changed through another server process come into this one's
    live state (which unit a fix moves, which secret proves a device)."""
    with bus.subscribe() as events:
        async for event in events:
            if event.kind != "device" or event.action != "changed":
                continue
            try:
                await asyncio.to_thread(ingestor.reload_device, str(event.data["device_id"]))
            except Exception:  # the database away a moment: the shift change reloads them all
                logging.getLogger(__name__).exception("device %s not read again", event.data)


async def _duty_round(
    settings: Settings, sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    """Every few seconds: at a shift start the roster becomes the cars' crews; the orders
    nobody signed for are raised to the dispatcher."""
    steps: list[tuple[str, Callable[..., object]]] = [
        ("shift change", partial(duty_upkeep, sessions, ingestor)),
        ("escalation", partial(escalation_upkeep, sessions, settings)),
    ]
    while True:
        await asyncio.sleep(settings.duty_round_s)
        now = datetime.now(UTC)
        for name, step in steps:  # each on its own: orders are raised after a failed shift change
            try:
                await asyncio.to_thread(step, now=now)
            except Exception:  # the database away a moment, say: the next round tries again
                logging.getLogger(__name__).exception(
                    "the duty round's %s at %s failed", name, now.isoformat()
                )


async def _housekeeping(
    ingestor: Ingestor,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    every_s: float = 30.0,
) -> None:
    """Mark silent devices offline; drop track points past the retention period and stream
    tickets past their use; rebuild the patrol duty of units whose fixes came late; end the
    kiosks' holds past their time, mark no-shows, send the citizens' due messages."""
    while True:
        await asyncio.sleep(every_s)
        now = datetime.now(UTC)
        await asyncio.to_thread(
            ingestor.mark_offline, now=now, after=timedelta(seconds=settings.device_offline_s)
        )
        await asyncio.to_thread(
            ingestor.purge, now=now, keep=timedelta(days=settings.track_retention_days)
        )
        await asyncio.to_thread(ingestor.rebuild_late, now=now)
        await asyncio.to_thread(purge_tickets, sessions, now=now)
        await asyncio.to_thread(services_upkeep, sessions, settings, now=now)
