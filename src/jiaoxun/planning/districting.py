"""Districting: the city cut into zones around its kiosks.

A zone is to a kiosk what a catchment area is to a fire station: every road node belongs to the
kiosk whose car reaches it soonest by road, so a zone is a network Voronoi cell, not a circle.
Kiosks in busy streets would then carry far more calls than the others; balancing gives each
kiosk a handicap, seconds added to its start as if its car left late, and raises the handicap of
overloaded kiosks until every zone carries about the same expected workload. Handicaps only draw
the boundaries: travel times reported for a zone are the true times from its own kiosk.

For display, each zone also gets a polygon: the Voronoi cells of its road points (nodes and the
vertices of road polylines), dissolved by zone and clipped to the outline of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from jiaoxun.geo.network import Floats, Ints, RoadNetwork
from jiaoxun.geo.snap import Snaps
from jiaoxun.geo.travel import TravelTimes

#: How far the outline of the zone polygons reaches beyond the outermost road points, metres.
HULL_BUFFER_M = 200.0
# concave hull of the road points: 0 is the tightest outline, 1 the convex hull
_HULL_RATIO = 0.2
# first handicap step, as a share of the mean travel time of the unbalanced districts
_FIRST_GAIN = 0.5


@dataclass(frozen=True)
class ZoneStats:
    """Figures of one zone; lengths in metres, areas in square metres, times in seconds.

    `workload` is the sum of the node weights of the zone (its node count without weights).
    Travel times are from the zone's own kiosk to the zone's nodes, without handicap; the mean
    is over nodes, unweighted. A zone without nodes has zero length, area, times and workload.
    """

    zone: int
    road_length_m: float
    area_m2: float
    max_travel_time_s: float
    mean_travel_time_s: float
    workload: float


@dataclass(frozen=True, eq=False)
class Districting:
    """Zones of kiosks on a road network; zone `z` is the zone of kiosk `z`.

    Attributes
    ----------
    node_zone : zone of each node, or -1 for a node no kiosk can reach.
    node_travel_time_s : seconds from each node's own kiosk (inf for -1), without handicap.
    handicap_s : seconds added to each kiosk's start to balance workloads (zeros unbalanced).
    zone_stats : one `ZoneStats` per zone.
    polygons : one shapely (Multi)Polygon per zone in WGS-84 longitude/latitude; empty for a
        zone without nodes.
    iterations : shortest-path searches run (1 without balancing).
    balanced : balancing was asked for and every zone's workload ended within the tolerance.
    """

    node_zone: Ints
    node_travel_time_s: Floats
    handicap_s: Floats
    zone_stats: tuple[ZoneStats, ...]
    polygons: tuple[shapely.Geometry, ...]
    iterations: int
    balanced: bool


def districts_from_kiosks(
    travel_times: TravelTimes,
    kiosks: Snaps,
    *,
    node_weight: Floats | None = None,
    balance_tolerance: float | None = None,
    max_iterations: int = 50,
) -> Districting:
    """Zones around `kiosks`: each node goes to the kiosk that reaches it soonest.

    Parameters
    ----------
    travel_times : travel times on the road network.
    kiosks : the kiosks snapped to the road; zone `z` belongs to `kiosks[z]`.
    node_weight : expected workload of each node (for example calls per day), >= 0;
        1 per node when not given.
    balance_tolerance : when given, balance the zones until each zone's workload is within
        this share of the mean workload (0.15: ±15 %).
    max_iterations : at most this many searches while balancing; the best districts found
        are returned with ``balanced=False`` if none is within the tolerance.

    Returns
    -------
    Districting
        Zones, their statistics and polygons. A road stretch counts half to the zone of each
        of its end nodes (fully when both ends share a zone), a two-way road once, so the
        road lengths add up to the network's road length.
    """
    network = travel_times.network
    weight = _checked_weight(network, kiosks, node_weight)
    n_zones = len(kiosks)
    if balance_tolerance is None:
        handicap_s = np.zeros(n_zones)
        dist, node_zone = travel_times.nearest_origin(kiosks)
        iterations, balanced = 1, False
    else:
        if not balance_tolerance > 0:
            raise ValueError(f"balance_tolerance(={balance_tolerance}) must be > 0.")
        if max_iterations < 1:
            raise ValueError(f"max_iterations(={max_iterations}) must be >= 1.")
        handicap_s, dist, node_zone, iterations, balanced = _balance(
            travel_times, kiosks, weight, tolerance=balance_tolerance, max_iterations=max_iterations
        )
    reached = node_zone >= 0
    node_time_s = np.where(reached, dist - handicap_s[np.maximum(node_zone, 0)], np.inf)
    polygons_xy = _zone_polygons_xy(travel_times, node_zone, n_zones)
    stats = _zone_stats(network, node_zone, node_time_s, weight, polygons_xy)
    return Districting(
        node_zone=node_zone,
        node_travel_time_s=node_time_s,
        handicap_s=handicap_s,
        zone_stats=stats,
        polygons=tuple(_to_lonlat(travel_times, p) for p in polygons_xy),
        iterations=iterations,
        balanced=balanced,
    )


def zone_polygons(
    travel_times: TravelTimes, node_zone: Ints, *, n_zones: int
) -> tuple[shapely.Geometry, ...]:
    """Display polygons of zones given by a zone per node (-1: none), in WGS-84 lon/lat.

    The network Voronoi diagram: each road point (node or polyline vertex) owns the plane
    nearest to it, the cells are dissolved by zone and clipped to the concave hull of the
    network buffered by `HULL_BUFFER_M`. Zones do not overlap and together cover the hull.
    """
    node_zone = np.asarray(node_zone, dtype=np.int64)
    n_nodes = travel_times.network.n_nodes
    if node_zone.shape != (n_nodes,):
        raise ValueError(f"node_zone(shape={node_zone.shape}) must hold one zone per node.")
    if n_nodes and not node_zone.max() < n_zones:
        raise ValueError(f"node_zone(max={node_zone.max()}) must be < n_zones(={n_zones}).")
    return tuple(
        _to_lonlat(travel_times, p) for p in _zone_polygons_xy(travel_times, node_zone, n_zones)
    )


def _checked_weight(network: RoadNetwork, kiosks: Snaps, node_weight: Floats | None) -> Floats:
    if len(kiosks) == 0:
        raise ValueError("kiosks(=0 points) must hold at least one kiosk.")
    if node_weight is None:
        return np.ones(network.n_nodes)
    weight = np.asarray(node_weight, dtype=np.float64)
    if weight.shape != (network.n_nodes,):
        raise ValueError(
            f"node_weight(shape={weight.shape}) must hold one value per node ({network.n_nodes})."
        )
    if not (np.isfinite(weight).all() and (weight >= 0).all()):
        raise ValueError("node_weight must be finite and >= 0 at every node.")
    return weight


def _balance(
    travel_times: TravelTimes,
    kiosks: Snaps,
    weight: Floats,
    *,
    tolerance: float,
    max_iterations: int,
) -> tuple[Floats, Floats, Ints, int, bool]:
    """Handicaps that even out the workloads: (handicap_s, dist, node_zone, iterations, ok).

    Each round adds to every kiosk's handicap a step proportional to its zone's relative
    excess (negative for an underloaded zone), then shifts the handicaps so the smallest is 0.
    A kiosk's gain grows while its excess keeps its sign and halves when the sign flips, which
    damps the back-and-forth of boundaries that can only move a whole node at a time.
    """
    n_zones = len(kiosks)
    handicap_s = np.zeros(n_zones)
    best: tuple[float, Floats, Floats, Ints] | None = None
    gain_s = np.zeros(n_zones)
    last_sign = np.zeros(n_zones)
    for iteration in range(1, max_iterations + 1):
        dist, node_zone = travel_times.nearest_origin(kiosks, start_offset_s=handicap_s)
        reached = node_zone >= 0
        load = np.bincount(node_zone[reached], weights=weight[reached], minlength=n_zones)
        mean_load = load.sum() / n_zones
        if not mean_load > 0:
            raise ValueError("node_weight must be > 0 somewhere the kiosks can reach.")
        excess = load / mean_load - 1.0
        worst = float(np.abs(excess).max())
        if worst <= tolerance:
            return handicap_s, dist, node_zone, iteration, True
        if best is None:
            gain_s[:] = _FIRST_GAIN * max(float(dist[reached].mean()), 1.0)
        if best is None or worst < best[0]:
            best = (worst, handicap_s, dist, node_zone)
        sign = np.sign(excess)
        gain_s *= np.where(sign * last_sign < 0, 0.5, np.where(sign == last_sign, 1.2, 1.0))
        last_sign = sign
        handicap_s = handicap_s + gain_s * excess
        handicap_s -= handicap_s.min()
    assert best is not None
    _, handicap_s, dist, node_zone = best
    return handicap_s, dist, node_zone, max_iterations, False


def _road_length_m(network: RoadNetwork, node_zone: Ints, n_zones: int) -> Floats:
    """Road length per zone: half of each stretch to each end's zone, two-way roads once."""
    once = network.stretch_mask
    half_m = network.edge_length_m[once] / 2
    length_m = np.zeros(n_zones)
    for end in (network.edge_tail[once], network.edge_head[once]):
        zone = node_zone[end]
        length_m += np.bincount(zone[zone >= 0], weights=half_m[zone >= 0], minlength=n_zones)
    return length_m


def _zone_stats(
    network: RoadNetwork,
    node_zone: Ints,
    node_time_s: Floats,
    weight: Floats,
    polygons_xy: list[shapely.Geometry],
) -> tuple[ZoneStats, ...]:
    n_zones = len(polygons_xy)
    reached = node_zone >= 0
    zone, time_s = node_zone[reached], node_time_s[reached]
    count = np.bincount(zone, minlength=n_zones)
    total_s = np.bincount(zone, weights=time_s, minlength=n_zones)
    max_s = np.zeros(n_zones)
    np.maximum.at(max_s, zone, time_s)
    workload = np.bincount(zone, weights=weight[reached], minlength=n_zones)
    length_m = _road_length_m(network, node_zone, n_zones)
    return tuple(
        ZoneStats(
            zone=z,
            road_length_m=float(length_m[z]),
            area_m2=float(shapely.area(polygons_xy[z])),
            max_travel_time_s=float(max_s[z]),
            mean_travel_time_s=float(total_s[z] / count[z]) if count[z] else 0.0,
            workload=float(workload[z]),
        )
        for z in range(n_zones)
    )


def _road_points_xy(travel_times: TravelTimes, node_zone: Ints) -> tuple[Floats, Ints]:
    """UTM points of the roads and their zones: the nodes, then each polyline's inner vertices.

    An inner vertex belongs to the zone of the tail when it lies in the first half of its
    stretch, else to the zone of the head: the same half-and-half rule as road lengths.
    """
    net = travel_times.network
    to_xy = travel_times.snapper.to_xy
    node_x, node_y = to_xy.transform(net.node_lon, net.node_lat)
    gx, gy = to_xy.transform(net.geom_lon, net.geom_lat)
    size = np.diff(net.geom_start)
    edge = np.repeat(np.arange(net.n_edges), size)
    rank = np.arange(len(gx)) - net.geom_start[edge]
    # distance along each polyline from its first point, in metres
    step_m = np.concatenate([[0.0], np.hypot(np.diff(gx), np.diff(gy))])
    step_m[net.geom_start[:-1]] = 0.0
    along_m = np.cumsum(step_m)
    along_m -= along_m[net.geom_start[edge]]
    edge_m = along_m[net.geom_start[1:] - 1][edge]
    once = net.stretch_mask
    inner = once[edge] & (rank > 0) & (rank < size[edge] - 1)
    first_half = along_m[inner] < edge_m[inner] / 2
    inner_zone = np.where(
        first_half, node_zone[net.edge_tail[edge[inner]]], node_zone[net.edge_head[edge[inner]]]
    )
    xy = np.vstack([np.column_stack([node_x, node_y]), np.column_stack([gx, gy])[inner]])
    return xy, np.concatenate([node_zone, inner_zone])


def _zone_polygons_xy(
    travel_times: TravelTimes, node_zone: Ints, n_zones: int
) -> list[shapely.Geometry]:
    """Zone polygons in the snapper's UTM metres (see `zone_polygons`)."""
    xy, zone = _road_points_xy(travel_times, node_zone)
    hull = shapely.concave_hull(shapely.multipoints(xy), ratio=_HULL_RATIO)
    outline = shapely.buffer(hull, HULL_BUFFER_M)
    # one site per location (the first point there wins), in input order for `ordered`
    xy, zone = xy[zone >= 0], zone[zone >= 0]
    _, first = np.unique(xy, axis=0, return_index=True)
    first.sort()
    xy, zone = xy[first], zone[first]
    if len(xy) == 1:
        cells = np.array([outline])
    else:
        diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=outline, ordered=True)
        cells = shapely.get_parts(diagram)
        assert len(cells) == len(xy), "one Voronoi cell per distinct road point"
    polygons = []
    for z in range(n_zones):
        mine = cells[zone == z]
        area = shapely.coverage_union_all(mine) if len(mine) else shapely.Polygon()
        polygons.append(shapely.intersection(area, outline))
    return polygons


def _to_lonlat(travel_times: TravelTimes, geometry: shapely.Geometry) -> shapely.Geometry:
    to_lonlat = travel_times.snapper.to_lonlat

    def project(xy: Floats) -> Floats:
        return np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geometry, project)
