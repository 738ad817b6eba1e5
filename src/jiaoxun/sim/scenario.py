"""Scenarios: a deployment and the demand it meets, read from a TOML file.

A scenario is to the simulator what a timetable is to a railway model: where the cars stand and
how many there are, how many calls come at which hours, of which kinds, and how long each kind
keeps a car on scene. `before` and `after` reproduce the two deployments of the article.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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
    try:
        return Scenario(
            name=str(data.get("name", path.stem)),
            calls_per_day=float(data["calls_per_day"]),
            hourly_profile=tuple(float(w) for w in data["hourly_profile"]),
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
