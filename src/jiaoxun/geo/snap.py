"""Snapping: from a WGS-84 point to a position on a road edge.

A GPS fix or a caller's location rarely falls on a road. It is snapped to the nearest point of
the nearest road stretch (not only the nearest intersection), which gives the edge, how far along
it the point sits (0 at the tail, 1 at the head) and how far the fix was from the road.
Distances are computed in the network's local UTM projection, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from jiaoxun.errors import OffNetwork
from jiaoxun.geo.network import Floats, Ints, RoadNetwork


@dataclass(frozen=True)
class Snap:
    """One point snapped to the road: `edge` is traversable from tail to head."""

    edge: int
    fraction: float
    distance_m: float
    lon: float
    lat: float


@dataclass(frozen=True, eq=False)
class Snaps:
    """Many snapped points as parallel arrays (see `Snap`)."""

    edge: Ints
    fraction: Floats
    distance_m: Floats
    lon: Floats
    lat: Floats

    def __len__(self) -> int:
        return len(self.edge)

    def __getitem__(self, i: int) -> Snap:
        return Snap(
            edge=int(self.edge[i]),
            fraction=float(self.fraction[i]),
            distance_m=float(self.distance_m[i]),
            lon=float(self.lon[i]),
            lat=float(self.lat[i]),
        )

    @classmethod
    def of(cls, snaps: list[Snap]) -> Snaps:
        return cls(
            edge=np.array([s.edge for s in snaps], dtype=np.int64),
            fraction=np.array([s.fraction for s in snaps], dtype=np.float64),
            distance_m=np.array([s.distance_m for s in snaps], dtype=np.float64),
            lon=np.array([s.lon for s in snaps], dtype=np.float64),
            lat=np.array([s.lat for s in snaps], dtype=np.float64),
        )


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS-84 UTM zone that contains (lon, lat)."""
    zone = int((lon + 180) // 6) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


class Snapper:
    """Nearest-edge lookup over a network's road stretches (an STR-tree in UTM metres)."""

    def __init__(self, network: RoadNetwork, *, max_snap_m: float) -> None:
        if not max_snap_m > 0:
            raise ValueError(f"max_snap_m(={max_snap_m}) must be > 0.")
        self.network = network
        self.max_snap_m = max_snap_m
        west, south, east, north = network.bounds()
        self.crs = utm_crs((west + east) / 2, (south + north) / 2)
        self.to_xy = pyproj.Transformer.from_crs(4326, self.crs, always_xy=True)
        self.to_lonlat = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        gx, gy = self.to_xy.transform(network.geom_lon, network.geom_lat)
        edges = np.arange(network.n_edges)
        # one line per road stretch: a two-way road's twins share one geometry
        self.line_edge = edges[network.stretch_mask]
        coords = np.column_stack([gx, gy])
        starts = network.geom_start
        self.lines = np.array(
            [shapely.LineString(coords[starts[e] : starts[e + 1]]) for e in self.line_edge]
        )
        self.tree = shapely.STRtree(self.lines)

    def snap_many(self, lon: Floats, lat: Floats, *, strict: bool = True) -> Snaps:
        """Snap points; raise `OffNetwork` naming the first point beyond `max_snap_m`.

        With `strict` off, far points are snapped all the same: check `distance_m`.
        """
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise OffNetwork("coordinates must be finite numbers")
        x, y = self.to_xy.transform(lon, lat)
        outside = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
        if len(outside):  # half a world away, the city's projection has no plane for it
            i = int(outside[0])
            raise OffNetwork(
                f"point ({lon[i]:.6f}, {lat[i]:.6f}) is far from the city's roads; "
                f"the snapping limit is {self.max_snap_m:.0f} m"
            )
        points = shapely.points(x, y)
        (which_point, which_line), distance = self.tree.query_nearest(
            points, return_distance=True, all_matches=False
        )
        if len(which_point) < len(points):
            raise OffNetwork(
                f"{len(points) - len(which_point)} of {len(points)} points found no road near "
                f"them; the snapping limit is {self.max_snap_m:.0f} m"
            )
        order = np.argsort(which_point, kind="stable")
        which_line, distance = which_line[order], distance[order]
        far = np.flatnonzero(distance > self.max_snap_m)
        if strict and len(far):
            i = int(far[0])
            raise OffNetwork(
                f"point ({lon[i]:.6f}, {lat[i]:.6f}) is {distance[i]:.0f} m from the nearest road;"
                f" the snapping limit is {self.max_snap_m:.0f} m"
            )
        lines = self.lines[which_line]
        fraction = shapely.line_locate_point(lines, points, normalized=True)
        on_road = shapely.line_interpolate_point(lines, fraction, normalized=True)
        slon, slat = self.to_lonlat.transform(shapely.get_x(on_road), shapely.get_y(on_road))
        return Snaps(
            edge=self.line_edge[which_line],
            fraction=np.asarray(fraction, dtype=np.float64),
            distance_m=np.asarray(distance, dtype=np.float64),
            lon=np.asarray(slon, dtype=np.float64),
            lat=np.asarray(slat, dtype=np.float64),
        )
