"""The statistics API through the real app, on records made by hand where every figure can be
worked out: counts with duplicates and invalid calls apart, 同比 on dates and aligned on the
Spring Festival, 环比, the chain's medians, the 1-3-5 record, scopes, exports, roles, bad input.

A command center of its own per backend: the records written here would show in the shared
center's lists. January 2025 is the period; the Spring Festival holiday began on 28 January 2025
and on 10 February 2024, so the aligned 同比 period is 14 January – 13 February 2024.
"""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from center import Center
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import running_center
from jiaoxun.activities.models import Activity, ActivityKind
from jiaoxun.audit.models import AuditEntry
from jiaoxun.city.models import Kiosk, Zone
from jiaoxun.incidents.lifecycle import IncidentState, OrderState
from jiaoxun.incidents.models import DispatchOrder, Incident, Source, VerdictRow
from jiaoxun.services.models import ServiceItem, ServiceKind, ServiceRecord
from jiaoxun.traffic.models import Accident, AccidentState, Collision, Procedure, Weather
from jiaoxun.units.models import Unit

CST = timedelta(hours=8)
_numbers = itertools.count(1)


def local(text: str) -> datetime:
    """A Beijing-time moment as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - CST


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stats(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("stats"), cache_dir, request.param
    ) as center:
        with Session(center.engine) as session, session.begin():
            write_records(session)
        yield center


def incident(
    session: Session,
    code: str,
    at: str,
    *,
    zone: Zone,
    state: IncidentState = IncidentState.CLOSED,
    source: Source = Source.POLICE_110,
    outcome: str = "handled",
    priority: int = 2,
) -> Incident:
    row = Incident(
        number=f"T{next(_numbers):06d}",
        source=source,
        lon=126.64,
        lat=45.75,
        category_code=code,
        priority=priority,
        flags=[],
        state=state,
        zone_id=zone.id,
        outcome_code=outcome,
        created_by="test",
        call_at=local(at),
    )
    session.add(row)
    session.flush()
    return row


#: the chain of the dispatched incidents of January 2025 (seconds after the call): dispatch,
#: acknowledgement, departure, arrival, handled
CHAINS = [
    (40, 55, 90, 300, 2100),
    (60, 70, 100, 400, 3000),
    (30, 200, 260, 500, 2400),
    (90, 100, 700, 1000, 9000),
]


def write_records(session: Session) -> None:
    zones = session.scalars(select(Zone).order_by(Zone.code)).all()
    home, other = zones[0], zones[1]
    unit = session.scalars(select(Unit).where(Unit.zone_id == home.id)).first()
    assert unit is not None
    # January 2025: 3 burglaries, 2 disputes, 4 accidents, 1 call for help, 1 suspicious person
    # found on patrol; a duplicate, a prank and a cancelled call not counted
    dispatched = []
    for code, n in (("010501", 3), ("020200", 2), ("030103", 4), ("050100", 1)):
        for i in range(n):
            dispatched.append(incident(session, code, f"2025-01-{10 + i:02d} 09:00", zone=home))
    incident(session, "020800", "2025-01-20 10:00", zone=other, source=Source.PATROL)
    incident(session, "010501", "2025-01-11 09:05", zone=home, state=IncidentState.MERGED)
    incident(session, "020200", "2025-01-12 01:00", zone=home, outcome="prank")
    incident(session, "020200", "2025-01-12 02:00", zone=home, state=IncidentState.CANCELLED)
    # the chain and the 1-3-5 record of four of them (one verdict met, one missed per tier)
    for row, (d, a, dep, arr, h) in zip(dispatched, CHAINS, strict=False):
        call = row.call_at
        row.dispatched_at = call + timedelta(seconds=d)
        row.arrived_at = call + timedelta(seconds=arr)
        row.handled_at = call + timedelta(seconds=h)
        row.reported_at = call + timedelta(seconds=h)
        session.add(
            DispatchOrder(
                incident_id=row.id,
                unit_id=unit.id,
                state=OrderState.DONE,
                issued_by="test",
                issued_at=call + timedelta(seconds=d),
                acknowledged_at=call + timedelta(seconds=a),
                departed_at=call + timedelta(seconds=dep),
                gps_arrived_at=call + timedelta(seconds=arr),
                done_at=call + timedelta(seconds=h),
            )
        )
        session.add(
            VerdictRow(
                incident_id=row.id,
                tier="3min",
                bound_min=3.0,
                applies_to="first",
                from_dispatch_s=arr - d,
                from_call_s=arr,
                met_from_dispatch=arr - d <= 180,
                met_from_call=arr <= 180,
                arrival_source="gps",
                decided_on="arrival",
                decided_at=call + timedelta(seconds=arr),
            )
        )
    # January 2024 on dates: 7 criminal, 4 public order, 1 robbery; one of the criminal ones
    # on 5 January, before the aligned period
    for code, n in (("010501", 6), ("020200", 4), ("010200", 1)):
        for i in range(n):
            incident(session, code, f"2024-01-{20 + i:02d} 12:00", zone=home)
    incident(session, "010501", "2024-01-05 12:00", zone=home)
    # the 31 days before: two incidents
    incident(session, "020200", "2024-12-05 12:00", zone=home)
    incident(session, "020200", "2024-12-31 23:30", zone=home)
    # services done at the home zone's kiosk: 3 this January (26.9 yuan of travel each, one of
    # them at the other zone's kiosk), 1 a year ago
    kiosks = {k.zone_id: k for k in session.scalars(select(Kiosk))}
    item = ServiceItem(
        code="T-STATS", kind=ServiceKind.TRAFFIC, name_zh="换证", name_en="Renewal", minutes=20
    )
    session.add(item)
    session.flush()
    for when, zone in (
        ("2025-01-08 18:30", home),
        ("2025-01-09 10:00", home),
        ("2025-01-09 11:00", other),
        ("2024-01-09 11:00", home),
    ):
        session.add(
            ServiceRecord(
                kiosk_id=kiosks[zone.id].id,
                service_id=item.id,
                booked=False,
                clerk="test",
                done_at=local(when),
                waited_s=60.0,
                served_s=300.0,
                fee_yuan=10.0,
                travel_saved_yuan=26.9,
            )
        )
    # initiative work of the unit: 5 violations, 2 assists, 3 stop-checks; 1 violation a year ago
    for kind, n, day in (
        (ActivityKind.VIOLATION, 5, "2025-01-15"),
        (ActivityKind.ASSISTANCE, 2, "2025-01-16"),
        (ActivityKind.STOP_CHECK, 3, "2025-01-17"),
        (ActivityKind.VIOLATION, 1, "2024-01-25"),
    ):
        for i in range(n):
            session.add(
                Activity(
                    kind=kind,
                    unit_id=unit.id,
                    zone_id=home.id,
                    recorded_by="test",
                    at=local(f"{day} {10 + i}:00"),
                    lon=126.64,
                    lat=45.75,
                    details={},
                )
            )


def summary(center: Center, user: str = "commander", **params: Any) -> dict[str, Any]:
    reply = center.call(
        "GET",
        "/api/analytics/summary",
        user=user,
        params={"period": "month", "date": "2025-01-15", **params},
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def figure(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in body["figures"] if f["key"] == key)


def test_counts_beside_last_year_and_the_previous_period(stats: Center) -> None:
    body = summary(stats, align="dates")
    assert (body["period"]["start"], body["period"]["end"]) == ("2025-01-01", "2025-01-31")
    assert (body["last_year"]["start"], body["last_year"]["end"]) == ("2024-01-01", "2024-01-31")
    assert (body["previous"]["start"], body["previous"]["end"]) == ("2024-12-01", "2024-12-31")
    incidents = figure(body, "incidents")
    assert (incidents["value"], incidents["last_year"], incidents["previous"]) == (11, 12, 2)
    assert incidents["yoy_pct"] == pytest.approx((11 - 12) / 12 * 100)
    assert incidents["pop_pct"] == pytest.approx(450.0)
    assert not incidents["yoy_test"]["significant"]  # 11 against 12 is chance
    assert incidents["pop_test"]["significant"]  # 11 against 2 is not
    assert "p=" in incidents["yoy_test"]["text_en"]
    cpo = figure(body, "criminal_public_order")
    assert (cpo["value"], cpo["last_year"]) == (6, 12)
    assert figure(body, "accidents")["value"] == 4
    assert (figure(body, "merged")["value"], figure(body, "invalid")["value"]) == (1, 2)
    assert figure(body, "found_on_patrol")["value"] == 1
    assert figure(body, "assists")["value"] == 1 + 2  # the call for help and two assists
    violations = figure(body, "violations")
    assert (violations["value"], violations["last_year"]) == (5, 1)
    assert figure(body, "stop_checks")["value"] == 3
    services = figure(body, "services")
    assert (services["value"], services["last_year"]) == (3, 1)
    saved = figure(body, "money_saved")
    assert (saved["value"], saved["unit"], saved["yoy_test"]) == (80.7, "yuan", None)
    # every top-level category, with zero cases too
    tops = {c["code"]: c for c in body["categories"]}
    assert tops["010000"]["value"] == 3
    assert tops["020000"]["value"] == 3
    assert tops["040000"]["value"] == 0
    # robbery had one case last year and none now; snatching none either year
    zero = {c["code"]: c for c in body["zero_categories"]}
    assert zero["010200"]["last_year"] == 1
    assert "010300" in zero
    assert body["origins"] == {"live": 14}


def test_the_same_period_last_year_is_aligned_on_the_spring_festival(stats: Center) -> None:
    body = summary(stats)
    assert body["last_year"]["aligned_on"] == "Spring Festival"
    assert (body["last_year"]["start"], body["last_year"]["end"]) == ("2024-01-14", "2024-02-13")
    assert figure(body, "incidents")["last_year"] == 11  # 5 January is outside


def test_response_chain_and_the_1_3_5_record(stats: Center) -> None:
    body = summary(stats)
    chain = {c["step"]: c for c in body["chain"] if c["priority"] == 2}
    expected = {
        "call_to_dispatch": [d for d, *_ in CHAINS],
        "dispatch_to_ack": [a - d for d, a, *_ in CHAINS],
        "ack_to_departure": [dep - a for _, a, dep, *_ in CHAINS],
        "travel": [arr - dep for *_, dep, arr, _ in CHAINS],
        "on_scene": [h - arr for *_, arr, h in CHAINS],
        "call_to_arrival": [arr for *_, arr, _ in CHAINS],
    }
    for step, values in expected.items():
        assert chain[step]["n"] == len(values), step
        assert chain[step]["p50_s"] == pytest.approx(statistics.median(values), abs=1e-3), step
        p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
        assert chain[step]["p90_s"] == pytest.approx(p90, abs=1e-3), step
    buckets = {(b["measure"], b["bucket"]): b["count"] for b in body["buckets"]}
    assert buckets[("acknowledgement", "0-30 s")] == 3  # 15, 10, 10 s
    assert buckets[("acknowledgement", "2-3 min")] == 1  # 170 s
    assert buckets[("departure", "10-15 min")] == 1  # 610 s
    (tier,) = body["tiers"]
    assert (tier["tier"], tier["judged"], tier["met"]) == ("3min", 4, 0)
    (dist,) = body["distributions"]
    assert sum(b["count"] for b in dist["bins"]) == 4
    assert dist["bound_min"] == 3.0
    (unit,) = body["units"]
    assert (unit["orders"], unit["arrived"], unit["activities"]) == (4, 4, 10)
    assert unit["median_response_s"] == pytest.approx(statistics.median([260, 340, 470, 910]))


def test_scopes(stats: Center) -> None:
    with Session(stats.engine) as session:
        codes = session.scalars(select(Zone.code).order_by(Zone.code)).all()
    other = summary(stats, scope=f"zone:{codes[1]}")
    assert figure(other, "incidents")["value"] == 1  # the one found on patrol
    assert figure(other, "violations")["value"] == 0
    assert figure(other, "services")["value"] == 1  # at its kiosk
    home = summary(stats, scope=f"zone:{codes[0]}")
    assert figure(home, "incidents")["value"] == 10
    assert figure(home, "services")["value"] == 2
    unit = home["units"][0]["unit"]
    mine = summary(stats, scope=f"unit:{unit}")
    assert figure(mine, "incidents")["value"] == 4  # those it was sent to
    assert figure(mine, "violations")["value"] == 5
    assert figure(mine, "services")["value"] == 0  # a car serves at no counter
    assert mine["scope"] == {"kind": "unit", "code": unit, "name": unit}


def test_exports_match_the_summary(stats: Center) -> None:
    body = summary(stats)
    reply = stats.call(
        "GET", "/api/analytics/tables/figures.csv", params={"period": "month", "date": "2025-01-15"}
    )
    assert reply.status_code == 200, reply.text
    assert "attachment" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert {r["key"]: float(r["value"]) for r in rows} == {
        f["key"]: f["value"] for f in body["figures"]
    }
    reply = stats.call(
        "GET", "/api/analytics/tables/chain.xlsx", params={"period": "month", "date": "2025-01-15"}
    )
    assert reply.status_code == 200, reply.text
    sheet = openpyxl.load_workbook(io.BytesIO(reply.content)).active
    assert sheet is not None
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("priority", "step", "n")
    assert len(lines) == len(body["chain"])


def test_heat_map_counts_the_incidents_on_roads(stats: Center) -> None:
    reply = stats.call(
        "GET", "/api/analytics/heat", params={"period": "month", "date": "2025-01-15"}
    )
    assert reply.status_code == 200, reply.text
    heat = reply.json()
    assert sum(f["properties"]["count"] for f in heat["features"]) == 11
    assert heat["features"][0]["geometry"]["type"] == "LineString"


def test_need_to_know(stats: Center) -> None:
    for user in ("officer", "kiosk_clerk"):
        reply = stats.call("GET", "/api/analytics/summary", user=user)
        assert reply.status_code == 403, reply.text
    assert stats.call("GET", "/api/analytics/summary", user="dispatcher").status_code == 200
    assert stats.client.get("/api/analytics/summary").status_code == 401
    body = {"kind": "banner", "at": "2025-01-20T10:00:00+08:00", "giver": "张女士"}
    reply = stats.call("POST", "/api/analytics/recognitions", user="dispatcher", json=body)
    assert reply.status_code == 403, reply.text


def test_recognitions_are_counted_and_audited(stats: Center) -> None:
    unit = summary(stats)["units"][0]["unit"]
    for kind in ("banner", "letter", "good_deed"):
        body = {"kind": kind, "at": "2025-01-20T10:00:00+08:00", "unit": unit, "giver": "张女士"}
        reply = stats.call("POST", "/api/analytics/recognitions", user="commander", json=body)
        assert reply.status_code == 201, reply.text
        assert reply.json()["zone"] is not None  # the unit's zone
    body = summary(stats, scope=f"unit:{unit}")
    assert (figure(body, "thanks")["value"], figure(body, "good_deeds")["value"]) == (2, 1)
    with Session(stats.engine) as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recognition_recorded")
        ).all()
    assert len(audited) == 3
    reply = stats.call(
        "POST",
        "/api/analytics/recognitions",
        user="commander",
        json={"kind": "banner", "at": "2025-01-20T10:00:00+08:00", "unit": "NOPE"},
    )
    assert reply.status_code == 404
    assert "NOPE" in reply.json()["message"]


def test_a_year_the_calendar_does_not_know(stats: Center) -> None:
    body = summary(stats, date="2031-02-10")
    assert body["last_year"]["aligned_on"] is None
    assert "does not know" in body["last_year"]["note"]
    for day in ("2031-01-22", "2031-01-23"):
        reply = stats.call(
            "PUT",
            f"/api/analytics/calendar/{day}",
            user="commander",
            json={"workday": False, "holiday": "Spring Festival"},
        )
        assert reply.status_code == 200, reply.text
    for day in ("2030-02-02", "2030-02-03"):
        stats.call(
            "PUT",
            f"/api/analytics/calendar/{day}",
            user="commander",
            json={"workday": False, "holiday": "Spring Festival"},
        )
    body = summary(stats, date="2031-01-10")
    assert body["last_year"]["aligned_on"] == "Spring Festival"
    listed = stats.call("GET", "/api/analytics/calendar").json()
    assert [d["day"] for d in listed][:2] == ["2030-02-02", "2030-02-03"]


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"period": "fortnight"}, 422, "period"),
        ({"period": "custom", "start": "2025-01-01"}, 422, "both start and end"),
        ({"period": "custom", "start": "2025-02-01", "end": "2025-01-01"}, 422, "before"),
        ({"scope": "zone:NOPE"}, 404, "NOPE"),
        ({"scope": "district:1"}, 422, "scope"),
        ({"date": "2025-02-30"}, 422, "date"),
        # the fuzzer's: a year before the first had no year 0, the second overflowed in UTC
        ({"date": "0001-01-01"}, 422, "date 0001-01-01 must lie between 1900-01-01"),
        ({"date": "0002-01-01"}, 422, "date 0002-01-01 must lie between"),
        ({"period": "custom", "start": "1899-12-31", "end": "2025-01-01"}, 422, "start"),
        ({"date": "9999-12-31"}, 422, "and 9990-12-31"),
    ],
)
def test_bad_questions_name_the_rule(
    stats: Center, params: dict[str, str], status: int, words: str
) -> None:
    reply = stats.call("GET", "/api/analytics/summary", params=params)
    assert reply.status_code == status, reply.text
    assert words in reply.text


def test_accidents_are_the_accident_calls_and_the_accidents_found_on_the_street(
    stats: Center,
) -> None:
    """June 2025: two accident calls (one with its accident record, which is not counted
    again), two accidents officers came upon with no call, one in each zone; a year before,
    one found on the street. A traffic violation call is no accident."""
    with Session(stats.engine) as session, session.begin():
        zones = session.scalars(select(Zone).order_by(Zone.code)).all()
        home, other = zones[0], zones[1]
        unit = session.scalars(select(Unit).where(Unit.zone_id == home.id)).first()
        theirs = session.scalars(select(Unit).where(Unit.zone_id == other.id)).first()
        assert unit is not None
        assert theirs is not None
        called = incident(session, "030101", "2025-06-03 08:00", zone=home)
        incident(session, "030103", "2025-06-04 08:00", zone=home)
        incident(session, "030202", "2025-06-05 08:00", zone=home)
        for at, zone, by, linked in (
            ("2025-06-03 08:05", home, unit, called.id),
            ("2025-06-10 17:00", home, unit, None),
            ("2025-06-11 17:00", other, theirs, None),
            ("2024-06-12 17:00", home, unit, None),
        ):
            session.add(street_accident(local(at), zone=zone, unit=by, incident_id=linked))
        codes, call_sign = (home.code, other.code), unit.call_sign
    body = summary(stats, date="2025-06-15", align="dates")
    accidents = figure(body, "accidents")
    assert (accidents["value"], accidents["last_year"], accidents["previous"]) == (4, 1, 0)
    assert accidents["yoy_pct"] == pytest.approx(300.0)
    assert (
        figure(summary(stats, date="2025-06-15", scope=f"zone:{codes[0]}"), "accidents")["value"]
        == 2 + 1
    )
    assert (
        figure(summary(stats, date="2025-06-15", scope=f"zone:{codes[1]}"), "accidents")["value"]
        == 1
    )
    # the unit was sent to neither call: its own record only
    mine = summary(stats, date="2025-06-15", scope=f"unit:{call_sign}")
    assert figure(mine, "accidents")["value"] == 1
    assert figure(summary(stats), "accidents")["value"] == 4  # January as it was


def street_accident(at: datetime, *, zone: Zone, unit: Unit, incident_id: int | None) -> Accident:
    return Accident(
        number=f"SG{next(_numbers):06d}",
        incident_id=incident_id,
        unit_id=unit.id,
        zone_id=zone.id,
        recorded_by="test",
        occurred_at=at,
        recorded_at=at,
        lon=126.64,
        lat=45.75,
        weather=Weather.CLEAR,
        collision=Collision.SCRAPE,
        answers={},
        procedure=Procedure.SELF_SETTLEMENT,
        reasons=[],
        state=AccidentState.SETTLED,
    )
