"""The planning commands of ``jiaoxun``: simulate deployments, place kiosks. Thin, like cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from jiaoxun.cli_common import command_session, out, progress_bar

if TYPE_CHECKING:
    from jiaoxun.sim.report import Summary

plan_app = typer.Typer(help="Planning: coverage of the roads, where kiosks should stand.")


def simulate_command(
    scenarios: Annotated[
        list[str], typer.Argument(help="before, after, or scenario TOML files; several compare")
    ],
    days: Annotated[float, typer.Option(min=0.01, max=3660, help="simulated days per run")] = 61,
    seed: Annotated[int, typer.Option(help="seed of the first replication")] = 1,
    replications: Annotated[int, typer.Option(min=1, max=1000)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    png: Annotated[Path | None, typer.Option(help="plot the response times to this PNG")] = None,
    learned_speeds: Annotated[
        bool, typer.Option(help="drive at the speeds learned from the tracks (speeds learn)")
    ] = False,
    jobs: Annotated[
        int, typer.Option(min=1, max=64, help="processes to spread the replications over")
    ] = 1,
) -> None:
    """Simulate deployments on the city's roads: response times and 1-3-5 compliance."""
    from jiaoxun.sim.report import plot_responses, summarise
    from jiaoxun.sim.scenario import load_scenario
    from jiaoxun.sim.service import live_rules, replicate, stored_city

    with command_session() as (settings, session):
        plans = [load_scenario(name) for name in scenarios]
        city = stored_city(session, settings, learned_speeds=learned_speeds)
        rules = live_rules(session, settings)
    with progress_bar() as progress:
        tasks = {
            plan.name: progress.add_task(f"simulating {plan.name}", total=replications)
            for plan in plans
        }
        runs_by = replicate(
            city,
            rules,
            plans,
            days=days,
            seed=seed,
            replications=replications,
            jobs=jobs,
            learned_speeds=learned_speeds,
            done=lambda plan: progress.advance(tasks[plan.name]),
        )
    summaries = [summarise(runs) for runs in runs_by.values()]
    if png is not None:
        plot_responses(runs_by, png)
    if as_json:
        reply = [s.as_json() for s in summaries]
        out.print_json(json.dumps(reply[0] if len(reply) == 1 else reply))
        return
    for summary in summaries:
        out.print(_summary_table(summary, days=days, replications=replications))


def _summary_table(summary: Summary, *, days: float, replications: int) -> Table:
    table = Table(
        title=f"{summary.scenario}: {replications} × {days:g} days, "
        f"{summary.incidents:.0f} incidents a run"
    )
    table.add_column("figure")
    table.add_column("mean", justify="right")
    table.add_column("95 % interval", justify="right")
    rows = [
        ("response p50 (s)", summary.response_p50_s),
        ("response p90 (s)", summary.response_p90_s),
        ("response mean (s)", summary.response_mean_s),
    ]
    rows += [(f"within {tier} of the call", i) for tier, i in summary.compliance.items()]
    rows += [
        ("car utilisation", summary.utilisation),
        ("cross-zone dispatches", summary.cross_zone_share),
        ("queue wait mean (s)", summary.queue_wait_mean_s),
    ]
    for name, i in rows:
        mean, low, high = (round(v, 3) + 0.0 for v in (i.mean, i.low, i.high))  # no "-0.000"
        table.add_row(name, f"{mean:.3f}", f"{low:.3f} … {high:.3f}")
    return table


@plan_app.command("kiosks")
def plan_kiosks(
    count: Annotated[int, typer.Option(min=1, max=100, help="kiosks to place")] = 9,
    minutes: Annotated[float, typer.Option(min=0.5, max=30, help="response target")] = 3,
    spacing: Annotated[float, typer.Option(min=50, help="candidate spacing, metres")] = 400,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    png: Annotated[Path | None, typer.Option(help="map the coverage to this PNG")] = None,
) -> None:
    """Where `count` kiosks should stand to cover the most demand within `minutes` (the maximal
    covering location problem, solved exactly), against the current kiosks."""
    import numpy as np

    from jiaoxun.planning.coverage import candidate_nodes, coverage, take
    from jiaoxun.planning.covering import MaximalCovering
    from jiaoxun.planning.drawing import draw_coverage
    from jiaoxun.sim.service import stored_city

    with command_session() as (settings, session):
        city = stored_city(session, settings)
        tt = city.travel_times
        net = tt.network
        nodes = candidate_nodes(net, spacing_m=spacing)
        candidates = tt.snap_many(net.node_lon[nodes], net.node_lat[nodes])
        problem = MaximalCovering.from_travel_times(tt, candidates, service_s=minutes * 60, p=count)
        best = problem.solve()
        sites = take(candidates, best.sites)
        bounds = (1, minutes, 5) if minutes not in (1, 5) else (1, 3, 5)
        now, then = (coverage(tt, s, minutes=bounds) for s in (city.kiosks, sites))
    reply = {
        "minutes": minutes,
        "status": best.status,
        "solve_time_s": round(best.solve_time_s, 2),
        "current": {f"{b:g}": round(now.at(b).demand_share, 4) for b in bounds},
        "optimal": {f"{b:g}": round(then.at(b).demand_share, 4) for b in bounds},
        "sites": [
            [round(float(x), 6), round(float(y), 6)]
            for x, y in zip(np.asarray(sites.lon), np.asarray(sites.lat), strict=True)
        ],
    }
    if png is not None:
        draw_coverage(
            net,
            [
                (f"{len(city.kiosks)} current kiosks", now, city.kiosks),
                (f"{count} optimal sites", then, sites),
            ],
            png,
            minutes=minutes,
        )
    if as_json:
        out.print_json(json.dumps(reply))
        return
    table = Table(
        title=f"demand covered by road within… ({best.status}, {best.solve_time_s:.1f} s)"
    )
    for column in ("sites", *(f"{b:g} min" for b in bounds)):
        table.add_column(column)
    for label, result in (("current kiosks", now), ("optimal sites", then)):
        table.add_row(label, *(f"{result.at(b).demand_share:.1%}" for b in bounds))
    out.print(table)
