"""How fast the force answered: the 1-3-5 record per tier (read from the stored verdicts), the
response-time chain per priority with p50 and p90, the bulletin's time buckets, the response-time
distribution of each tier, and the ranking of units and zones.

Officer-initiated incidents (found on patrol) are left out of response times: their "response" is
zero and would flatter the figures (Seattle's 2010-13 reports were pulled down by them).
Imported records carry no orders: their dispatch and arrival come from the incident itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from jiaoxun.analytics.scope import Scope, Window, in_windows
from jiaoxun.analytics.sql import floor_int, percentiles, seconds_between
from jiaoxun.incidents.models import DispatchOrder, Incident, VerdictRow

#: the steps of the chain, in order
STEPS = (
    "call_to_dispatch",
    "dispatch_to_ack",
    "ack_to_departure",
    "travel",
    "on_scene",
    "call_to_arrival",
)
#: the Ankang bulletin's buckets: (measure, upper bounds in seconds, labels)
BUCKETS: dict[str, tuple[tuple[float, ...], tuple[str, ...]]] = {
    "acknowledgement": (
        (30, 60, 120, 180),
        ("0-30 s", "30-60 s", "1-2 min", "2-3 min", "> 3 min"),
    ),
    "departure": (
        (300, 600, 900, 1800),
        ("0-5 min", "5-10 min", "10-15 min", "15-30 min", "> 30 min"),
    ),
    "feedback": (
        (1800, 3600, 7200, 14400),
        ("0-30 min", "30-60 min", "1-2 h", "2-4 h", "> 4 h"),
    ),
}
BIN_S = 30.0  # width of a distribution bin


@dataclass(frozen=True)
class Response:
    tiers: list[dict[str, Any]]
    chain: list[dict[str, Any]]
    buckets: list[dict[str, Any]]
    distributions: list[dict[str, Any]]
    units: list[dict[str, Any]]
    zone_times: dict[int, dict[str, Any]]  # zone id -> median response, met rate


def _native(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _first_orders(when: ColumnElement[bool]) -> Any:
    """Per incident called in the window: its first order's times, the first arrival (GPS
    before report)."""
    o = DispatchOrder
    return (
        select(
            o.incident_id.label("incident_id"),
            func.min(o.issued_at).label("issued"),
            func.min(o.acknowledged_at).label("ack"),
            func.min(o.departed_at).label("departed"),
            func.min(func.coalesce(o.gps_arrived_at, o.arrived_at)).label("arrived"),
            func.max(o.done_at).label("done"),
        )
        .join(Incident, Incident.id == o.incident_id)
        .where(when)
        .group_by(o.incident_id)
        .subquery("first_orders")
    )


def _chain(valid: ColumnElement[bool], scope: Scope, when: ColumnElement[bool]) -> Any:
    """One row per incident counted: priority, zone and the seconds of every step."""
    f = _first_orders(when)
    dispatched = func.coalesce(Incident.dispatched_at, f.c.issued)
    arrived = func.coalesce(f.c.arrived, Incident.arrived_at)
    return (
        select(
            Incident.priority.label("priority"),
            Incident.zone_id.label("zone_id"),
            seconds_between(dispatched, Incident.call_at).label("call_to_dispatch"),
            seconds_between(f.c.ack, f.c.issued).label("dispatch_to_ack"),
            seconds_between(f.c.departed, f.c.ack).label("ack_to_departure"),
            seconds_between(arrived, f.c.departed).label("travel"),
            seconds_between(func.coalesce(Incident.handled_at, f.c.done), arrived).label(
                "on_scene"
            ),
            seconds_between(arrived, Incident.call_at).label("call_to_arrival"),
            seconds_between(f.c.departed, f.c.issued).label("to_departure"),
            seconds_between(Incident.reported_at, dispatched).label("to_feedback"),
        )
        .outerjoin(f, f.c.incident_id == Incident.id)
        .where(when, valid, scope.incidents(), Incident.source != "patrol")
        .cte("chain")
        .prefix_with("MATERIALIZED")  # read by several parts of a query: computed once
    )


def _bucket(x: Any, bounds: tuple[float, ...], labels: tuple[str, ...]) -> Any:
    return case(
        *[(x < b, literal(label)) for b, label in zip(bounds, labels, strict=False)],
        else_=literal(labels[-1]),
    )


def respond(
    session: Session, scope: Scope, windows: list[Window], *, valid: ColumnElement[bool]
) -> Response:
    this = windows[0]
    when = (Incident.call_at >= this.start) & (Incident.call_at < this.end)
    chain = _chain(valid, scope, when)
    # the chain: long form (priority, step, seconds), then percentiles per priority and step
    long: Select[Any] = select(
        union_all(
            *[
                select(chain.c.priority, literal(step).label("step"), chain.c[step].label("s"))
                for step in STEPS
            ]
        ).subquery("steps")
    )
    steps = [
        {"priority": r.priority, "step": r.step, "n": r.n, "p50_s": r.p50, "p90_s": r.p90}
        for r in session.execute(
            percentiles(long, by=["priority", "step"], value="s", native=_native(session))
        )
    ]
    steps.sort(key=lambda s: (s["priority"], STEPS.index(s["step"])))
    return Response(
        tiers=_tiers(session, scope, windows, valid=valid),
        chain=steps,
        buckets=_buckets(session, chain),
        distributions=_distributions(session, scope, when, valid=valid),
        units=_units(session, scope, when, valid=valid),
        zone_times=_zone_times(session, chain, scope, when, valid=valid),
    )


def _buckets(session: Session, chain: Any) -> list[dict[str, Any]]:
    columns = {
        "acknowledgement": chain.c.dispatch_to_ack,
        "departure": chain.c.to_departure,
        "feedback": chain.c.to_feedback,
    }
    parts = []
    for measure, x in columns.items():
        bucket = _bucket(x, *BUCKETS[measure])
        parts.append(
            select(
                literal(measure).label("measure"), bucket.label("bucket"), func.count().label("n")
            )
            .where(x.is_not(None))
            .group_by(bucket)
        )
    found = {(r.measure, r.bucket): r.n for r in session.execute(union_all(*parts))}
    out = []
    for measure, (_, labels) in BUCKETS.items():
        total = sum(found.get((measure, label), 0) for label in labels)
        for label in labels:
            n = found.get((measure, label), 0)
            out.append(
                {
                    "measure": measure,
                    "bucket": label,
                    "count": n,
                    "share": n / total if total else None,
                }
            )
    return out


def _met(column: Any) -> Any:
    return func.sum(case((column.is_(True), 1), else_=0))


def _tiers(
    session: Session, scope: Scope, windows: list[Window], *, valid: ColumnElement[bool]
) -> list[dict[str, Any]]:
    v = VerdictRow
    query = in_windows(
        [w for w in windows if w.tag != "previous"],
        Incident.call_at,
        lambda when: (
            select(
                v.tier.label("tier"),
                func.min(v.bound_min).label("bound_min"),
                func.count(v.met_from_dispatch).label("judged"),
                _met(v.met_from_dispatch).label("met"),
                func.count(v.met_from_call).label("judged_call"),
                _met(v.met_from_call).label("met_call"),
            )
            .join(Incident, Incident.id == v.incident_id)
            .where(when, valid, scope.incidents())
            .group_by(v.tier)
        ),
    )
    rows = {(r.tag, r.tier): r for r in session.execute(query)}
    out = []
    for (tag, tier), r in sorted(rows.items(), key=lambda kv: kv[1].bound_min):
        if tag != "this":
            continue
        before = rows.get(("last_year", tier))
        out.append(
            {
                "tier": tier,
                "bound_min": r.bound_min,
                "judged": r.judged,
                "met": r.met or 0,
                "rate": (r.met or 0) / r.judged if r.judged else None,
                "met_from_call": r.met_call or 0,
                "rate_from_call": (r.met_call or 0) / r.judged_call if r.judged_call else None,
                "last_year_rate": (
                    (before.met or 0) / before.judged if before and before.judged else None
                ),
            }
        )
    return out


def _distributions(
    session: Session, scope: Scope, when: ColumnElement[bool], *, valid: ColumnElement[bool]
) -> list[dict[str, Any]]:
    v = VerdictRow
    which = floor_int(v.from_dispatch_s / BIN_S)
    query = (
        select(
            v.tier,
            func.min(v.bound_min).label("bound_min"),
            which.label("bin"),
            func.count().label("n"),
            _met(v.met_from_dispatch).label("met"),
        )
        .join(Incident, Incident.id == v.incident_id)
        .where(when, valid, scope.incidents(), v.from_dispatch_s.is_not(None))
        .group_by(v.tier, which)
    )
    tiers: dict[str, dict[str, Any]] = {}
    for r in session.execute(query):
        tier = tiers.setdefault(
            r.tier, {"tier": r.tier, "bound_min": r.bound_min, "judged": 0, "met": 0, "bins": {}}
        )
        tier["judged"] += r.n
        tier["met"] += r.met or 0
        tier["bins"][r.bin] = tier["bins"].get(r.bin, 0) + r.n
    out = []
    for tier in sorted(tiers.values(), key=lambda t: t["bound_min"]):
        # up to three times the bound, the rest in the last bin
        top = int(3 * tier["bound_min"] * 60 / BIN_S)
        counts = [0] * (top + 1)
        for b, n in tier["bins"].items():
            counts[min(max(b, 0), top)] += n
        tier["bins"] = [
            {"from_s": i * BIN_S, "to_s": (i + 1) * BIN_S, "count": n} for i, n in enumerate(counts)
        ]
        out.append(tier)
    return out


def _units(
    session: Session, scope: Scope, when: ColumnElement[bool], *, valid: ColumnElement[bool]
) -> list[dict[str, Any]]:
    o, v = DispatchOrder, VerdictRow
    arrival = func.coalesce(o.gps_arrived_at, o.arrived_at)
    orders = (
        select(o.unit_id.label("unit_id"), seconds_between(arrival, o.issued_at).label("s"))
        .join(Incident, Incident.id == o.incident_id)
        .where(when, valid, scope.incidents())
    )
    if scope.unit_id is not None:
        orders = orders.where(o.unit_id == scope.unit_id)
    times = {
        r.unit_id: r
        for r in session.execute(
            percentiles(orders, by=["unit_id"], value="s", ps=(50,), native=_native(session))
        )
    }
    totals = {
        r.unit_id: r.n
        for r in session.execute(
            select(orders.subquery().c.unit_id, func.count().label("n")).group_by("unit_id")
        )
    }
    met = (
        select(
            o.unit_id,
            func.count(v.met_from_dispatch).label("judged"),
            _met(v.met_from_dispatch).label("met"),
        )
        .join(Incident, Incident.id == o.incident_id)
        .join(v, v.incident_id == o.incident_id)
        .where(when, valid, scope.incidents())
        .group_by(o.unit_id)
    )
    rates = {r.unit_id: (r.met or 0) / r.judged if r.judged else None for r in session.execute(met)}
    return [
        {
            "unit_id": unit_id,
            "orders": n,
            "arrived": times[unit_id].n if unit_id in times else 0,
            "median_response_s": times[unit_id].p50 if unit_id in times else None,
            "met_rate": rates.get(unit_id),
        }
        for unit_id, n in totals.items()
    ]


def _zone_times(
    session: Session,
    chain: Any,
    scope: Scope,
    when: ColumnElement[bool],
    *,
    valid: ColumnElement[bool],
) -> dict[int, dict[str, Any]]:
    v = VerdictRow
    medians = percentiles(
        select(chain.c.zone_id, chain.c.call_to_arrival),
        by=["zone_id"],
        value="call_to_arrival",
        ps=(50,),
        native=_native(session),
    )
    out: dict[int, dict[str, Any]] = {
        r.zone_id: {"median_response_s": r.p50, "met_rate": None}
        for r in session.execute(medians)
        if r.zone_id is not None
    }
    met = (
        select(
            Incident.zone_id,
            func.count(v.met_from_dispatch).label("judged"),
            _met(v.met_from_dispatch).label("met"),
        )
        .join(Incident, Incident.id == v.incident_id)
        .where(when, valid, scope.incidents())
        .group_by(Incident.zone_id)
    )
    for r in session.execute(met):
        if r.zone_id is not None and r.judged:
            out.setdefault(r.zone_id, {"median_response_s": None})["met_rate"] = (
                r.met or 0
            ) / r.judged
    return out
