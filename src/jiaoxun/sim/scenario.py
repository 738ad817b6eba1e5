"""Scenarios: a deployment and the demand it meets, read from a TOML file.

A scenario is to the simulator what a timetable is to a railway model: where the cars stand and
how many there are, how many calls come at which hours, of which kinds, and how long each kind
keeps a car on scene. `before` and `after` reproduce the two deployments of the article.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jiaoxun.errors import InvalidInput

BUNDLED = Path(__file__).parent / "scenarios"


@dataclass(frozen=True)
class Scenario:
    """A deployment and its demand.

    Attributes
    ----------
    name : the scenario's name.
    calls_per_day : mean number of incidents a day (a Poisson process).
    hourly_profile : 24 relative weights of the calls over the hours of the day (local time).
    categories : incident category code → share of the calls.
    on_scene_min : top-level category code ("010000") → mean minutes a car stays on scene.
    dispatch_delay_s : seconds from the call to the dispatch (taking the call, deciding).
    cars_per_kiosk : cars standing by at each kiosk and patrolling its zone.
    kiosks : how many of the city's kiosks are staffed, in zone order (all when 0).
    patrol_cars : cars not tied to a kiosk, as (lon, lat) where they patrol; they answer calls
        anywhere (the `before` deployment).
    call_sites : past calls as (lon, lat): calls arise near them (by default, where the roads
        are); read with the hourly profile from a CSV (`calls_csv` in the TOML file).
    """

    name: str
    calls_per_day: float
    hourly_profile: tuple[float, ...]
    categories: dict[str, float]
    on_scene_min: dict[str, float]
    dispatch_delay_s: float = 60.0
    cars_per_kiosk: int = 3
    kiosks: int = 0
    patrol_cars: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    call_sites: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.calls_per_day > 0:
            raise InvalidInput(f"calls_per_day(={self.calls_per_day}) must be > 0")
        if len(self.hourly_profile) != 24 or min(self.hourly_profile) < 0:
            raise InvalidInput(f"hourly_profile needs 24 weights >= 0, got {self.hourly_profile}")
        if not self.categories or min(self.categories.values()) < 0:
            raise InvalidInput("categories needs at least one code with a share >= 0")
        if self.cars_per_kiosk < 0 or self.kiosks < 0 or self.dispatch_delay_s < 0:
            raise InvalidInput(
                f"cars_per_kiosk({self.cars_per_kiosk}), kiosks({self.kiosks}) and "
                f"dispatch_delay_s({self.dispatch_delay_s}) must be >= 0"
            )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name (`before`, `after`) or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = BUNDLED / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUNDLED.glob("*.toml")))
        raise InvalidInput(f"scenario {str(name_or_path)!r} is neither a file nor one of: {known}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"scenario {path} is not valid TOML: {exc}") from exc
    sites: tuple[tuple[float, float], ...] = ()
    if "calls_csv" in data:
        sites, hours = calls_from_csv(path.parent / str(data["calls_csv"]))
        data.setdefault("hourly_profile", hours)
    try:
        return Scenario(
            name=str(data.get("name", path.stem)),
            calls_per_day=float(data["calls_per_day"]),
            hourly_profile=tuple(float(w) for w in data["hourly_profile"]),
            call_sites=sites,
            categories={str(k): float(v) for k, v in data["categories"].items()},
            on_scene_min={str(k): float(v) for k, v in data["on_scene_min"].items()},
            dispatch_delay_s=float(data.get("dispatch_delay_s", 60.0)),
            cars_per_kiosk=int(data.get("cars_per_kiosk", 3)),
            kiosks=int(data.get("kiosks", 0)),
            patrol_cars=tuple((float(lon), float(lat)) for lon, lat in data.get("patrol_cars", [])),
        )
    except KeyError as exc:
        raise InvalidInput(f"scenario {path} lacks {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"scenario {path}: {exc}") from exc


_LON = ("longitude", "lon", "lng", "dispatch_longitude", "x")
_LAT = ("latitude", "lat", "dispatch_latitude", "y")
_TIME = ("time", "datetime", "call_time", "cad_event_original_time_queued", "queued")


def calls_from_csv(path: Path) -> tuple[tuple[tuple[float, float], ...], list[float]]:
    """Past calls from a CSV with longitude, latitude and time columns (WGS-84, local time):
    their places, and how many fell in each hour of the day."""
    if not path.is_file():
        raise InvalidInput(f"calls file {path} does not exist")
    with path.open(encoding="utf-8-sig", newline="") as src:
        reader = csv.DictReader(src)
        fields = {name.lower(): name for name in reader.fieldnames or ()}
        columns = [
            next((fields[c] for c in names if c in fields), None) for names in (_LON, _LAT, _TIME)
        ]
        if None in columns:
            raise InvalidInput(
                f"calls file {path.name} needs longitude, latitude and time columns, has "
                f"{', '.join(fields.values())}"
            )
        lon_col, lat_col, time_col = (c for c in columns if c is not None)
        sites, hours = [], [0.0] * 24
        for line, row in enumerate(reader, start=2):
            try:
                lon, lat = float(row[lon_col]), float(row[lat_col])
                at = datetime.fromisoformat(row[time_col].strip())
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"calls file {path.name}, line {line}: {exc}") from None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidInput(
                    f"calls file {path.name}, line {line}: ({lon}, {lat}) "
                    "is outside lon -180..180, lat -90..90"
                )
            sites.append((lon, lat))
            hours[at.hour] += 1
    if not sites:
        raise InvalidInput(f"calls file {path.name} holds no calls")
    return tuple(sites), hours
