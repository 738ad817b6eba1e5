"""The node table: built, cached, and answering exactly as the searches do."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.osm import network_from_pbf
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.table import cached_table, node_table
from jiaoxun.geo.travel import TravelTimes


def points_on_roads(network, n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` random points on the polylines of random edges."""
    rng = np.random.default_rng(seed)
    at = rng.integers(len(network.geom_lon) - 1, size=n)
    share = rng.uniform(size=n)
    lon = network.geom_lon[at] + share * (network.geom_lon[at + 1] - network.geom_lon[at])
    lat = network.geom_lat[at] + share * (network.geom_lat[at + 1] - network.geom_lat[at])
    return lon, lat


def pick(snaps: Snaps, indices) -> Snaps:
    return Snaps.of([snaps[int(i)] for i in indices])


@pytest.fixture(scope="module")
def demo_city() -> TravelTimes:
    return TravelTimes(network_from_pbf(DEMO_PBF))


def test_table_answers_as_the_searches_do_in_the_demo_city(demo_city):
    tabled = TravelTimes(demo_city.network, table=node_table(demo_city))
    points = demo_city.snap_many(*points_on_roads(demo_city.network, 300, seed=7))
    for target in (points[0], points[1], points[2]):
        assert np.allclose(
            tabled.times_to(target, points), demo_city.times_to(target, points), atol=1e-3
        )
        assert np.allclose(
            tabled.times_from(target, points), demo_city.times_from(target, points), atol=1e-3
        )
        assert np.allclose(
            tabled.node_times_from(target), demo_city.node_times_from(target), atol=1e-3
        )
        assert np.allclose(tabled.node_times_to(target), demo_city.node_times_to(target), atol=1e-3)
    fleet = pick(points, range(3, 30))
    t_table, who_table = tabled.nearest_origin(fleet)
    t_search, who_search = demo_city.nearest_origin(fleet)
    assert np.allclose(t_table, t_search, atol=1e-3)
    assert (who_table == who_search).mean() > 0.999  # only exact ties may differ


def test_cached_table_is_written_once_and_memory_mapped(town_times, tmp_path):
    base = tmp_path / "town.cache"
    first = cached_table(town_times, base)
    files = list(tmp_path.glob("town.cache.table-*.npy"))
    assert len(files) == 1
    again = cached_table(town_times, base)
    assert isinstance(again, np.memmap)
    assert np.array_equal(first, again)


def test_cached_table_of_another_network_replaces_the_stale_one(town_times, town, tmp_path):
    base = tmp_path / "town.cache"
    cached_table(town_times, base)
    slower = dataclasses.replace(town, edge_travel_time_s=town.edge_travel_time_s * 2)
    table = cached_table(TravelTimes(slower), base)
    assert len(list(tmp_path.glob("town.cache.table-*.npy"))) == 1
    assert np.allclose(table, node_table(TravelTimes(slower)))


def test_a_table_of_the_wrong_size_is_refused(town_times):
    with pytest.raises(ValueError, match="does not match"):
        town_times.use_table(np.zeros((3, 3), dtype=np.float32))
