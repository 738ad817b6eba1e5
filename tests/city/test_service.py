from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city import service
from jiaoxun.city.generate import CityLayout
from jiaoxun.city.models import Kiosk, PatrolLine, PatrolPoint, Zone
from jiaoxun.data import DEMO_PBF
from jiaoxun.errors import InvalidInput
from jiaoxun.geo.travel import TravelTimes
from jiaoxun.units.models import Unit


@pytest.fixture
def saved(session: Session, demo_layout: CityLayout) -> Session:
    service.save_layout(session, name="demo", pbf=DEMO_PBF, layout=demo_layout)
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
    service.save_layout(saved, name="again", pbf=DEMO_PBF, layout=demo_layout)
    assert len(saved.scalars(select(Kiosk)).all()) == 9
    assert len(saved.scalars(select(Unit)).all()) == 27
    assert service.current_city(saved).name == "again"  # type: ignore[union-attr]


def test_geojson_round_trip(saved: Session) -> None:
    exported = service.export_layout(saved)
    layers = [f["properties"]["layer"] for f in exported["features"]]
    assert (layers.count("zone"), layers.count("kiosk")) == (9, 9)
    assert (layers.count("patrol_line"), layers.count("patrol_point")) == (78, 60)
    json.dumps(exported)  # plain JSON all the way down
    service.import_layout(saved, exported, name="imported", pbf=DEMO_PBF)
    assert service.export_layout(saved) == exported
    assert len(saved.scalars(select(PatrolLine)).all()) == 78
    assert len(saved.scalars(select(PatrolPoint)).all()) == 60


def test_import_names_the_broken_rule_and_keeps_the_city(saved: Session) -> None:
    exported = service.export_layout(saved)
    broken = json.loads(json.dumps(exported))
    point = next(f for f in broken["features"] if f["properties"]["layer"] == "patrol_point")
    point["properties"]["radius_m"] = -5
    with pytest.raises(InvalidInput, match=r"radius_m.*-5"):
        service.import_layout(saved, broken, name="x", pbf=DEMO_PBF)
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
        service.import_layout(saved, data, name="x", pbf=DEMO_PBF)
    assert service.export_layout(saved) == before
