"""``jiaoxun speeds``: road speeds learned from the cars' own tracks, and the ETA forecast
judged against the GPS arrivals. Thin, like cli."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from jiaoxun.cli_common import command_session, out, progress_bar

speeds_app = typer.Typer(help="Road speeds learned from the cars' own tracks.")


@speeds_app.command("learn")
def learn(
    days: Annotated[float, typer.Option(min=0.01, max=366, help="days of tracks, to now")] = 28,
    prior_m: Annotated[
        float, typer.Option(min=1, help="metres of samples the class speed weighs as")
    ] = 2000,
) -> None:
    """Learn each road's speed by hour of the week (local: JIAOXUN_TIMEZONE) from the stored
    tracks and keep them in the data folder, keyed to the road network."""
    from jiaoxun.city.service import city_pbf
    from jiaoxun.geo.osm import network_from_pbf
    from jiaoxun.geo.speeds import speeds_path
    from jiaoxun.tracking.speeds import count_track_points, learn_from_tracks

    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    with command_session() as (settings, session):
        pbf = city_pbf(session, settings)
        cache_dir = settings.cache_dir
        network = network_from_pbf(pbf, speeds_kph=settings.speeds_kph, cache_dir=cache_dir)
        total = count_track_points(session, since=since, until=until)
        with progress_bar() as progress:
            task = progress.add_task("reading tracks", total=total)
            speeds, read = learn_from_tracks(
                session,
                network=network,
                since=since,
                until=until,
                tz=settings.tz,
                prior_m=prior_m,
                advance=lambda n: progress.advance(task, n),
            )
        path = speeds_path(settings.data_dir, network)
        speeds.save(path)
    driven = speeds.observed_m.sum(axis=1)
    out.print(
        f"{read:,} track points: {driven.sum() / 1000:,.1f} km of driving sampled on "
        f"{int((driven > 0).sum()):,} of {network.n_edges:,} road edges; speeds kept in {path}"
    )


@speeds_app.command("accuracy")
def accuracy(
    days: Annotated[float, typer.Option(min=0.01, max=366, help="days of orders, to now")] = 28,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Median and p90 absolute error and bias of the orders' ETAs against their GPS-proved
    travel times, and of the same trips timed again by the class table and learned speeds."""
    from jiaoxun.city.service import city_pbf, traffic_for, travel_times_for
    from jiaoxun.eta.service import eta_report, replays

    until = datetime.now(UTC)
    with command_session() as (settings, session):
        travel_times = travel_times_for(settings, city_pbf(session, settings))
        report = eta_report(
            session,
            since=until - timedelta(days=days),
            until=until,
            replay_with=replays(traffic_for(settings, travel_times)),
            turnout_s=settings.turnout_s.get("available", 0.0),
        )
    rows = {"stored ETA": report.stored, **report.replayed}
    if as_json:
        out.print_json(json.dumps({name: asdict(a) for name, a in rows.items()}))
        return
    table = Table(title=f"ETA against GPS arrival, orders of the last {days:g} days")
    for column in ("forecast", "orders", "median |error| s", "p90 |error| s", "bias s"):
        table.add_column(column, justify="right" if column != "forecast" else "left")
    for name, a in rows.items():
        figures = (a.median_abs_error_s, a.p90_abs_error_s, a.bias_s)
        table.add_row(name, str(a.count), *("—" if v is None else f"{v:.0f}" for v in figures))
    out.print(table)
