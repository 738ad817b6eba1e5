"""The stored city and the rules in force, made ready for the simulator."""

from __future__ import annotations

import dataclasses

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.generate import draw_zones
from jiaoxun.city.models import PatrolLine, PatrolPoint, Zone
from jiaoxun.city.patrol import KEY_SITE_KINDS
from jiaoxun.city.service import city_pbf, traffic_for, travel_times_for
from jiaoxun.errors import InvalidInput
from jiaoxun.incidents import reference
from jiaoxun.incidents.models import ResponsePlanRow
from jiaoxun.incidents.plans import DEFAULT_PLANS, ResponsePlan
from jiaoxun.settings import Settings
from jiaoxun.sim.city import sim_city_of
from jiaoxun.sim.model import Rules, SimCity


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
