"""The incidents of a simulated history with their orders and 1-3-5 verdicts, as rows.

Each call drawn is taken, then either dispatched (orders to the units `history_rows` finds,
each going through signed for, en route, arrived, done) and closed after the feedback, or
answered on the phone, or closed as invalid; some further calls about an event already open
are merged into it. The verdicts are those the live workflow writes: judged by
`incidents.targets.judge` against the tiers in force, at the arrival that decides each, the
rest when the incident ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from jiaoxun.analytics import history_draw as draw
from jiaoxun.analytics.history_draw import Days, Floats, Ints
from jiaoxun.analytics.history_rows import (
    PHONE_PRIORITY,
    Calls,
    Deployment,
    Row,
    Rows,
    callers_of,
    plans_of,
    responders_of,
    sources_of,
)
from jiaoxun.analytics.history_scenario import Scenario
from jiaoxun.city.context import CityContext
from jiaoxun.incidents import verdicts
from jiaoxun.incidents.categories import category
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.models import SIMULATED
from jiaoxun.incidents.targets import Tier, judge, tier_from_copy
from jiaoxun.settings import Settings

HANDLED, PHONE, INVALID = "handled", "phone", "invalid"  # outcome codes


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def maybe_utc(seconds: float) -> datetime | None:
    return None if np.isnan(seconds) else utc(seconds)


@dataclass(frozen=True)
class _Context:
    """What every row of one history shares."""

    batch: str
    by: str  # created_by / issued_by
    region_code: str
    tiers_copy: list[dict[str, Any]]
    tiers: tuple[Tier, ...]
    zone_ids: tuple[int, ...]
    zone_codes: tuple[str, ...]


def add_incidents(
    rows: Rows,
    session: Session,
    city: CityContext,
    settings: Settings,
    *,
    scenario: Scenario,
    rng: np.random.Generator,
    days: Days,
    calls: Calls,
    deployment: Deployment,
    now: datetime,
) -> None:
    """Add the incidents of `calls`, their orders and verdicts, and the merged duplicates."""
    tiers_copy = verdicts.copy_tiers(session)
    ctx = _Context(
        batch=rows.batch,
        by=f"{SIMULATED}:{rows.batch}",
        region_code=settings.region_code,
        tiers_copy=tiers_copy,
        tiers=tuple(tier_from_copy(c) for c in tiers_copy),
        zone_ids=tuple(z.id for z in city.zones),
        zone_codes=tuple(z.code for z in city.zones),
    )
    n = len(calls.call_s)
    day = np.clip(np.searchsorted(days.midnight_s, calls.call_s, side="right") - 1, 0, None)
    after = days.after[day]
    plans = plans_of(session, calls.code)
    taken = calls.call_s + draw.lognormal(rng, 35.0, 0.4, n)
    delay = np.where(after, scenario.dispatch_delay_s[1], scenario.dispatch_delay_s[0])
    at_dispatch = taken + draw.lognormal(rng, delay, 0.6, n)
    wanted = np.flatnonzero(~calls.invalid & (plans.priority < PHONE_PRIORITY))
    responders = responders_of(
        rng,
        city,
        settings,
        deployment,
        calls=calls,
        index=wanted,
        after=after,
        required=plans.required,
        distinct=plans.distinct,
        patrol_share=scenario.patrol_share,
    )
    chains = draw.draw_chains(
        rng,
        responders,
        dispatched_s=at_dispatch[wanted],
        acknowledge_median_s=np.where(
            after[wanted], scenario.acknowledge_s[1], scenario.acknowledge_s[0]
        ),
        on_scene_median_s=np.array(
            [scenario.on_scene_median_min(calls.code[i]) * 60.0 for i in wanted]
        ),
        gps_share=np.where(after[wanted], scenario.gps_share[1], scenario.gps_share[0]),
    )
    slot = np.full(n, -1, dtype=np.int64)  # the call's row in `chains`, -1 when not dispatched
    sent = (responders.unit >= 0).any(axis=1)
    slot[wanted[sent]] = np.flatnonzero(sent)
    ends = _ends(rng, calls, taken=taken, slot=slot, chains=chains)
    sources = sources_of(rng, calls.code)
    callers = callers_of(rng, n)
    keep = ends["closed"] < now.timestamp()
    place_of: dict[int, int] = {}
    for i in np.flatnonzero(keep):
        place = len(rows.incidents)
        place_of[int(i)] = place
        s = int(slot[i])
        row = _incident_row(
            ctx,
            calls,
            int(i),
            number=place,
            source=sources[i],
            caller=callers[i],
            city=city,
            priority=int(plans.priority[i]),
            required=int(plans.required[i]),
            distinct=bool(plans.distinct[i]),
            times={k: float(v[i]) for k, v in ends.items()}
            | {"taken": float(taken[i]), "dispatched": float(at_dispatch[i]) if s >= 0 else np.nan},
        )
        rows.incidents.append(row)
        if calls.invalid[i]:
            rows.invalid += 1
        orders = _order_rows(ctx, responders, chains, s) if s >= 0 else []
        rows.orders.extend((place, o) for o in orders)
        rows.verdicts.extend((place, v) for v in _verdict_rows(ctx, row, orders))
    _add_duplicates(
        rows, ctx, rng, scenario, calls, slot=slot, place_of=place_of, ends=ends, now=now
    )


def _ends(
    rng: np.random.Generator, calls: Calls, *, taken: Floats, slot: Ints, chains: draw.Chains
) -> dict[str, Floats]:
    """When each call's units left, arrived (first), were done (last), the feedback came and
    it was closed; a call not dispatched is closed from the phone."""
    n = len(calls.call_s)
    feedback = draw.lognormal(rng, 600.0, 0.5, n)
    closing = draw.lognormal(rng, 300.0, 0.6, n)
    phone = draw.lognormal(rng, np.where(calls.invalid, 60.0, 240.0), 0.5, n)
    sent = slot >= 0
    out = {k: np.full(n, np.nan) for k in ("departed", "arrived", "handled")}
    with np.errstate(all="ignore"):
        out["departed"][sent] = np.nanmin(chains.departed_s[slot[sent]], axis=1)
        out["arrived"][sent] = np.nanmin(chains.arrived_s[slot[sent]], axis=1)
        out["handled"][sent] = np.nanmax(chains.done_s[slot[sent]], axis=1)
    arrived, handled = out["arrived"], out["handled"]
    out["reported"] = arrived + np.minimum(feedback, 0.8 * (handled - arrived))
    out["closed"] = np.where(sent, handled + closing, taken + phone)
    return out


def _incident_row(
    ctx: _Context,
    calls: Calls,
    i: int,
    *,
    number: int,
    source: Any,
    caller: tuple[str, str],
    city: CityContext,
    priority: int,
    required: int,
    distinct: bool,
    times: dict[str, float],
) -> Row:
    call_at = utc(calls.call_s[i])
    lon, lat = float(calls.snaps.lon[i]), float(calls.snaps.lat[i])
    code = calls.code[i]
    sent = not np.isnan(times["dispatched"])
    outcome = INVALID if calls.invalid[i] else HANDLED if sent else PHONE
    return {
        "number": f"{ctx.region_code}{call_at:%Y%m%d}S{number:06d}",
        "source": source,
        "caller_name": caller[0],
        "caller_phone": caller[1],
        "address": calls.road[i],
        "lon": lon,
        "lat": lat,
        "category_code": code,
        "priority": priority,
        "flags": [],
        "description": f"模拟警情：{category(code).name_zh}",
        "state": IncidentState.CLOSED,
        "zone_id": ctx.zone_ids[calls.zone[i]],
        "place_class": city.place_class_at(lon, lat),
        "required_units": required,
        "distinct_zones": distinct,
        "main_incident_id": None,
        "outcome_code": outcome,
        "outcome_text": "",
        "created_by": ctx.by,
        "call_at": call_at,
        "taken_at": utc(times["taken"]),
        "dispatched_at": maybe_utc(times["dispatched"]),
        "departed_at": maybe_utc(times["departed"]),
        "arrived_at": maybe_utc(times["arrived"]),
        "reported_at": maybe_utc(times["reported"]),
        "handled_at": maybe_utc(times["handled"]),
        "closed_at": utc(times["closed"]),
        "cancelled_at": None,
        "merged_at": None,
        "transferred_at": None,
        "tiers": ctx.tiers_copy,
        "origin": SIMULATED,
        "batch": ctx.batch,
        "units_responding": None,
    }


def _order_rows(
    ctx: _Context, responders: draw.Responders, chains: draw.Chains, s: int
) -> list[Row]:
    out = []
    for k in np.flatnonzero(responders.unit[s] >= 0):
        out.append(
            {
                "unit_id": int(responders.unit[s, k]),
                "state": OrderState.DONE,
                "eta_s": float(responders.travel_s[s, k] + responders.turnout_s[s, k]),
                "issued_by": ctx.by,
                "feedback": "",
                "issued_at": utc(chains.issued_s[s, k]),
                "acknowledged_at": utc(chains.acknowledged_s[s, k]),
                "departed_at": utc(chains.departed_s[s, k]),
                "arrived_at": utc(chains.arrived_s[s, k]),
                "gps_arrived_at": maybe_utc(chains.gps_arrived_s[s, k]),
                "done_at": utc(chains.done_s[s, k]),
                "returned_at": None,
                "cancelled_at": None,
            }
        )
    return out


def _verdict_rows(ctx: _Context, incident: Row, orders: list[Row]) -> list[Row]:
    """The verdicts the live workflow writes: at the arrival that decides each (the GPS fix
    before the officer's report, `verdicts.arrival_of`), the rest when the incident ends."""
    arrivals = [
        (o["gps_arrived_at"], verdicts.GPS)
        if o["gps_arrived_at"]
        else (o["arrived_at"], verdicts.REPORT)
        for o in orders
    ]
    ended_on = incident["state"].value
    ended_at = incident["merged_at"] or incident["closed_at"]
    zone = ctx.zone_codes[ctx.zone_ids.index(incident["zone_id"])]
    found = judge(
        ctx.tiers,
        call_at=incident["call_at"],
        dispatched_at=incident["dispatched_at"],
        arrivals=[at for at, _ in arrivals],
        sources=[source for _, source in arrivals],
        required_units=incident["required_units"],
        place_class=incident["place_class"],
        zone=zone,
        now=ended_at,
    )
    tiers = {t.name: t for t in ctx.tiers}
    out = []
    for v in found:
        tier = tiers[v.tier]
        on_arrival = v.arrival_source is not None and v.from_call_s is not None
        out.append(
            {
                "tier": tier.name,
                "bound_min": tier.bound_min,
                "applies_to": tier.applies_to.value,
                "place_classes": sorted(tier.place_classes),
                "zones": sorted(tier.zones),
                "from_dispatch_s": v.from_dispatch_s,
                "from_call_s": v.from_call_s,
                "met_from_dispatch": v.met_from_dispatch,
                "met_from_call": v.met_from_call,
                "arrival_source": v.arrival_source,
                "decided_on": verdicts.ARRIVAL if on_arrival else ended_on,
                "decided_at": (
                    utc(incident["call_at"].timestamp() + v.from_call_s)
                    if on_arrival and v.from_call_s is not None
                    else ended_at
                ),
            }
        )
    return out


def _add_duplicates(
    rows: Rows,
    ctx: _Context,
    rng: np.random.Generator,
    scenario: Scenario,
    calls: Calls,
    *,
    slot: Ints,
    place_of: dict[int, int],
    ends: dict[str, Floats],
    now: datetime,
) -> None:
    """Further calls about dispatched events, a few minutes after the first, merged into it
    before it was closed."""
    mains = np.array([i for i in place_of if slot[i] >= 0], dtype=np.int64)
    chosen = mains[rng.random(len(mains)) < scenario.duplicate_share]
    later = rng.uniform(60.0, 600.0, size=len(chosen))
    taking = draw.lognormal(rng, 35.0, 0.4, len(chosen))
    merging = rng.uniform(60.0, 180.0, size=len(chosen))
    for k, i in enumerate(chosen):
        main = rows.incidents[place_of[int(i)]]
        call_s = calls.call_s[i] + later[k]
        merged_s = call_s + taking[k] + merging[k]
        if merged_s >= min(ends["closed"][i], now.timestamp()):
            continue
        number = len(rows.incidents) + len(rows.duplicates)
        call_at = utc(call_s)
        row = {
            **main,
            "number": f"{ctx.region_code}{call_at:%Y%m%d}S{number:06d}",
            "state": IncidentState.MERGED,
            "outcome_code": "",
            "call_at": call_at,
            "taken_at": utc(call_s + taking[k]),
            "dispatched_at": None,
            "departed_at": None,
            "arrived_at": None,
            "reported_at": None,
            "handled_at": None,
            "closed_at": None,
            "merged_at": utc(merged_s),
        }
        place = len(rows.incidents) + len(rows.duplicates)
        rows.duplicates.append((place_of[int(i)], row))
        rows.verdicts.extend((place, v) for v in _verdict_rows(ctx, row, []))
