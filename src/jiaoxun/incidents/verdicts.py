"""The 1-3-5 record of an incident: each verdict written once, with a copy of its tier.

Like the minutes of a meeting, a verdict is written when it is decided and read back as written:
when the arrival that decides a tier happens, and, for the tiers still open, when the incident
ends (closed, cancelled, merged, transferred). No later edit of the tiers, no clock and no button
changes it. An incident is judged by the tiers in force when its call was taken, copied onto it at
intake: an edit reaches the incidents taken after it. A verdict not written yet is pending, timed
against the present. An arrival proved by the unit's GPS counts before the officer's report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from jiaoxun.city.models import Zone
from jiaoxun.incidents import reference
from jiaoxun.incidents.lifecycle import FINAL_INCIDENT_STATES, INCIDENT_TIMESTAMP
from jiaoxun.incidents.models import DispatchOrder, Incident, VerdictRow
from jiaoxun.incidents.targets import Applies, Tier, Verdict, judge, tier_copy, tier_from_copy

#: what writes the verdicts an arrival decides (an end writes under the incident's final state)
ARRIVAL = "arrival"
GPS, REPORT = "gps", "report"


def copy_tiers(session: Session) -> list[dict[str, Any]]:
    """The tiers in force now, as the copy an incident keeps."""
    return [tier_copy(t) for t in reference.tiers(session)]


def tiers_of(session: Session, incident: Incident) -> tuple[Tier, ...]:
    """The tiers the incident is judged by: its own copy (today's for one taken before copies)."""
    if incident.tiers is None:
        return tuple(reference.tiers(session))
    return tuple(tier_from_copy(c) for c in incident.tiers)


def arrival_of(order: DispatchOrder) -> tuple[datetime, str] | None:
    """When the order's unit arrived and how it is known: its GPS first, else its report."""
    if order.gps_arrived_at is not None:
        return order.gps_arrived_at, GPS
    if order.arrived_at is not None:
        return order.arrived_at, REPORT
    return None


def _judged(session: Session, incident: Incident, *, now: datetime) -> tuple[Verdict, ...]:
    arrivals = [a for a in map(arrival_of, incident.orders) if a is not None]
    zone = session.get(Zone, incident.zone_id) if incident.zone_id is not None else None
    return judge(
        tiers_of(session, incident),
        call_at=incident.call_at,
        dispatched_at=incident.dispatched_at,
        arrivals=[at for at, _ in arrivals],
        sources=[source for _, source in arrivals],
        required_units=incident.required_units,
        place_class=incident.place_class,
        zone=zone.code if zone else None,
        now=now,
    )


def write(session: Session, incident: Incident, *, on: str, now: datetime) -> list[VerdictRow]:
    """Write the verdicts decided now that are not written yet: on an `ARRIVAL` those an
    arrival decided, on an end (`on` the final state) every one left. Returns the rows added."""
    written = {row.tier for row in incident.verdicts}
    tiers = {t.name: t for t in tiers_of(session, incident)}
    rows = []
    for verdict in _judged(session, incident, now=now):
        if verdict.tier in written or (on == ARRIVAL and verdict.arrival_source is None):
            continue
        tier = tiers[verdict.tier]
        row = VerdictRow(
            tier=tier.name,
            bound_min=tier.bound_min,
            applies_to=tier.applies_to.value,
            place_classes=sorted(tier.place_classes),
            zones=sorted(tier.zones),
            from_dispatch_s=verdict.from_dispatch_s,
            from_call_s=verdict.from_call_s,
            met_from_dispatch=verdict.met_from_dispatch,
            met_from_call=verdict.met_from_call,
            arrival_source=verdict.arrival_source,
            decided_on=on,
            decided_at=now,
        )
        incident.verdicts.append(row)
        rows.append(row)
    session.flush()
    return rows


def _verdict_of(row: VerdictRow) -> Verdict:
    return Verdict(
        tier=row.tier,
        bound_s=row.bound_min * 60.0,
        applies_to=Applies(row.applies_to),
        from_dispatch_s=row.from_dispatch_s,
        from_call_s=row.from_call_s,
        met_from_dispatch=row.met_from_dispatch,
        met_from_call=row.met_from_call,
        arrival_source=row.arrival_source,
    )


def read(session: Session, incident: Incident, *, now: datetime) -> tuple[Verdict, ...]:
    """The incident's verdicts: as written where written, the others pending against `now` (an
    incident that ended before the record was kept: against its end, so that reads agree)."""
    if incident.state in FINAL_INCIDENT_STATES:
        ended_at = getattr(incident, INCIDENT_TIMESTAMP[incident.state])
        now = ended_at or now
    stored = {row.tier: row for row in incident.verdicts}
    live = _judged(session, incident, now=now)
    out = [_verdict_of(stored.pop(v.tier)) if v.tier in stored else v for v in live]
    out.extend(_verdict_of(row) for row in stored.values())  # tiers gone from today's list
    return tuple(out)
