"""Zone geofences: which police zone a car is in, and when it enters or leaves one.

A zone border works like a turnstile with a dead band: a car is not counted out of its zone the
moment a GPS fix lands on the wrong side of the line, only once it is clearly through. Events come
from comparing a position with the previous state, as in Traccar: the zones entered are the set
difference of the new zones and the old, the zones left the difference the other way.

The rule, with ``h = hysteresis_m`` and the *depth* of a position in a zone being its distance to
the zone's border, positive inside and negative outside:

- a zone held is kept while the depth is at least ``-h`` (not more than ``h`` outside);
- a zone not held is entered when the depth exceeds ``h`` (more than ``h`` inside);
- when no zone is kept, any zone the position is strictly inside (depth > 0) is entered, so a
  car is never left in no zone while plainly inside one (first fix, or a fix after a gap).

A car driving along a border within ``h`` of it therefore never changes zone, and a car crossing
cleanly from A to B leaves A and enters B on the same fix, the first more than ``h`` past the
border: exactly one exit and one enter. Distances are in metres in a local metric projection
(UTM by default). Zones are looked up by bounding box in a shapely STR-tree, so the cost of a
position depends on the zones near it, not on how many there are; the (costlier) distance to a
border is measured only when the position is near one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from jiaoxun.errors import InvalidInput
from jiaoxun.geo.network import Floats, Ints
from jiaoxun.geo.snap import utm_crs


@dataclass(frozen=True)
class FenceEvent:
    """A device entering or leaving a zone, at the time of the fix that decided it."""

    kind: Literal["enter", "exit"]
    zone: str
    at: datetime


@dataclass(frozen=True)
class FenceState:
    """The zones a device is considered inside (usually one)."""

    zones: frozenset[str] = frozenset()


def local_xy(lon: float, lat: float) -> pyproj.Transformer:
    """A transformer from WGS-84 lon/lat (degrees) to the UTM zone around (lon, lat), metres."""
    return pyproj.Transformer.from_crs(4326, utm_crs(lon, lat), always_xy=True)


def project(geometry: Any, xy: pyproj.Transformer) -> Any:
    """A shapely geometry in lon/lat, projected with `xy`."""
    return shapely.transform(geometry, lambda c: np.column_stack(xy.transform(c[:, 0], c[:, 1])))


class ZoneFences:
    """The zone polygons of a city, with hysteresis at their borders (see the module docstring).

    Build with `from_polygons`. `update` is pure: it takes the device's previous `FenceState`
    (None for a device never seen, which counts as holding no zone) and returns the new state
    and the events, exits before enters.
    """

    def __init__(
        self,
        codes: Sequence[str],
        polygons_xy: Sequence[Any],
        *,
        xy: pyproj.Transformer,
        hysteresis_m: float,
    ) -> None:
        if not hysteresis_m >= 0:
            raise InvalidInput(f"hysteresis_m(={hysteresis_m}) must be >= 0")
        if len(codes) != len(polygons_xy):
            raise InvalidInput(f"{len(codes)} zone codes for {len(polygons_xy)} polygons")
        if len(set(codes)) != len(codes):
            raise InvalidInput(f"zone codes must be unique, got {sorted(codes)}")
        self.codes = tuple(codes)
        self.xy = xy
        self.hysteresis_m = float(hysteresis_m)
        self.polygons = np.array(polygons_xy, dtype=object)
        self.borders = shapely.boundary(self.polygons)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        # the code of each fence, and '' for "no zone" at the end
        self._code_of = np.array([*self.codes, ""], dtype=np.str_)

    @classmethod
    def from_polygons(
        cls,
        codes: Sequence[str],
        polygons: Sequence[Any],
        *,
        hysteresis_m: float = 30.0,
        xy: pyproj.Transformer | None = None,
    ) -> ZoneFences:
        """Fences from shapely (Multi)Polygons in WGS-84 lon/lat, one per zone code.

        Parameters
        ----------
        codes : the zone codes, unique.
        polygons : the zone outlines, lon/lat degrees; an empty polygon never holds a car.
        hysteresis_m : width of the dead band on each side of a border, metres.
        xy : projection to metres; by default the UTM zone at the centre of the polygons.
        """
        if xy is None:
            if not polygons:
                raise InvalidInput("zone fences need at least one polygon, got 0")
            west, south, east, north = shapely.total_bounds(np.array(polygons, dtype=object))
            xy = local_xy((west + east) / 2, (south + north) / 2)
        projected = [project(p, xy) for p in polygons]
        return cls(codes, projected, xy=xy, hysteresis_m=hysteresis_m)

    def candidates_xy(self, x: float, y: float) -> Ints:
        """Fences whose bounding box comes within `hysteresis_m` of a projected position: a
        superset of the fences that can change a state (the STR-tree's whole work)."""
        h = self.hysteresis_m
        return np.asarray(self.tree.query(shapely.box(x - h, y - h, x + h, y + h)), dtype=np.int64)

    def candidates_many(self, x: Floats, y: Floats) -> list[Ints]:
        """`candidates_xy` of many positions in one query of the STR-tree."""
        h = self.hysteresis_m
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        which, fence = self.tree.query(shapely.box(x - h, y - h, x + h, y + h))
        return np.split(
            fence[np.argsort(which, kind="stable")],
            np.cumsum(np.bincount(which, minlength=len(x)))[:-1],
        )

    def _close(self, fence: int, x: float, y: float) -> bool:
        """Whether a projected position is within `hysteresis_m` of a fence's border."""
        return bool(shapely.dwithin(self.borders[fence], shapely.Point(x, y), self.hysteresis_m))

    def near(self, lon: float, lat: float) -> tuple[str, ...]:
        """Codes of the zones within `hysteresis_m` of a WGS-84 position (inside or out)."""
        x, y = self.xy.transform(lon, lat)
        near = np.sort(self.candidates_xy(x, y))
        inside = shapely.contains_xy(self.polygons[near], x, y)
        return tuple(
            self.codes[i]
            for i, ins in zip(near, inside, strict=True)
            if ins or self._close(i, x, y)
        )

    def update(
        self, state: FenceState | None, lon: float, lat: float, at: datetime
    ) -> tuple[FenceState, tuple[FenceEvent, ...]]:
        """The new state of a device seen at WGS-84 (lon, lat) at `at`, and the events."""
        x, y = self.xy.transform(lon, lat)
        return self.update_xy(state, float(x), float(y), at)

    def update_xy(
        self,
        state: FenceState | None,
        x: float,
        y: float,
        at: datetime,
        *,
        near: Ints | None = None,
    ) -> tuple[FenceState, tuple[FenceEvent, ...]]:
        """`update` for a position already projected with `xy`; `near` its `candidates_xy`
        when found already (`candidates_many`)."""
        held = state.zones if state is not None else frozenset()
        near = self.candidates_xy(x, y) if near is None else near
        inside = shapely.contains_xy(self.polygons[near], x, y)
        # depth > 0 is `inside`, |depth| <= h is `_close`: a distance only for a held zone
        # the position is outside of, or a new zone it is inside of
        kept, entering = set(), []
        for i, ins in zip(near.tolist(), inside.tolist(), strict=True):
            code = self.codes[i]
            if code in held:
                if ins or self._close(i, x, y):
                    kept.add(code)
            elif ins:
                entering.append((i, code))
        entered = {c for i, c in entering if not kept or not self._close(i, x, y)}
        zones = frozenset(kept | entered)
        if zones == held:
            return (state if state is not None else FenceState()), ()
        events = tuple(FenceEvent("exit", c, at) for c in sorted(held - zones)) + tuple(
            FenceEvent("enter", c, at) for c in sorted(zones - held)
        )
        return FenceState(zones), events

    def zones_at(self, lon: Floats, lat: Floats) -> NDArray[np.str_]:
        """The zone code at each WGS-84 position, '' outside every zone; no hysteresis.

        A position on a shared border, or inside overlapping zones, gets the first zone in
        `codes` order.
        """
        x, y = self.xy.transform(
            np.atleast_1d(np.asarray(lon, dtype=np.float64)),
            np.atleast_1d(np.asarray(lat, dtype=np.float64)),
        )
        points = shapely.points(x, y)
        which_point, which_fence = self.tree.query(points, predicate="intersects")
        order = np.lexsort((which_fence, which_point))
        first_point, first = np.unique(which_point[order], return_index=True)
        fence = np.full(len(points), len(self.codes), dtype=np.int64)
        fence[first_point] = which_fence[order][first]
        return self._code_of[fence]
