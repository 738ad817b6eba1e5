"""The map the browser draws and the search of street and place names, on the demo city."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from center import Center
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.models import Kiosk, PatrolLine, PatrolPoint, Zone
from jiaoxun.data import OSM_ATTRIBUTION
from jiaoxun.geo.network import ROAD_CLASSES, RoadNetwork
from jiaoxun.geo.osm import haversine_m
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.units.models import Unit


def _travel_times(center: Center) -> TravelTimes:
    travel_times: TravelTimes = center.client.app.state.jiaoxun.city.travel_times  # type: ignore[attr-defined]
    return travel_times


@pytest.fixture(scope="module")
def city_map(center: Center) -> dict[str, Any]:
    reply = center.call("GET", "/api/city/map")
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "private, max-age=300"
    assert len(reply.content) < 2_000_000
    data: dict[str, Any] = reply.json()
    return data


def _decimals(value: Any) -> int:
    if isinstance(value, list):
        return max((_decimals(v) for v in value), default=0)
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def test_the_map_travels_compressed(center: Center) -> None:
    headers = {**center.as_("dispatcher"), "Accept-Encoding": "gzip"}
    reply = center.client.get("/api/city/map", headers=headers)
    assert reply.headers["content-encoding"] == "gzip"
    assert int(reply.headers["content-length"]) < len(reply.content) / 3


def test_the_map_names_the_city_and_its_extent(center: Center, city_map: dict[str, Any]) -> None:
    network = _travel_times(center).network
    assert city_map["name"].startswith("demo city")
    assert city_map["attribution"] == OSM_ATTRIBUTION
    assert city_map["bounds"] == pytest.approx(list(network.bounds()), abs=1e-6)


def test_every_road_stretch_is_drawn_once_in_its_class(
    center: Center, city_map: dict[str, Any]
) -> None:
    network: RoadNetwork = _travel_times(center).network
    features = city_map["roads"]["features"]
    classes = [f["properties"]["road_class"] for f in features]
    assert len(set(classes)) == len(classes) <= len(ROAD_CLASSES)
    assert [f["properties"]["rank"] for f in features] == list(range(len(features)))
    assert classes == sorted(classes, key=ROAD_CLASSES.index)  # most important first
    lines = [np.array(line) for f in features for line in f["geometry"]["coordinates"]]
    assert all(f["geometry"]["type"] == "MultiLineString" for f in features)
    assert len(lines) == int(network.stretch_mask.sum())
    drawn_km = (
        sum(float(haversine_m(g[:-1, 0], g[:-1, 1], g[1:, 0], g[1:, 1]).sum()) for g in lines)
        / 1000
    )
    assert drawn_km == pytest.approx(network.road_km, rel=1e-4)
    assert _decimals([f["geometry"]["coordinates"] for f in features]) <= 6


def test_the_layout_carries_the_database_ids(center: Center, city_map: dict[str, Any]) -> None:
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for feature in city_map["layout"]["features"]:
        by_layer.setdefault(feature["properties"]["layer"], []).append(feature)
    with Session(center.engine) as session:
        zones = {z.id: z for z in session.scalars(select(Zone))}
        kiosks = {k.id: k for k in session.scalars(select(Kiosk))}
        lines = {p.id: p for p in session.scalars(select(PatrolLine))}
        points = {p.id: p for p in session.scalars(select(PatrolPoint))}
        units = {u.call_sign: u.zone_id for u in session.scalars(select(Unit))}
    assert {f["properties"]["id"]: f["properties"]["code"] for f in by_layer["zone"]} == {
        i: z.code for i, z in zones.items()
    }
    for zone in by_layer["zone"]:
        assert {units[sign] for sign in zone["properties"]["units"]} == {zone["properties"]["id"]}
    for kiosk in by_layer["kiosk"]:
        row = kiosks[kiosk["properties"]["id"]]
        assert kiosk["properties"]["name"] == row.name
        assert kiosk["geometry"]["coordinates"] == pytest.approx([row.lon, row.lat], abs=1e-6)
    assert sorted(f["properties"]["id"] for f in by_layer["patrol_line"]) == sorted(lines)
    for line in by_layer["patrol_line"]:
        assert "edges" not in line["properties"]
        assert line["properties"]["name"] == lines[line["properties"]["id"]].name
    for point in by_layer["patrol_point"]:
        row = points[point["properties"]["id"]]
        assert (point["properties"]["name"], point["properties"]["kind"]) == (
            row.name,
            row.kind.value,
        )
        assert point["properties"]["zone"] == zones[row.zone_id].code
    assert len(by_layer["patrol_point"]) == len(points)
    assert _decimals([f["geometry"]["coordinates"] for f in city_map["layout"]["features"]]) <= 6


def test_the_map_needs_a_token_and_a_role(center: Center) -> None:
    assert center.client.get("/api/city/map").status_code == 401
    assert center.call("GET", "/api/city/map", user="kiosk_clerk").status_code == 403
    assert center.client.get("/api/places", params={"q": "街"}).status_code == 401


def _places(center: Center, q: str, **params: Any) -> list[dict[str, Any]]:
    reply = center.call("GET", "/api/places", params={"q": q, **params})
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()
    return found


def _metres_from_street(network: RoadNetwork, name: str, lon: float, lat: float) -> float:
    """How far a point lies from the nearest edge of the street `name` (local metres)."""
    m_per_deg = 111_195.0
    scale = np.array([m_per_deg * np.cos(np.radians(lat)), m_per_deg])
    edges = np.flatnonzero(network.edge_name == network.names.index(name))
    lines = [shapely.LineString(network.edge_coords(int(e)) * scale) for e in edges]
    return float(shapely.distance(shapely.Point(lon * scale[0], lat * scale[1]), lines).min())


def test_a_street_is_found_at_a_point_on_the_road(center: Center) -> None:
    first = _places(center, "红军街")[0]
    assert (first["name"], first["kind"]) == ("红军街", "street")
    network = _travel_times(center).network
    assert _metres_from_street(network, "红军街", first["lon"], first["lat"]) < 0.5


def test_places_are_found_by_part_of_their_name(center: Center) -> None:
    found = _places(center, "医大", limit=20)
    assert ("哈医大四院", "hospital") in [(p["name"], p["kind"]) for p in found]
    assert all("医大" in p["name"] for p in found)
    exact = _places(center, "中山路")  # a street and two schools named after it
    assert [p["name"] for p in exact][:2] == ["中山路", "中山路小学"]


@pytest.mark.parametrize("q", ["长江路与红旗大街", "长江路 红旗大街", "长江路&红旗大街"])
def test_a_crossing_lies_on_both_streets(center: Center, q: str) -> None:
    network = _travel_times(center).network
    found = _places(center, q, limit=50)
    crossings = [p for p in found if p["kind"] == "intersection"]
    assert crossings
    assert {p["name"] for p in crossings} == {"长江路与红旗大街"}
    for crossing in crossings:
        near = np.hypot(network.node_lon - crossing["lon"], network.node_lat - crossing["lat"])
        node = int(near.argmin())
        assert near[node] < 1e-6
        touching = (network.edge_tail == node) | (network.edge_head == node)
        names = {network.names[n] for n in network.edge_name[touching] if n >= 0}
        assert {"长江路", "红旗大街"} <= names


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "query.q"),
        ({"q": "街" * 51}, "query.q"),
        ({"q": "街", "limit": 0}, "query.limit"),
        ({"q": "街", "limit": 51}, "query.limit"),
        ({}, "query.q"),
    ],
)
def test_the_search_text_and_limit_are_checked(
    center: Center, params: dict[str, Any], field: str
) -> None:
    reply = center.call("GET", "/api/places", params=params)
    assert reply.status_code == 422
    assert reply.json()["problems"][0]["field"] == field


def test_odd_text_finds_nothing_and_breaks_nothing(center: Center) -> None:
    assert _places(center, "\x00\U0001f6a8 ") == []
    assert len(_places(center, "街", limit=50)) == 50
