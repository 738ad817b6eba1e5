"""The SimPy model of a city's policing: calls arrive, the command center dispatches with
`incidents.recommend` (the live server's code, not a copy), cars drive at the network's speeds,
stay on scene, and go back to patrolling their zones.

Like a wind tunnel for a deployment: the same calls can be played against `before` and `after`
and the response times compared. Simplifications, stated once: a car moving between two points
is placed at its destination when it arrives (its ETA is exact, its position in between is not
tracked); an idle kiosk car moves to a random point of its zone's mandatory patrol lines every
`patrol_hop_s`; a call that finds no free car waits for the next car to come free. A car at its
kiosk counts as `at_kiosk`, one anywhere else as `available`, for its turnout.

The dispatching rules are the live server's (`Rules`: response plans, 1-3-5 tiers, turnout, the
fix-age limit); `sim.service.live_rules` reads those in force.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.snap import Snap, Snaps
from jiaoxun.geo.traffic import Traffic
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.geo.turnout import DEFAULT_TURNOUT_S
from jiaoxun.incidents.plans import DEFAULT_PLANS, ResponsePlan, plan_for
from jiaoxun.incidents.recommend import UnitView, recommend
from jiaoxun.incidents.targets import DEFAULT_TIERS, Tier, judge
from jiaoxun.sim.scenario import Scenario
from jiaoxun.units.status import UnitStatus

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # local midnight is 16:00 UTC the day before
LOCAL_OFFSET_H = 8


@dataclass(frozen=True, eq=False)
class SimCity:
    """The city as the simulator needs it; see `sim.city.sim_city`."""

    travel_times: TravelTimes
    node_zone: NDArray[np.int64]  # zone index of every road node (-1: none)
    zone_codes: tuple[str, ...]
    kiosks: Snaps  # kiosk z heads zone z
    patrol_edges: tuple[NDArray[np.int64], ...]  # per zone: edges of its mandatory lines
    node_weight: NDArray[np.float64]  # where calls come from, relative
    node_key_site: NDArray[np.bool_]  # within reach of a key patrol point (1-minute tier)
    #: the cars' travel times by hour of the week (learned speeds); None: `travel_times` always
    traffic: Traffic | None = None

    def driving_at(self, when: datetime) -> TravelTimes:
        """The travel times the cars drive by at `when`."""
        return self.travel_times if self.traffic is None else self.traffic.at(when)


@dataclass(frozen=True)
class Rules:
    """What the command center dispatches and judges by, as in the live server.

    Attributes
    ----------
    plans : response plans keyed by (top-level category code, priority), as `DEFAULT_PLANS`.
    tiers : the 1-3-5 targets the calls are judged against.
    turnout_s : seconds a car needs to get going, by status (`geo.turnout`).
    max_fix_age_s : the recommender's limit on a position's age, seconds (the simulated cars
        always know where they are).
    """

    plans: Mapping[tuple[str, int], ResponsePlan] = field(default_factory=lambda: DEFAULT_PLANS)
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    turnout_s: Mapping[str, float] = field(default_factory=lambda: DEFAULT_TURNOUT_S)
    max_fix_age_s: float = 120.0


@dataclass
class _Car:
    index: int
    call_sign: str
    zone: int  # -1: answers anywhere
    home: Snap
    at: Snap
    free: bool = True
    busy_s: float = 0.0


@dataclass(frozen=True)
class IncidentOutcome:
    """What became of one call (seconds since the start of the run)."""

    call_s: float
    category: str
    zone: int
    units_asked: int
    units_sent: int
    queue_wait_s: float
    response_s: float | None  # call → first car on scene
    dispatch_to_arrival_s: float | None
    cross_zone: int  # cars sent from another zone
    verdicts: tuple[bool | None, ...]  # met from the call, per tier (None: does not apply)


@dataclass(frozen=True)
class Run:
    scenario: str
    days: float
    seed: int
    tiers: tuple[Tier, ...]
    incidents: tuple[IncidentOutcome, ...]
    utilisation: tuple[float, ...]  # per car: share of the time busy


#: a zone's patrol line: canonical edges, and their tails' longitudes and latitudes
_Line = tuple[list[int], list[float], list[float]]


@dataclass
class _World:
    env: simpy.Environment
    city: SimCity
    scenario: Scenario
    rng: np.random.Generator
    cars: list[_Car]
    rules: Rules
    freed: simpy.Event
    weight: NDArray[np.float64]
    outcomes: list[IncidentOutcome] = field(default_factory=list)
    patrol_hop_s: float = 900.0
    lines: dict[int, _Line | None] = field(default_factory=dict)
    snaps: dict[tuple[float, float], Snap] = field(default_factory=dict)

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.env.now)

    def car_freed(self) -> None:
        self.freed.succeed()
        self.freed = self.env.event()

    def resnapped(self, spot: Snap) -> Snap:
        """The call's point on the road snapped again, as the recommender would snap it;
        remembered, since calls come back to the same places."""
        key = (spot.lon, spot.lat)
        if key not in self.snaps:
            self.snaps[key] = self.city.travel_times.snap(spot.lon, spot.lat)
        return self.snaps[key]

    def patrol_line(self, zone: int) -> _Line | None:
        """The zone's mandatory line edges (each named by its canonical direction) and the
        position of each one's tail, as plain lists; None for a zone without lines."""
        if zone < 0:
            return None
        if zone not in self.lines:
            edges = self.city.patrol_edges[zone]
            net = self.city.travel_times.network
            twin, tail = net.edge_twin[edges], net.edge_tail[edges]
            canonical = np.where((twin < 0) | (edges < twin), edges, twin)
            self.lines[zone] = (
                (canonical.tolist(), net.node_lon[tail].tolist(), net.node_lat[tail].tolist())
                if len(edges)
                else None
            )
        return self.lines[zone]


def call_weight(city: SimCity, scenario: Scenario) -> NDArray[np.float64]:
    """Where calls arise: the nodes nearest the scenario's past calls (those on the map), with
    a floor of 1 % spread by road length so that no street is ever quiet; else by road."""
    if not scenario.call_sites:
        return city.node_weight
    tt = city.travel_times
    sites = np.array(scenario.call_sites)
    snaps = tt.snap_many(sites[:, 0], sites[:, 1], strict=False)
    on_map = snaps.distance_m <= tt.snapper.max_snap_m
    if not on_map.any():
        raise InvalidInput(f"none of the {len(sites)} past calls lies on the city's roads")
    counts = np.bincount(tt.network.edge_tail[snaps.edge[on_map]], minlength=tt.network.n_nodes)
    floor = 0.01 * counts.sum() * city.node_weight / city.node_weight.sum()
    return np.asarray(counts + floor, dtype=np.float64)


def _random_node_snaps(world: _World, n: int) -> Snaps:
    net = world.city.travel_times.network
    nodes = world.rng.choice(net.n_nodes, size=n, p=world.weight / world.weight.sum())
    return world.city.travel_times.snap_many(net.node_lon[nodes], net.node_lat[nodes])


def _patrol_spot(world: _World, car: _Car) -> Snap:
    """A random point of the car's zone's mandatory lines (its kiosk without lines)."""
    line = world.patrol_line(car.zone)
    if line is None:
        return car.home
    edges, lons, lats = line
    i = int(world.rng.integers(0, len(edges)))  # draws as `rng.choice(edges)` did
    # random() draws what uniform() does, for a third of its cost
    return Snap(edges[i], world.rng.random(), 0.0, lons[i], lats[i])


def _patrol(world: _World, car: _Car) -> None:
    """The car hops to another spot of its zone's lines, `patrol_hop_s` apart on average, when
    it is free. A timeout's callback rather than a SimPy process: a year of 27 cars is about a
    million hops, and the draws come in the same order."""

    def hop(_event: simpy.Event) -> None:
        if car.free:
            car.at = _patrol_spot(world, car)
        wait()

    def wait() -> None:
        world.env.timeout(world.rng.exponential(world.patrol_hop_s)).callbacks.append(hop)

    wait()


def _calls(world: _World, days: float) -> Generator[simpy.Event, Any, None]:
    """A Poisson process with the scenario's hourly profile (by thinning)."""
    profile = np.array(world.scenario.hourly_profile)
    rate_h = world.scenario.calls_per_day * profile / profile.sum()  # calls per hour
    peak_per_s = rate_h.max() / 3600.0
    codes = list(world.scenario.categories)
    shares = np.array([world.scenario.categories[c] for c in codes])
    spots: Iterator[Snap] = iter(())
    while True:
        yield world.env.timeout(world.rng.exponential(1.0 / peak_per_s))
        if world.env.now >= days * 86400:
            return
        hour = int((world.env.now / 3600 + LOCAL_OFFSET_H) % 24)
        if world.rng.random() * rate_h.max() > rate_h[hour]:
            continue
        spot = next(spots, None)
        if spot is None:
            batch = _random_node_snaps(world, 256)
            spots = (batch[i] for i in range(len(batch)))
            spot = next(spots)
        code = codes[int(world.rng.choice(len(codes), p=shares / shares.sum()))]
        world.env.process(_incident(world, spot, code))


def _incident(world: _World, spot: Snap, code: str) -> Generator[simpy.Event, Any, None]:
    env, call_s = world.env, world.env.now
    plan = plan_for(code, plans=world.rules.plans)
    net = world.city.travel_times.network
    node = int(net.edge_tail[spot.edge])
    zone = int(world.city.node_zone[node])
    key_site = bool(world.city.node_key_site[node])
    yield env.timeout(world.scenario.dispatch_delay_s)
    sent: list[tuple[_Car, float]] = []  # each car and when it arrives
    first_dispatch_s: float | None = None
    while len(sent) < plan.units and env.now - call_s < 3600:
        free = [c for c in world.cars if c.free]
        if not free:
            yield world.freed
            continue
        rec = recommend(
            lon=spot.lon,
            lat=spot.lat,
            units=[_view(c, world) for c in free],
            travel_times=world.city.driving_at(world.now()),
            plan=ResponsePlan(units=plan.units - len(sent), distinct_zones=plan.distinct_zones),
            tiers=world.rules.tiers,
            now=world.now(),
            max_fix_age_s=world.rules.max_fix_age_s,
            place_class="key_site" if key_site else None,
            zone=world.city.zone_codes[zone] if zone >= 0 else None,
            since_call_s=env.now - call_s,
            unit_snaps=Snaps.of([c.at for c in free]),
            turnout_s=world.rules.turnout_s,
            incident_snap=world.resnapped(spot),
        )
        if not rec.chosen:  # no free car can reach the place: wait for another
            yield world.freed
            continue
        eta = {c.unit_id: c.eta_s for c in rec.candidates}
        for index in rec.chosen:
            car = world.cars[index]
            car.free = False
            sent.append((car, env.now + float(eta[index] or 0.0)))  # when it will be there
            env.process(_respond(world, car, spot, code, float(eta[index] or 0.0)))
        first_dispatch_s = first_dispatch_s if first_dispatch_s is not None else env.now
        if len(sent) < plan.units:
            yield world.freed  # the rest of the force when a car comes free
    world.outcomes.append(
        _outcome(world, call_s, first_dispatch_s, sent, code, zone, plan.units, key_site=key_site)
    )


def _view(car: _Car, world: _World) -> UnitView:
    zone = world.city.zone_codes[car.zone] if car.zone >= 0 else None
    status = UnitStatus.AT_KIOSK if car.at == car.home and car.zone >= 0 else UnitStatus.AVAILABLE
    return UnitView(car.index, car.call_sign, zone, status, car.at.lon, car.at.lat, world.now())


def _respond(
    world: _World, car: _Car, spot: Snap, code: str, eta_s: float
) -> Generator[simpy.Event, Any, None]:
    started = world.env.now
    yield world.env.timeout(eta_s)
    mean_min = world.scenario.on_scene_min.get(code[:2] + "0000", 30.0)
    yield world.env.timeout(world.rng.exponential(mean_min * 60.0))
    car.busy_s += world.env.now - started
    car.at, car.free = spot, True
    world.car_freed()


def _outcome(
    world: _World,
    call_s: float,
    dispatch_s: float | None,
    sent: Sequence[tuple[_Car, float]],
    code: str,
    zone: int,
    asked: int,
    *,
    key_site: bool,
) -> IncidentOutcome:
    arrivals = sorted(at for _, at in sent)
    verdicts = judge(
        world.rules.tiers,
        call_at=EPOCH + timedelta(seconds=call_s),
        dispatched_at=EPOCH + timedelta(seconds=dispatch_s) if dispatch_s is not None else None,
        arrivals=[EPOCH + timedelta(seconds=a) for a in arrivals],
        required_units=asked,
        place_class="key_site" if key_site else None,
        zone=world.city.zone_codes[zone] if zone >= 0 else None,
        now=EPOCH + timedelta(seconds=max(arrivals or [call_s]) + 1e6),
    )
    by_tier = {v.tier: v.met_from_call for v in verdicts}
    return IncidentOutcome(
        call_s=call_s,
        category=code,
        zone=zone,
        units_asked=asked,
        units_sent=len(sent),
        queue_wait_s=(dispatch_s - call_s - world.scenario.dispatch_delay_s)
        if dispatch_s is not None
        else float("nan"),
        response_s=arrivals[0] - call_s if arrivals else None,
        dispatch_to_arrival_s=arrivals[0] - dispatch_s
        if arrivals and dispatch_s is not None
        else None,
        cross_zone=sum(1 for car, _ in sent if car.zone >= 0 and car.zone != zone),
        verdicts=tuple(by_tier.get(t.name) for t in world.rules.tiers),
    )


def simulate(
    city: SimCity,
    scenario: Scenario,
    *,
    days: float,
    seed: int,
    rules: Rules = Rules(),
) -> Run:
    """One run of `days` days of `scenario` on `city`, reproducible by `seed`.

    Parameters
    ----------
    city : the city's roads, zones, kiosks and patrol lines.
    scenario : the deployment and its demand.
    days : simulated days of calls (the run goes on 6 hours more for the last ones).
    seed : of the random generator; the same seed gives the same run.
    rules : plans, tiers, turnout and fix-age limit to dispatch and judge by; the built-in
        ones by default, the live server's from `sim.service.live_rules`.
    """
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    cars: list[_Car] = []
    staffed = range(scenario.kiosks or len(city.zone_codes))
    for z in staffed:
        for c in range(scenario.cars_per_kiosk):
            cars.append(
                _Car(len(cars), f"JX{z + 1:02d}-{c + 1}", z, city.kiosks[z], city.kiosks[z])
            )
    if scenario.patrol_cars:
        spots = city.travel_times.snap_many(
            np.array([p[0] for p in scenario.patrol_cars]),
            np.array([p[1] for p in scenario.patrol_cars]),
        )
        for i in range(len(spots)):
            cars.append(_Car(len(cars), f"P{i + 1}", -1, spots[i], spots[i]))
    world = _World(env, city, scenario, rng, cars, rules, env.event(), call_weight(city, scenario))
    for car in cars:
        _patrol(world, car)
    env.process(_calls(world, days))
    env.run(until=days * 86400 + 6 * 3600)  # let the last calls finish
    total_s = env.now
    return Run(
        scenario.name,
        days,
        seed,
        rules.tiers,
        tuple(world.outcomes),
        tuple(car.busy_s / total_s for car in cars),
    )
