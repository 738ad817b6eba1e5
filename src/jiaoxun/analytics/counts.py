"""The counted figures: incidents by category level with duplicates and invalid calls apart,
initiative work (violations, assists, stop-checks), recognitions, the kiosks' services done and
the travel they saved, the accidents officers came upon with no call (no incident), and the
watched categories that must stay at zero. Each is counted in every window by one grouped
query."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity, ActivityKind
from jiaoxun.analytics.models import Recognition, RecognitionKind
from jiaoxun.analytics.scope import Scope, Window, in_windows
from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.models import Incident, Source
from jiaoxun.services.models import ServiceRecord
from jiaoxun.traffic.models import Accident

VALID, MERGED, INVALID = "valid", "merged", "invalid"


@dataclass
class Counts:
    """Counts per window tag: by category code and class, by origin, of activities and of
    recognitions by kind."""

    categories: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    origins: Counter[str] = field(default_factory=Counter)
    activities: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    recognitions: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    patrol_found: Counter[str] = field(default_factory=Counter)  # incidents found on patrol
    services: Counter[str] = field(default_factory=Counter)  # the kiosks' services done
    travel_saved_yuan: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: accident records not linked to an incident (an officer came upon them on the street);
    #: one linked to its incident is counted as that incident
    street_accidents: Counter[str] = field(default_factory=Counter)

    def incidents(self, tag: str, *, prefix: str = "", kind: str = VALID) -> int:
        """Incidents of the class `kind` whose category code starts with `prefix`."""
        return sum(
            n
            for (code, cls), n in self.categories[tag].items()
            if cls == kind and code.startswith(prefix)
        )


def incident_class(invalid_outcomes: tuple[str, ...]) -> Any:
    """merged (a duplicate), invalid (cancelled, or closed with an invalid-call outcome), or
    valid: the incidents counted."""
    return case(
        (Incident.state == IncidentState.MERGED, MERGED),
        (
            or_(
                Incident.state == IncidentState.CANCELLED,
                Incident.outcome_code.in_(invalid_outcomes),
            ),
            INVALID,
        ),
        else_=VALID,
    )


def count(
    session: Session,
    scope: Scope,
    windows: list[Window],
    *,
    invalid_outcomes: tuple[str, ...],
) -> Counts:
    counts = Counts()
    cls = incident_class(invalid_outcomes).label("cls")
    incidents = in_windows(
        windows,
        Incident.call_at,
        lambda when: (
            select(
                Incident.category_code.label("code"),
                cls,
                Incident.origin.label("origin"),
                Incident.source.label("source"),
                func.count().label("n"),
            )
            .where(when, scope.incidents())
            .group_by(Incident.category_code, cls, Incident.origin, Incident.source)
        ),
    )
    for row in session.execute(incidents):
        counts.categories[row.tag][(row.code, row.cls)] += row.n
        if row.tag == "this":
            counts.origins[row.origin] += row.n
        if row.source == Source.PATROL and row.cls == VALID:
            counts.patrol_found[row.tag] += row.n
    for tag, kind, n in _by_kind(session, Activity, scope, windows):
        counts.activities[tag][ActivityKind(kind).value] += n
    for tag, kind, n in _by_kind(session, Recognition, scope, windows):
        counts.recognitions[tag][RecognitionKind(kind).value] += n
    services = in_windows(
        windows,
        ServiceRecord.done_at,
        lambda when: select(
            func.count().label("n"),
            func.coalesce(func.sum(ServiceRecord.travel_saved_yuan), 0.0).label("saved"),
        ).where(when, scope.kiosk_records(ServiceRecord.kiosk_id)),
    )
    for row in session.execute(services):
        counts.services[row.tag] += row.n
        counts.travel_saved_yuan[row.tag] += float(row.saved)
    street = in_windows(
        windows,
        Accident.occurred_at,
        lambda when: select(func.count().label("n")).where(
            when,
            Accident.incident_id.is_(None),
            scope.records(Accident.zone_id, Accident.unit_id),
        ),
    )
    for row in session.execute(street):
        counts.street_accidents[row.tag] += row.n
    return counts


def _by_kind(
    session: Session, model: type[Activity] | type[Recognition], scope: Scope, windows: list[Window]
) -> list[tuple[str, str, int]]:
    """(window tag, kind, count) of the rows of `model` (they carry kind, at, zone and unit)."""
    query = in_windows(
        windows,
        model.at,
        lambda when: (
            select(model.kind.label("kind"), func.count().label("n"))
            .where(when, scope.records(model.zone_id, model.unit_id))
            .group_by(model.kind)
        ),
    )
    return [(row.tag, row.kind, row.n) for row in session.execute(query)]
