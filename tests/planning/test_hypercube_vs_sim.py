"""The kiosk hypercube against the simulator, on the same inputs, as a planner would use it.

Demo city, its 9 kiosks with 3 cars each and no free patrol cars; every call is a lockout
("050200", a one-car plan) at 300 calls a day, flat over the hours, 45 min on scene on average,
so that a car is busy about a third of the time. The matching `KioskHypercube`:

* atoms are the zones, each with the share of the calls arising in it (the simulator draws calls
  in proportion to `city.node_weight`), scaled to calls per hour;
* each zone prefers the kiosks in order of the mean road time from the kiosk to the zone's nodes
  (weighted as the calls are), which puts the zone's own kiosk first;
* a car's service is its drive plus its time on scene (the simulator counts a car busy from its
  dispatch until it leaves the scene), so the service rate is 1 / (45 min + the mean drive of the
  simulated run, about 2.1 min); infinite line (the simulator holds calls until a car frees).

`workload` of the kiosk variant is the busy fraction of the kiosk's cars (mean busy cars / c),
the same quantity as the mean `utilisation` of its 3 simulated cars, once the latter is rescaled
from the run's length (`days` + 6 h of wind-down without calls) to the `days` with calls.

The simulator dispatches the free car with the shortest road ETA from where the car is (a random
point of its zone's patrol lines, or the last scene), not from its kiosk, so near a zone's border
a neighbour's car is often nearer than the zone's own free cars. The overall workload does not
depend on who answers (it is arrival rate x service time / cars) and agrees within 10 %
relative; the split between kiosks does, and differs by up to ~0.10 for single kiosks (seeds
1-3 give maximal differences 0.07-0.10, mean absolute differences about 0.04), hence a tolerance
of 0.12 for any kiosk and 0.06 on average.

The share of calls answered from outside the zone is where the two disagree badly (sim ~0.43,
model ~0.10): in the model a zone's calls leave it only when all 3 home cars are busy. Found
while writing this test: with cars parked at their kiosks between calls (no patrol lines) the
simulated share falls to ~0.23, and atoms finer than zones (nodes grouped by their three
nearest kiosks, 107 atoms) raise the model's to ~0.19; the rest is cars left where their last
call was. So the test asserts only the order: the model sends fewer calls across zones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from jiaoxun.city.generate import layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.places import places_from_pbf
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.incidents.plans import plan_for
from jiaoxun.planning.hypercube import HypercubeResult, KioskHypercube
from jiaoxun.sim.city import sim_city
from jiaoxun.sim.model import Run, SimCity, simulate
from jiaoxun.sim.scenario import Scenario

CALLS_PER_DAY = 300.0
ON_SCENE_MIN = 45.0
CARS_PER_KIOSK = 3
DAYS = 10.0
WIND_DOWN_S = 6 * 3600  # `simulate` runs this long after the last call
LOCKOUT = "050200"


@dataclass(frozen=True)
class Compared:
    run: Run
    model: HypercubeResult
    sim_workload: np.ndarray  # per kiosk, mean busy fraction of its cars while calls come
    mean_travel_s: float


@pytest.fixture(scope="module")
def city() -> SimCity:
    travel_times = TravelTimes(network_from_pbf(DEMO_PBF))
    return sim_city(travel_times, layout_city(travel_times, places_from_pbf(DEMO_PBF)))


def zone_atoms(city: SimCity) -> tuple[np.ndarray, np.ndarray]:
    """(share of the calls per zone, (zones, kiosks) mean road seconds kiosk -> zone)."""
    n_zones = len(city.zone_codes)
    in_zone = city.node_zone >= 0
    weight = city.node_weight
    share = np.bincount(city.node_zone[in_zone], weights=weight[in_zone], minlength=n_zones)
    seconds = np.zeros((n_zones, n_zones))
    for k in range(n_zones):
        times = city.travel_times.node_times_from(city.kiosks[k])
        for z in range(n_zones):
            nodes = (city.node_zone == z) & np.isfinite(times) & (weight > 0)
            seconds[z, k] = np.average(times[nodes], weights=weight[nodes])
    return share / share.sum(), seconds


@pytest.fixture(scope="module")
def compared(city: SimCity) -> Compared:
    assert plan_for(LOCKOUT).units == 1
    scenario = Scenario(
        name="one-car calls",
        calls_per_day=CALLS_PER_DAY,
        hourly_profile=(1.0,) * 24,
        categories={LOCKOUT: 1.0},
        on_scene_min={LOCKOUT[:2] + "0000": ON_SCENE_MIN},
        kiosks=0,
        cars_per_kiosk=CARS_PER_KIOSK,
        patrol_cars=(),
    )
    run = simulate(city, scenario, days=DAYS, seed=1)
    n_kiosks = len(city.zone_codes)
    with_calls = DAYS * 86400 / (DAYS * 86400 + WIND_DOWN_S)
    busy = np.array(run.utilisation).reshape(n_kiosks, CARS_PER_KIOSK).mean(axis=1) / with_calls
    travel_s = float(np.mean([o.dispatch_to_arrival_s for o in run.incidents]))

    share, seconds = zone_atoms(city)
    model = KioskHypercube.from_rates(
        share * CALLS_PER_DAY / 24,
        np.argsort(seconds, axis=1, kind="stable"),
        cars_per_kiosk=[CARS_PER_KIOSK] * n_kiosks,
        service_rate_per_h=60.0 / (ON_SCENE_MIN + travel_s / 60),
        line="infinite",
        home_atoms=[[k] for k in range(n_kiosks)],
    ).solve()
    assert model.status == "converged"
    return Compared(run, model, busy, travel_s)


def test_the_scenario_keeps_cars_busy_but_not_swamped(compared: Compared) -> None:
    assert all(o.units_sent == o.units_asked == 1 for o in compared.run.incidents)
    assert 0.2 < compared.sim_workload.mean() < 0.5
    assert 60 < compared.mean_travel_s < 300


def test_overall_workload_agrees_within_ten_percent(compared: Compared) -> None:
    # recorded (seed 1): sim 0.350, model 0.364
    assert compared.sim_workload.mean() == pytest.approx(compared.model.workload.mean(), rel=0.10)


def test_workload_per_kiosk_agrees_within_the_stated_tolerance(compared: Compared) -> None:
    # recorded (seed 1): largest difference 0.104 (Z02: sim 0.252, model 0.356), mean 0.041
    difference = np.abs(compared.sim_workload - compared.model.workload)
    assert difference.max() < 0.12
    assert difference.mean() < 0.06


def test_a_minority_of_calls_cross_zones_fewer_in_the_model(compared: Compared) -> None:
    """What does hold of the cross-zone share: recorded (seed 1) sim 0.426, model 0.096."""
    run = compared.run
    sim_share = sum(o.cross_zone for o in run.incidents) / sum(o.units_sent for o in run.incidents)
    assert 0 < compared.model.interarea_fraction < sim_share < 0.5
