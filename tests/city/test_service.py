from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.activities.models import Activity, ActivityKind
from jiaoxun.city import service
from jiaoxun.city.generate import CityLayout
from jiaoxun.city.maps import DEMO_MAP
from jiaoxun.city.models import Kiosk, PatrolLine, PatrolPoint, Zone
from jiaoxun.errors import Conflict, InvalidInput
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.units.models import Unit


@pytest.fixture
def saved(session: Session, demo_layout: CityLayout) -> Session:
    service.save_layout(session, name="demo", source=DEMO_MAP, layout=demo_layout)
    return session


def test_saved_layout_counts(saved: Session, demo_travel_times: TravelTimes) -> None:
    info = service.city_info(saved, demo_travel_times)
    assert (info.kiosks, info.zones, info.units, info.patrol_lines, info.patrol_points) == (
        9,
        9,
        27,
        78,
        60,
    )
    net = demo_travel_times.network
    assert (info.road_nodes, info.road_edges) == (net.n_nodes, net.n_edges)
    assert info.road_km == pytest.approx(net.road_km, abs=1e-3)


def test_each_zone_has_its_kiosk_and_three_units(saved: Session, demo_layout: CityLayout) -> None:
    zones = saved.scalars(select(Zone).order_by(Zone.code)).all()
    for zone, site, stats in zip(
        zones, demo_layout.kiosks, demo_layout.districting.zone_stats, strict=True
    ):
        assert zone.kiosk is not None
        assert zone.kiosk.name == site.name
        assert zone.road_length_m == pytest.approx(stats.road_length_m)
        assert zone.polygon["type"] in {"Polygon", "MultiPolygon"}
        units = saved.scalars(select(Unit).where(Unit.zone_id == zone.id)).all()
        assert len(units) == 3


def test_rebuilding_replaces_the_city(saved: Session, demo_layout: CityLayout) -> None:
    service.save_layout(saved, name="again", source=DEMO_MAP, layout=demo_layout)
    assert len(saved.scalars(select(Kiosk)).all()) == 9
    assert len(saved.scalars(select(Unit)).all()) == 27
    assert service.current_city(saved).name == "again"  # type: ignore[union-attr]


def test_geojson_round_trip(saved: Session) -> None:
    exported = service.export_layout(saved)
    layers = [f["properties"]["layer"] for f in exported["features"]]
    assert (layers.count("zone"), layers.count("kiosk")) == (9, 9)
    assert (layers.count("patrol_line"), layers.count("patrol_point")) == (78, 60)
    json.dumps(exported)  # plain JSON all the way down
    service.import_layout(saved, exported, name="imported", source=DEMO_MAP)
    assert service.export_layout(saved) == exported
    assert len(saved.scalars(select(PatrolLine)).all()) == 78
    assert len(saved.scalars(select(PatrolPoint)).all()) == 60


def test_import_names_the_broken_rule_and_keeps_the_city(saved: Session) -> None:
    exported = service.export_layout(saved)
    broken = json.loads(json.dumps(exported))
    point = next(f for f in broken["features"] if f["properties"]["layer"] == "patrol_point")
    point["properties"]["radius_m"] = -5
    with pytest.raises(InvalidInput, match=r"radius_m.*-5"):
        service.import_layout(saved, broken, name="x", source=DEMO_MAP)
    assert service.export_layout(saved) == exported


def test_import_refuses_an_unknown_zone(saved: Session) -> None:
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [126.65, 45.75]},
                "properties": {"layer": "kiosk", "name": "K", "zone": "Z99"},
            }
        ],
    }
    before = service.export_layout(saved)
    with pytest.raises(InvalidInput, match="Z99"):
        service.import_layout(saved, data, name="x", source=DEMO_MAP)
    assert service.export_layout(saved) == before


def test_the_map_export_adds_ids_and_leaves_out_edges(saved: Session) -> None:
    plain = service.export_layout(saved)["features"]
    for_map = service.export_layout(saved, for_map=True)["features"]
    assert [f["geometry"] for f in for_map] == [f["geometry"] for f in plain]
    for file_feature, map_feature in zip(plain, for_map, strict=True):
        props = dict(map_feature["properties"])
        assert isinstance(props.pop("id"), int)
        assert props == {k: v for k, v in file_feature["properties"].items() if k != "edges"}
    lines = [f["properties"]["id"] for f in for_map if f["properties"]["layer"] == "patrol_line"]
    assert lines == list(saved.scalars(select(PatrolLine.id).order_by(PatrolLine.id)))


def test_a_city_with_field_activities_is_not_rebuilt(
    saved: Session, demo_layout: CityLayout
) -> None:
    unit = saved.scalars(select(Unit).order_by(Unit.id)).first()
    assert unit is not None
    saved.add(
        Activity(
            kind=ActivityKind.ASSISTANCE,
            unit_id=unit.id,
            recorded_by="officer",
            at=datetime.now(UTC),
            lon=126.65,
            lat=45.745,
            details={"assistance": "directions", "people_helped": 1, "note": ""},
        )
    )
    saved.flush()
    with pytest.raises(Conflict, match="holds field activities"):
        service.save_layout(saved, name="again", source=DEMO_MAP, layout=demo_layout)
