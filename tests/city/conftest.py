from __future__ import annotations

import pytest

from jiaoxun.city.generate import CityLayout, layout_city
from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.places import Place, places_from_pbf
from jiaoxun.geo.travel import TravelTimes


@pytest.fixture(scope="session")
def demo_travel_times() -> TravelTimes:
    return TravelTimes(network_from_pbf(DEMO_PBF))


@pytest.fixture(scope="session")
def demo_places() -> list[Place]:
    return places_from_pbf(DEMO_PBF)


@pytest.fixture(scope="session")
def demo_layout(demo_travel_times: TravelTimes, demo_places: list[Place]) -> CityLayout:
    return layout_city(demo_travel_times, demo_places)
