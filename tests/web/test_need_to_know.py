"""Need to know (issue 11, finding 8): every officer read every incident with the caller's
name and phone, every unit's track and every device id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from center import Center


def _kiosks(center: Center) -> dict[str, list[float]]:
    layout = center.call("GET", "/api/city/map").json()["layout"]["features"]
    return {
        f["properties"]["zone"]: f["geometry"]["coordinates"]
        for f in layout
        if f["properties"]["layer"] == "kiosk"
    }


@pytest.fixture(scope="module")
def calls(center: Center) -> Iterator[dict[str, Any]]:
    """One call in the officer's zone, one in another zone, each with a named caller."""
    me = center.call("GET", "/api/me", user="officer").json()
    kiosks = _kiosks(center)
    home_zone = me["unit"]["zone"]
    other_zone = next(z for z in kiosks if z != home_zone)
    made = {}
    for name, zone in (("home", home_zone), ("away", other_zone)):
        lon, lat = kiosks[zone]
        body = {
            "lon": lon,
            "lat": lat,
            "category_code": "020100",
            "caller_name": "李女士",
            "caller_phone": "13900000000",
        }
        reply = center.call("POST", "/api/incidents", json=body)
        assert reply.status_code == 201, reply.text
        made[name] = reply.json()
    yield {"me": me, **made}
    for incident in (made["home"], made["away"]):
        center.call("POST", f"/api/incidents/{incident['id']}/cancel", json={"reason": "test"})


def test_an_officer_lists_only_his_zones_incidents(center: Center, calls: dict[str, Any]) -> None:
    listed = {i["id"] for i in center.call("GET", "/api/incidents", user="officer").json()}
    assert calls["home"]["id"] in listed
    assert calls["away"]["id"] not in listed
    everything = {i["id"] for i in center.call("GET", "/api/incidents").json()}
    assert {calls["home"]["id"], calls["away"]["id"]} <= everything  # the dispatcher's view


def test_another_zones_incident_is_refused(center: Center, calls: dict[str, Any]) -> None:
    away = center.call("GET", f"/api/incidents/{calls['away']['id']}", user="officer")
    assert away.status_code == 403
    assert "may read only his zone's incidents" in away.json()["message"]


def test_the_caller_is_shown_only_to_the_units_sent(center: Center, calls: dict[str, Any]) -> None:
    home = calls["home"]["id"]
    seen = center.call("GET", f"/api/incidents/{home}", user="officer").json()
    assert (seen["caller_name"], seen["caller_phone"]) == ("", "")
    mine = calls["me"]["unit"]["id"]
    sent = center.call("POST", f"/api/incidents/{home}/dispatch", json={"unit_ids": [mine]})
    assert sent.status_code == 201, sent.text
    seen = center.call("GET", f"/api/incidents/{home}", user="officer").json()
    assert (seen["caller_name"], seen["caller_phone"]) == ("李女士", "13900000000")


def test_an_officer_reads_only_his_own_units_track_and_records(
    center: Center, calls: dict[str, Any]
) -> None:
    mine = calls["me"]["unit"]["id"]
    other = next(u["id"] for u in center.call("GET", "/api/units").json() if u["id"] != mine)
    assert center.call("GET", f"/api/units/{mine}/track", user="officer").status_code == 200
    assert center.call("GET", f"/api/units/{other}/track", user="officer").status_code == 403
    records = center.call("GET", "/api/activities", user="officer", params={"unit_id": other})
    assert records.status_code == 403
    assert center.call("GET", "/api/activities", user="officer").status_code == 200


def test_ranking_every_unit_is_the_centers_work(center: Center, calls: dict[str, Any]) -> None:
    path = f"/api/incidents/{calls['home']['id']}/recommendations"
    assert center.call("GET", path, user="officer").status_code == 403
    assert center.call("GET", path, user="dispatcher").status_code == 200
