"""Every route × every role against the roles table of the README (issue 11: need to know).

The table below is the specification: who may call each operation of the OpenAPI description.
The test walks the app's own description, so a new route without a row fails here until
someone decides who may call it. A refusal by role is a 403 naming the role; a call allowed by
role may still be refused by scope (an officer's own unit, his zone), which names no role.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from center import Center

ROLES = ("dispatcher", "officer", "kiosk_clerk", "commander", "admin")
ANYONE = frozenset({"anonymous", *ROLES})
LOGGED_IN = frozenset(ROLES)
OPERATIONS = frozenset({"dispatcher", "officer", "commander", "admin"})  # read operations
CENTER = frozenset({"dispatcher", "commander", "admin"})  # take calls, dispatch
COMMAND = frozenset({"commander", "admin"})  # configure, audit, devices, batches
ADMIN = frozenset({"admin"})
COUNTER = frozenset({"kiosk_clerk", "commander", "admin"})  # serve citizens at a kiosk
TRAFFIC = frozenset({"officer", "commander", "admin"})  # handle accidents and violations

TABLE: dict[str, frozenset[str]] = {
    "POST /api/auth/token": ANYONE,
    "POST /api/auth/logout": LOGGED_IN,
    "POST /api/auth/password": LOGGED_IN,
    "GET /api/me": LOGGED_IN,
    "GET /api/me/shifts": LOGGED_IN,
    "GET /api/duty/brigades": OPERATIONS,
    "GET /api/duty/officers": OPERATIONS,
    "PATCH /api/duty/officers/{officer_id}": COMMAND,
    "GET /api/duty/patterns": OPERATIONS,
    "PUT /api/duty/patterns/{code}": COMMAND,
    "GET /api/duty/demands": OPERATIONS,
    "PUT /api/duty/demands": COMMAND,
    "GET /api/duty/absences": COMMAND,
    "POST /api/duty/absences": COMMAND,
    "DELETE /api/duty/absences/{absence_id}": COMMAND,
    "GET /api/duty/rosters": OPERATIONS,
    "POST /api/duty/rosters": COMMAND,
    "GET /api/duty/rosters/{roster_id}": OPERATIONS,
    "POST /api/duty/rosters/{roster_id}/publish": COMMAND,
    "GET /api/duty/crews": OPERATIONS,
    "POST /api/duty/crews/{unit_id}/swap": CENTER,
    "GET /api/duty/attendance": CENTER,
    "GET /api/health": ANYONE,
    "GET /api/osmand": ANYONE,  # a device proves itself with its secret, not a login
    "POST /api/osmand": ANYONE,
    "GET /api/users": COMMAND,
    "POST /api/users": ADMIN,
    "GET /api/users/options": ADMIN,
    "POST /api/users/{user_id}/disable": ADMIN,
    "POST /api/users/{user_id}/enable": ADMIN,
    "POST /api/users/{user_id}/password": ADMIN,
    "POST /api/users/{user_id}/revoke-tokens": ADMIN,
    "POST /api/events/ticket": OPERATIONS,
    "POST /api/incidents": CENTER,
    "GET /api/incidents": OPERATIONS,
    "GET /api/incidents/{incident_id}": OPERATIONS,
    "GET /api/incidents/{incident_id}/recommendations": CENTER,
    "GET /api/incidents/{incident_id}/route": OPERATIONS,
    "POST /api/incidents/{incident_id}/dispatch": CENTER,
    "POST /api/orders/{order_id}/status": OPERATIONS,
    "POST /api/orders/{order_id}/reassign": CENTER,
    "POST /api/incidents/{incident_id}/close": CENTER,
    "POST /api/incidents/{incident_id}/cancel": CENTER,
    "POST /api/incidents/{incident_id}/merge": CENTER,
    "GET /api/categories": OPERATIONS,
    "POST /api/categories": COMMAND,
    "PATCH /api/categories/{code}": COMMAND,
    "GET /api/plans": OPERATIONS,
    "PUT /api/plans": COMMAND,
    "GET /api/tiers": OPERATIONS,
    "PUT /api/tiers": COMMAND,
    "DELETE /api/tiers/{name}": COMMAND,
    "GET /api/units": OPERATIONS,
    "POST /api/units/{unit_id}/status": OPERATIONS,
    "POST /api/me/phone": OPERATIONS,
    "POST /api/me/position": OPERATIONS,
    "POST /api/positions": COMMAND,
    "GET /api/devices": COMMAND,
    "POST /api/devices": COMMAND,
    "POST /api/devices/{device_id}/secret": COMMAND,
    "GET /api/units/{unit_id}/track": OPERATIONS,
    "GET /api/tracking/stats": OPERATIONS,
    "GET /api/patrol/report": OPERATIONS,
    "GET /api/patrol/report.csv": OPERATIONS,
    "GET /api/patrol/report/map": OPERATIONS,
    "POST /api/patrol/points/{point_id}/check-in": OPERATIONS,
    "GET /api/audit": COMMAND,
    "GET /api/analytics/summary": CENTER,
    "GET /api/analytics/heat": CENTER,
    "GET /api/analytics/tables/{table}.{kind}": CENTER,
    "GET /api/analytics/recognitions": CENTER,
    "POST /api/analytics/recognitions": COMMAND,
    "GET /api/analytics/calendar": CENTER,
    "PUT /api/analytics/calendar/{day}": COMMAND,
    "GET /api/city/map": OPERATIONS,
    "GET /api/places": OPERATIONS,
    "POST /api/activities": OPERATIONS,
    "GET /api/activities": OPERATIONS,
    "GET /api/activities/kinds": OPERATIONS,
    "GET /api/eta/accuracy": OPERATIONS,  # figures of the forecast, no one's whereabouts
    # citizens: no login, limited per address; a booking is reached by its code alone
    "POST /api/public/kiosks/nearest": ANYONE,
    "GET /api/public/kiosks": ANYONE,
    "GET /api/public/slots": ANYONE,
    "POST /api/public/holds": ANYONE,
    "POST /api/public/bookings": ANYONE,
    "POST /api/public/bookings/find": ANYONE,
    "POST /api/public/bookings/confirm": ANYONE,
    "POST /api/public/bookings/change": ANYONE,
    "POST /api/public/bookings/cancel": ANYONE,
    "POST /api/public/bookings/qr": ANYONE,
    "POST /api/public/waitlist": ANYONE,
    "POST /api/public/waitlist/leave": ANYONE,
    "POST /api/public/violations/lookup": ANYONE,
    # the counter: a clerk at his own kiosk, the command at any it names
    "POST /api/counter/open": COUNTER,
    "POST /api/counter/close": COUNTER,
    "GET /api/counter/today": COUNTER,
    "POST /api/counter/check-in": COUNTER,
    "POST /api/counter/tickets": COUNTER,
    "POST /api/counter/call-next": COUNTER,
    "POST /api/counter/tickets/{ticket_id}/recall": COUNTER,
    "POST /api/counter/tickets/{ticket_id}/no-show": COUNTER,
    "POST /api/counter/tickets/{ticket_id}/serve": COUNTER,
    "POST /api/counter/tickets/{ticket_id}/transfer": COUNTER,
    "POST /api/counter/tickets/{ticket_id}/done": COUNTER,
    "GET /api/kiosks/status": OPERATIONS,
    "GET /api/public/services": ANYONE,
    "GET /api/public/kiosks/{kiosk_id}/hours": ANYONE,
    "GET /api/services/catalogue": COMMAND,
    "POST /api/services/catalogue": COMMAND,
    "PUT /api/services/catalogue/{code}": COMMAND,
    "GET /api/services/hours": COMMAND,
    "PUT /api/services/hours": COMMAND,
    # traffic accidents: an officer his own unit's
    "GET /api/traffic/eligibility": OPERATIONS,
    "POST /api/traffic/eligibility": OPERATIONS,
    "POST /api/traffic/accidents": TRAFFIC,
    "GET /api/traffic/accidents": OPERATIONS,
    "GET /api/traffic/accidents/{accident_id}": OPERATIONS,
    "PUT /api/traffic/accidents/{accident_id}/parties": TRAFFIC,
    "POST /api/traffic/accidents/{accident_id}/steps": TRAFFIC,
    "POST /api/traffic/accidents/{accident_id}/signatures": TRAFFIC,
    "POST /api/traffic/accidents/{accident_id}/answers": TRAFFIC,
    "POST /api/traffic/accidents/{accident_id}/settle": TRAFFIC,
    "POST /api/traffic/accidents/{accident_id}/hand-over": TRAFFIC,
    # photos (an officer his own unit's; a clerk reads a violation's evidence) and the stretches
    "POST /api/traffic/accidents/{accident_id}/photos": TRAFFIC,
    "POST /api/traffic/violations/{violation_id}/photos": TRAFFIC,
    "GET /api/traffic/photos/{photo_id}": LOGGED_IN,
    "GET /api/traffic/accidents/stretches": OPERATIONS,
    # violations: an officer his own unit's; a clerk looks up, decides and takes payment
    "GET /api/traffic/codes": LOGGED_IN,  # READ_OPERATIONS or SERVE_CITIZENS
    "POST /api/traffic/codes": COMMAND,
    "PUT /api/traffic/codes/{code}": COMMAND,
    "POST /api/traffic/plates/check": TRAFFIC | COUNTER,
    "POST /api/traffic/violations": TRAFFIC,
    "GET /api/traffic/violations": OPERATIONS,
    "POST /api/traffic/violations/lookup": TRAFFIC | COUNTER,
    "POST /api/traffic/violations/{violation_id}/decide": TRAFFIC | COUNTER,
    "POST /api/traffic/violations/{violation_id}/pay": TRAFFIC | COUNTER,
}
# side effects that would spoil the session for the rest of the matrix
HARMLESS_BODY: dict[str, dict[str, Any]] = {
    "POST /api/auth/logout": {},
    "POST /api/auth/password": {"current": "wrong", "new": "x"},
    "POST /api/auth/token": {"username": "nobody-at-all", "password": "wrong password"},
}


def _operations(center: Center) -> list[str]:
    spec = center.client.app.openapi()  # type: ignore[attr-defined]
    return [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops]


def test_every_route_has_a_row_and_every_row_a_route(center: Center) -> None:
    assert sorted(_operations(center)) == sorted(TABLE)


def _call(center: Center, operation: str, role: str) -> Any:
    method, path = operation.split(" ", 1)
    url = re.sub(r"\{[^}]+\}", "999999", path)
    headers = {} if role == "anonymous" else center.as_(role)
    body = HARMLESS_BODY.get(operation, {})
    kwargs: dict[str, Any] = {"json": body} if method in {"POST", "PUT", "PATCH"} else {}
    return center.client.request(method, url, headers=headers, **kwargs)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_each_role_gets_exactly_what_the_table_gives(center: Center, role: str) -> None:
    wrong = []
    for operation, allowed in TABLE.items():
        if operation == "POST /api/auth/logout":
            continue  # would end the role's session; tested in the accounts tests
        reply = _call(center, operation, role)
        json_reply = reply.headers.get("content-type", "").startswith("application/json")
        body = reply.json() if reply.content and json_reply else {}
        message = body.get("message", "") if isinstance(body, dict) else ""
        refused_by_role = (reply.status_code == 401 and "bearer token" in message) or (
            reply.status_code == 403 and "may not" in message
        )
        if reply.status_code >= 500 or refused_by_role == (role in allowed):
            wrong.append(f"{operation}: {reply.status_code} {message[:80]}")
    assert wrong == []
