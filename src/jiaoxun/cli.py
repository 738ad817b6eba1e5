"""The ``jiaoxun`` command: thin — parse, call a service, shape the reply."""

from __future__ import annotations

import gc
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jiaoxun.city import service as city_service
from jiaoxun.city.drawing import draw_city
from jiaoxun.city.schemas import read_kiosks
from jiaoxun.cli_common import command_errors, command_session, out, spinner
from jiaoxun.cli_history import history_app
from jiaoxun.cli_plan import plan_app, simulate_command
from jiaoxun.cli_roster import roster_app
from jiaoxun.cli_speeds import speeds_app
from jiaoxun.errors import InvalidInput
from jiaoxun.settings import Settings
from jiaoxun.tls import MAX_DAYS, make_certificates
from jiaoxun.users.passwords import check_password, hash_password, new_password
from jiaoxun.users.roles import Role
from jiaoxun.users.service import (
    create_user,
    list_users,
    reset_password,
    set_active,
    unit_id_of,
    user_named,
)

app = typer.Typer(help="交巡 jiaoxun: the command center of a merged traffic-and-patrol police.")
city_app = typer.Typer(help="Build and inspect the city: roads, kiosks, zones, patrol plan.")
user_app = typer.Typer(help="Users of the command center and their roles.")
patrol_app = typer.Typer(help="Patrol duty: mandatory points and lines, from the tracks.")
app.add_typer(patrol_app, name="patrol")
app.add_typer(city_app, name="city")
app.add_typer(user_app, name="user")
app.add_typer(plan_app, name="plan")
app.add_typer(speeds_app, name="speeds")
app.add_typer(history_app, name="history")
app.add_typer(roster_app, name="roster")
app.command("simulate")(simulate_command)


def parse_point(text: str, *, option: str) -> tuple[float, float]:
    """ "LON,LAT" in degrees."""
    parts = text.split(",")
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"{option} must be LON,LAT in degrees, got {text!r}") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"{option} {text!r} is outside lon -180..180, lat -90..90")
    return lon, lat


@city_app.command("build")
def city_build(
    pbf: Annotated[
        Path | None, typer.Argument(help="OpenStreetMap .osm.pbf (default: demo)")
    ] = None,
    kiosks: Annotated[
        Path | None, typer.Option(help="kiosk sites: GeoJSON points or CSV name,lon,lat[,datum]")
    ] = None,
) -> None:
    """Build a city: road network, kiosks, zones, units, patrol lines and points."""
    with command_session() as (settings, session):
        sites = read_kiosks(kiosks) if kiosks else None
        with spinner() as (progress, task):
            city_service.build_city(
                session,
                settings,
                pbf=pbf,
                kiosks=sites,
                step=lambda what: progress.update(task, description=what),
            )
        info = city_service.city_info(
            session,
            city_service.travel_times_for(settings, city_service.city_pbf(session, settings)),
        )
    out.print(
        f"built [bold]{info.name}[/]: {info.kiosks} kiosks, {info.zones} zones, "
        f"{info.units} units, {info.patrol_lines} patrol lines, {info.patrol_points} "
        f"patrol points on {info.road_km:.0f} km of road"
    )


@city_app.command("info")
def city_info(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Size of the city: kiosks, zones, units, patrol plan, road network."""
    with command_session() as (settings, session):
        pbf = city_service.city_pbf(session, settings)
        info = city_service.city_info(session, city_service.travel_times_for(settings, pbf))
    if as_json:
        out.print_json(info.model_dump_json())
        return
    table = Table(title=info.name or "no city built yet", show_header=False)
    for key, value in info.model_dump().items():
        table.add_row(key, str(value))
    out.print(table)


@city_app.command("export")
def city_export(
    geojson: Annotated[Path, typer.Option(help="file to write the GeoJSON FeatureCollection to")],
) -> None:
    """Write zones, kiosks, patrol lines and points as one GeoJSON file (WGS-84)."""
    with command_session() as (_, session):
        data = city_service.export_layout(session)
    geojson.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out.print(f"wrote {len(data['features'])} features to {geojson}")


@city_app.command("map")
def city_map(png: Annotated[Path, typer.Option(help="PNG file to draw the city map in")]) -> None:
    """Draw roads, zones, kiosks, patrol lines and points as a PNG map."""
    with command_session() as (settings, session):
        layout = city_service.export_layout(session)
        city = city_service.current_city(session)
        title = city.name if city else "roads only"
        travel_times = city_service.travel_times_for(
            settings, city_service.city_pbf(session, settings)
        )
    draw_city(travel_times.network, layout, png, title=title)
    out.print(f"drew {png}")


@city_app.command("import")
def city_import(
    geojson: Annotated[Path, typer.Option(help="GeoJSON written by `city export`")],
    pbf: Annotated[Path | None, typer.Option(help="the extract the layout belongs to")] = None,
) -> None:
    """Replace the stored city layout with one from a GeoJSON file."""
    with command_session() as (settings, session):
        try:
            data = json.loads(geojson.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{geojson} is not a readable JSON file: {exc}") from exc
        source = city_service.map_reference(session, settings, pbf)
        city_service.import_layout(session, data, name=geojson.stem, source=source)
    out.print(f"imported {len(data['features'])} features from {geojson}")


@app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="port (default JIAOXUN_PORT or 8110)")] = None,
    host: Annotated[
        str | None, typer.Option(help="address (default JIAOXUN_HOST or 127.0.0.1)")
    ] = None,
) -> None:
    """Start the command center (building the demo city on first start)."""
    import uvicorn

    from jiaoxun.web.app import create_app
    from jiaoxun.web.server import prepare

    with command_errors():
        settings = Settings()
        with spinner() as (progress, task):
            engine, users = prepare(
                settings, step=lambda what: progress.update(task, description=what)
            )
        app_ = create_app(settings, engine)
    # the city's millions of objects live as long as the process: out of the collector's sight,
    # a full collection no longer stops every request for 200 ms
    gc.collect()
    gc.freeze()
    # a request thread back from the database waits this long at most for the interpreter,
    # however busy the event loop (the default 5 ms, paid at every query, doubled a dispatcher's
    # p99 beside 300 fixes a second)
    sys.setswitchinterval(0.0005)
    if users:
        table = Table(title="first-login passwords (shown once)")
        for column in ("user", "role", "password"):
            table.add_column(column)
        for name, (role, password) in users.items():
            table.add_row(name, role.value, password)
        out.print(table)
    out.print(
        f"command center on {'https' if settings.tls_cert else 'http'}://"
        f"{host or settings.host}:{port or settings.port}"
        " (API docs at /docs)"
    )
    # a stop waits this long for requests under way, then cancels them (SIGTERM ends in < 10 s)
    uvicorn.run(
        app_,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        timeout_graceful_shutdown=5,
        # longer than a load balancer's idle timeout (nginx: 60 s), so that the balancer closes
        # an idle connection, never the server just as a request is sent on it
        timeout_keep_alive=65,
        ws_max_size=64 * 1024,  # the event stream is one way: a client has nothing to send
        # its events are a few hundred bytes each, sent to every page: compressing each one
        # once per page took a fifth of the loop's time beside 300 fixes a second
        ws_per_message_deflate=False,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )


@app.command("cert")
def cert(
    host: Annotated[
        list[str], typer.Option("--host", help="a name or address clients use (repeatable)")
    ],
    folder: Annotated[
        Path | None, typer.Option("--out", help="folder (default <data dir>/tls)")
    ] = None,
    days: Annotated[int, typer.Option(help="life of the server certificate")] = MAX_DAYS,
) -> None:
    """Make a local certificate authority and a server certificate for HTTPS on a closed
    network; install ca.pem on the phones and desks, serve with the printed settings."""
    with command_errors():
        files = make_certificates(folder or Settings().data_dir / "tls", hosts=host, days=days)
    out.print(f"CA certificate for the clients: {files.ca_cert}")
    out.print(f"serve with: JIAOXUN_TLS_CERT={files.cert} JIAOXUN_TLS_KEY={files.key}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[Role, typer.Option(help="what the user may do")],
    password: Annotated[str | None, typer.Option(help="asked for when not given")] = None,
    unit: Annotated[str | None, typer.Option(help="an officer's unit call sign")] = None,
    kiosk: Annotated[int | None, typer.Option(help="a kiosk clerk's kiosk id")] = None,
) -> None:
    """Add a user with a role (dispatcher, officer, kiosk_clerk, commander, admin); he must
    change the password at his first login."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with command_session() as (_, session):
        check_password(password, username=name)
        create_user(
            session,
            username=name,
            role=role,
            password_hash=hash_password(password),
            unit_id=unit_id_of(session, unit) if unit is not None else None,
            kiosk_id=kiosk,
            by="cli",
        )
    out.print(f"added {role.value} {name} (to change the password at the first login)")


@user_app.command("list")
def user_list() -> None:
    """The users, their roles, and whether each is active, locked or to change his password."""
    with command_session() as (_, session):
        table = Table("user", "role", "unit", "kiosk", "state")
        now = datetime.now(UTC)
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            if user.locked_until is not None and user.locked_until > now:
                state += f", locked until {user.locked_until:%H:%M:%S} UTC"
            if user.must_change_password:
                state += ", password to change"
            unit, kiosk = (str(v) if v is not None else "" for v in (user.unit_id, user.kiosk_id))
            table.add_row(user.username, user.role.value, unit, kiosk, state)
    out.print(table)


@user_app.command("reset-password")
def user_reset_password(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Give a user a new random password (printed once, to be changed at his next login); his
    tokens are revoked and a login lock is lifted."""
    password = new_password()
    with command_session() as (_, session):
        reset_password(
            session,
            user=user_named(session, name),
            password_hash=hash_password(password),
            by="cli",
            now=datetime.now(UTC),
        )
    out.print(f"new password of {name} (shown once, to change at the next login): {password}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Disable a user: he cannot log in, and his tokens stop working at once."""
    _set_active(name, active=False)


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Enable a user again (a login lock is lifted too)."""
    _set_active(name, active=True)


def _set_active(name: str, *, active: bool) -> None:
    with command_session() as (_, session):
        user = user_named(session, name)
        set_active(session, user=user, active=active, by="cli", now=datetime.now(UTC))
    out.print(f"{'enabled' if active else 'disabled'} {name}")


@patrol_app.command("report")
def patrol_report(
    at: Annotated[
        datetime | None, typer.Option(help="a moment of the shift (ISO 8601 with offset)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Patrol compliance of a shift (the current one by default), per zone and per unit."""
    from jiaoxun.city.context import load_city_context
    from jiaoxun.tracking.clock import ShiftClock
    from jiaoxun.tracking.schemas import ShiftReportOut
    from jiaoxun.tracking.shifts import shift_report

    with command_session() as (settings, session):
        now = datetime.now(UTC)
        clock = ShiftClock.of(settings.shift_starts, settings.tz)
        city = load_city_context(session, settings)
        moment = _aware(at) if at else now
        report = ShiftReportOut.of(shift_report(session, city, clock=clock, at=moment, now=now))
    if as_json:
        out.print_json(report.model_dump_json())
        return
    local = settings.tz
    title = f"patrol {report.start.astimezone(local):%Y-%m-%d %H:%M} – "
    table = Table(title=title + f"{report.end.astimezone(local):%H:%M} ({settings.timezone})")
    table.add_column("zone / unit", no_wrap=True)
    for column in ("km", "patrol min", "order min", "out min", "points", "late", "missed"):
        table.add_column(column, justify="right")
    table.add_column("lines", justify="right", no_wrap=True)
    table.caption = "out: on patrol outside the home zone, not sent there"
    for zone in report.zones:
        rows = [(f"[bold]{zone.zone}[/]", zone.times, zone.duty)] + [
            (f"  {u.unit}", u.times, u.duty) for u in report.units if u.zone == zone.zone
        ]
        for label, t, d in rows:
            table.add_row(
                label,
                f"{t.patrol_km:.1f}",
                f"{t.patrol_min:.0f}",
                f"{t.order_min:.0f}",
                f"{t.outside_zone_min:.0f}",
                f"{d.visits_done}/{d.visits_required}",
                str(len(d.late)),
                str(len(d.missed)),
                f"{100 * d.line_coverage:.0f} %",
            )
    out.print(table)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{moment.isoformat()} needs a time zone offset, e.g. +08:00")
    return moment


@app.command("eta")
def eta(
    from_: Annotated[str, typer.Option("--from", help="origin LON,LAT (WGS-84)")],
    to: Annotated[str, typer.Option("--to", help="destination LON,LAT (WGS-84)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Road travel time, distance and route between two points."""
    with command_session() as (settings, session):
        origin, target = parse_point(from_, option="--from"), parse_point(to, option="--to")
        travel_times = city_service.travel_times_for(
            settings, city_service.city_pbf(session, settings)
        )
        route = travel_times.route(travel_times.snap(*origin), travel_times.snap(*target))
    reply = {
        "travel_time_s": round(route.travel_time_s, 1),
        "distance_m": round(route.distance_m, 1),
        "route": {"type": "LineString", "coordinates": route.coords.round(7).tolist()},
    }
    if as_json:
        out.print_json(json.dumps(reply))
        return
    minutes, seconds = divmod(route.travel_time_s, 60)
    out.print(
        f"{int(minutes)} min {seconds:.0f} s by road, {route.distance_m / 1000:.2f} km, "
        f"{len(route.coords)} route points"
    )
