"""The stored city and the rules in force, made ready for the simulator."""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.generate import draw_zones
from jiaoxun.city.models import PatrolLine, PatrolPoint, Zone
from jiaoxun.city.patrol import KEY_SITE_KINDS
from jiaoxun.city.service import city_pbf, traffic_for, travel_times_for
from jiaoxun.db import make_engine, transaction
from jiaoxun.errors import InvalidInput
from jiaoxun.incidents import reference
from jiaoxun.incidents.models import ResponsePlanRow
from jiaoxun.incidents.plans import DEFAULT_PLANS, ResponsePlan
from jiaoxun.settings import Settings
from jiaoxun.sim.city import sim_city_of
from jiaoxun.sim.model import Rules, Run, SimCity, simulate
from jiaoxun.sim.scenario import Scenario


def stored_city(session: Session, settings: Settings, *, learned_speeds: bool = False) -> SimCity:
    """The database's city: its kiosks, their zones (drawn again by road travel time, balanced
    by road length as when the city was built) and their mandatory patrol lines; the cars
    drive at the speeds learned from the tracks (`jiaoxun speeds learn`) for each hour of the
    week with `learned_speeds`, else at the class speeds."""
    travel_times = travel_times_for(settings, city_pbf(session, settings))
    zones = session.scalars(select(Zone).order_by(Zone.code)).all()
    kiosks = [z.kiosk for z in zones if z.kiosk is not None]
    if not kiosks or len(kiosks) != len(zones):
        raise InvalidInput("the simulator needs a built city with one kiosk per zone")
    snaps = travel_times.snap_many(
        np.array([k.lon for k in kiosks]), np.array([k.lat for k in kiosks])
    )
    index = {z.id: i for i, z in enumerate(zones)}
    key_points = session.scalars(select(PatrolPoint).where(PatrolPoint.kind.in_(KEY_SITE_KINDS)))
    city = sim_city_of(
        travel_times,
        kiosks=snaps,
        node_zone=draw_zones(travel_times, snaps).node_zone,
        zone_codes=tuple(z.code for z in zones),
        line_edges=[
            (index[line.zone_id], line.edges) for line in session.scalars(select(PatrolLine))
        ],
        key_sites=[(p.lon, p.lat) for p in key_points],
    )
    if not learned_speeds:
        return city
    traffic = traffic_for(settings, travel_times)
    if not traffic.learned:
        raise InvalidInput("no speeds are learned for this city's roads: run jiaoxun speeds learn")
    return dataclasses.replace(city, traffic=traffic)


def live_rules(session: Session, settings: Settings) -> Rules:
    """The rules the live server dispatches by: the stored response plans and 1-3-5 tiers,
    the configured turnout and fix-age limit."""
    plans = {
        (r.top_code, r.priority): ResponsePlan(units=r.units, distinct_zones=r.distinct_zones)
        for r in session.scalars(select(ResponsePlanRow))
    }
    return Rules(
        plans=plans or DEFAULT_PLANS,
        tiers=reference.tiers(session),
        turnout_s=dict(settings.turnout_s),
        max_fix_age_s=settings.max_fix_age_s,
    )


# --- replications across processes ---

#: the stored city and rules of a worker process, loaded once by `_load_worker`
_worker: tuple[SimCity, Rules] | None = None


def _load_worker(learned_speeds: bool) -> None:
    global _worker
    settings = Settings()
    engine = make_engine(settings.database)
    try:
        with transaction(engine) as session:
            _worker = (
                stored_city(session, settings, learned_speeds=learned_speeds),
                live_rules(session, settings),
            )
    finally:
        engine.dispose()


def _run_in_worker(scenario: Scenario, days: float, seed: int) -> Run:
    if _worker is None:
        raise RuntimeError("the worker process has not loaded the city")
    city, rules = _worker
    return simulate(city, scenario, days=days, seed=seed, rules=rules)


def replicate(
    city: SimCity,
    rules: Rules,
    scenarios: Sequence[Scenario],
    *,
    days: float,
    seed: int,
    replications: int,
    jobs: int = 1,
    learned_speeds: bool = False,
    done: Callable[[Scenario], None] = lambda _: None,
) -> dict[str, list[Run]]:
    """`replications` runs of each scenario, seeds `seed`, `seed + 1` …, by name; with `jobs`
    > 1 spread over as many processes, each loading the stored city once (the same runs: a run
    depends on its seed alone). `done` is told of each run finished."""
    work = [(s, seed + r) for s in scenarios for r in range(replications)]
    runs: dict[str, list[Run]] = {s.name: [] for s in scenarios}
    if jobs <= 1:
        for scenario, run_seed in work:
            runs[scenario.name].append(
                simulate(city, scenario, days=days, seed=run_seed, rules=rules)
            )
            done(scenario)
        return runs
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_load_worker, initargs=(learned_speeds,)
    ) as pool:
        futures = [pool.submit(_run_in_worker, s, days, run_seed) for s, run_seed in work]
        for (scenario, _), future in zip(work, futures, strict=True):
            runs[scenario.name].append(future.result())
            done(scenario)
    return runs
