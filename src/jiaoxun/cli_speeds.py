"""``jiaoxun speeds``: road speeds learned from the cars' own tracks. Thin, like cli."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from jiaoxun.cli_common import command_session, out, progress_bar

speeds_app = typer.Typer(help="Road speeds learned from the cars' own tracks.")


@speeds_app.command("learn")
def learn(
    days: Annotated[float, typer.Option(min=0.01, max=366, help="days of tracks, to now")] = 28,
    prior_m: Annotated[
        float, typer.Option(min=1, help="metres of samples the class speed weighs as")
    ] = 2000,
    utc_offset_h: Annotated[
        float, typer.Option(min=-12, max=14, help="the city's local time, hours from UTC")
    ] = 8,
) -> None:
    """Learn each road's speed by hour of the week from the stored tracks and keep them in the
    data folder, keyed to the road network."""
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
                utc_offset_h=utc_offset_h,
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
