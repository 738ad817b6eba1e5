"""A history scenario: how many incidents, activities and recognitions a day, before and after.

Like a census table from which a demographer draws a synthetic population, a scenario holds
the expected counts a day of every incident category and field activity in the period before
the reform and in the months after it; `analytics.history` draws the records from it. The
bundled `REFORM` scenario is derived from the figures of the article (two months after 交巡合一:
1,765 incidents, −12.7 % year over year; criminal and public order −26 %; no robbery,
snatching, gang fight or provocation; traffic accidents −4.4 %; 13,453 violations, +284 %;
757 emergency assists, 65 good deeds, 12 banners and letters of thanks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.incidents.categories import category

#: days of the article's "two months" (two full months of about 30.5 days)
ARTICLE_DAYS = 61.0
CRIMINAL, PUBLIC_ORDER, ACCIDENT = "010000", "020000", "030100"

#: a typical 110 day, local time: quiet before dawn, busy late morning and evening (the
#: simulator's profile, `sim/scenarios/before.toml`)
# fmt: off
CALL_HOURS: tuple[float, ...] = (
    2, 1.5, 1, 0.8, 0.8, 1, 1.5, 2.5, 3.5, 4, 4.5, 4.5,
    4, 4, 4, 4, 4.5, 5, 5.5, 5.5, 5, 4.5, 3.5, 2.5,
)
#: officers deal with violations, help and checks on the street: mostly by day
STREET_HOURS: tuple[float, ...] = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 3, 5, 5, 4.5, 4,
    3, 3.5, 4.5, 5, 5, 5, 4, 3, 2, 1.5, 1, 0.6,
)
# fmt: on
#: Monday … Sunday: more calls on Friday and Saturday nights and at weekends
WEEKDAYS = (0.95, 0.95, 0.96, 0.98, 1.05, 1.08, 1.03)

#: the incident categories a day before the reform: 2,022 in two months (1,765 / (1 − 0.127)),
#: 33.1 a day; criminal 4.6 and public order 10.3 a day (45 %), accidents 5.3 (16 %)
REFORM_BEFORE: Mapping[str, float] = MappingProxyType(
    {
        # criminal
        "010100": 0.005,  # homicide (two a year)
        "010200": 0.12,  # robbery
        "010300": 0.10,  # snatching
        "010401": 0.10,  # assault with a weapon
        "010402": 0.60,  # assault without a weapon
        "010500": 0.60,  # theft
        "010501": 0.80,  # burglary
        "010503": 1.20,  # e-bike or bicycle theft
        "010504": 0.60,  # pickpocketing
        "010600": 0.50,  # fraud
        # public order
        "020100": 2.20,  # fight
        "020101": 0.08,  # gang fight
        "020200": 1.20,  # dispute
        "020201": 2.00,  # neighbour dispute
        "020202": 1.80,  # family dispute
        "020300": 0.80,  # domestic violence
        "020500": 0.12,  # provoking trouble
        "020700": 1.10,  # drunken disorder
        "020800": 0.40,  # suspicious person
        "020900": 0.60,  # noise
        # traffic accidents
        "030101": 1.00,  # with injuries
        "030102": 0.10,  # fatal
        "030103": 4.20,  # property damage only
        # other traffic
        "030201": 0.30,  # drink driving
        "030202": 1.50,  # illegal parking
        "030300": 0.30,  # hit-and-run
        "030400": 0.30,  # traffic facilities
        "030500": 0.60,  # traffic order
        # fire and rescue
        "040100": 0.20,
        "040202": 0.30,
        "040400": 0.10,
        # help
        "050100": 0.80,  # missing person
        "050101": 0.20,  # missing child
        "050200": 1.30,  # lockout
        "050500": 0.10,  # suicide attempt
        "050600": 1.00,  # medical emergency
        "050700": 0.50,  # water, power, gas or heating
        "050800": 0.80,  # lost property
        "050900": 1.80,  # consultation
        # other agencies, group incidents, tip-offs, other
        "060100": 0.80,
        "060200": 0.40,
        "070100": 0.05,
        "090100": 0.30,
        "090200": 0.10,
        "990000": 1.175,
    }
)


@dataclass(frozen=True)
class Scenario:
    """Expected counts a day, before and after, and how the calls are handled.

    Attributes
    ----------
    name : the scenario's name, part of the batch that marks every record written.
    before_per_day, after_per_day : incident category code → valid incidents a day.
    invalid_share : invalid calls (hang-ups, pranks) per valid incident, closed untouched.
    duplicate_share : further calls about the same event per valid incident, merged into it.
    violations_per_day, assists_per_day, stop_checks_per_day : (before, after) field activities.
    good_deeds_per_day, banners_per_day, letters_per_day : recognitions after the reform.
    dispatch_delay_s : (before, after) median seconds from taking the call to the order: two
        levels of command before, the center ordering the cars itself after (as `sim/`).
    acknowledge_s : (before, after) median seconds from the order to the unit signing for it.
    on_scene_min : top-level category → median minutes a unit stays on scene.
    patrol_share : share of the kiosks' cars out on patrol in their zone when an order comes
        (after the reform; before it the few patrol cars answer from their posts).
    gps_share : (before, after) share of arrivals proved by the car's GPS (none before: the
        cars carried no GPS then).
    holiday_factor : calls on a statutory holiday against an ordinary day.
    """

    name: str
    before_per_day: Mapping[str, float]
    after_per_day: Mapping[str, float]
    invalid_share: float = 0.08
    duplicate_share: float = 0.05
    violations_per_day: tuple[float, float] = (13_453 / 3.84 / ARTICLE_DAYS, 13_453 / ARTICLE_DAYS)
    assists_per_day: tuple[float, float] = (250 / ARTICLE_DAYS, 757 / ARTICLE_DAYS)
    stop_checks_per_day: tuple[float, float] = (4.0, 16.0)
    good_deeds_per_day: float = 65 / ARTICLE_DAYS
    banners_per_day: float = 5 / ARTICLE_DAYS
    letters_per_day: float = 7 / ARTICLE_DAYS
    dispatch_delay_s: tuple[float, float] = (120.0, 45.0)
    acknowledge_s: tuple[float, float] = (40.0, 20.0)
    on_scene_min: Mapping[str, float] = field(
        default_factory=lambda: {"010000": 45, "020000": 30, "030000": 35, "040000": 40}
    )
    patrol_share: float = 0.6
    gps_share: tuple[float, float] = (0.0, 0.92)
    holiday_factor: float = 1.1

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name or len(self.name) > 28:
            raise InvalidInput(f"scenario name {self.name!r} must be 1-28 characters without ':'")
        for label, rates in (("before", self.before_per_day), ("after", self.after_per_day)):
            for code, rate in rates.items():
                try:
                    category(code)
                except NotFound:
                    raise InvalidInput(
                        f"scenario {self.name}: {label}_per_day names category {code!r}, "
                        "which is not in the taxonomy"
                    ) from None
                if rate < 0:
                    raise InvalidInput(f"{label}_per_day[{code}](={rate}) must be >= 0")
        if not 0 <= self.invalid_share <= 1 or not 0 <= self.duplicate_share <= 1:
            raise InvalidInput(
                f"invalid_share(={self.invalid_share}) and duplicate_share"
                f"(={self.duplicate_share}) must be between 0 and 1"
            )

    def on_scene_median_min(self, code: str) -> float:
        return float(self.on_scene_min.get(code[:2] + "0000", 25.0))


def _total(rates: Mapping[str, float], prefix: str = "") -> float:
    return sum(rate for code, rate in rates.items() if code.startswith(prefix))


def reform_after(
    before: Mapping[str, float],
    *,
    total_change: float = -0.127,
    crime_and_order_change: float = -0.26,
    accident_change: float = -0.044,
    none_after: frozenset[str] = frozenset({"010200", "010300", "020101", "020500"}),
) -> dict[str, float]:
    """The rates after the reform from those before, by the article's changes: criminal and
    public order together by `crime_and_order_change` with `none_after` at zero (the rest of
    them scaled to make up the change), accidents by `accident_change`, everything else by
    what makes the total change `total_change`."""
    crime_and_order = _total(before, CRIMINAL[:2]) + _total(before, PUBLIC_ORDER[:2])
    kept = crime_and_order - sum(before.get(code, 0.0) for code in none_after)
    accidents = _total(before, ACCIDENT[:4])
    rest = _total(before) - crime_and_order - accidents
    if kept <= 0 or rest <= 0:
        raise InvalidInput("reform_after needs criminal or public-order incidents and others")
    target_total = _total(before) * (1 + total_change)
    crime_factor = crime_and_order * (1 + crime_and_order_change) / kept
    accident_factor = 1 + accident_change
    rest_factor = (target_total - crime_and_order * (1 + crime_and_order_change)) / rest
    rest_factor -= accidents * accident_factor / rest
    after = {}
    for code, rate in before.items():
        if code in none_after:
            after[code] = 0.0
        elif code[:2] in (CRIMINAL[:2], PUBLIC_ORDER[:2]):
            after[code] = rate * crime_factor
        elif code.startswith(ACCIDENT[:4]):
            after[code] = rate * accident_factor
        else:
            after[code] = rate * rest_factor
    return after


REFORM = Scenario("reform", before_per_day=REFORM_BEFORE, after_per_day=reform_after(REFORM_BEFORE))
SCENARIOS: Mapping[str, Scenario] = MappingProxyType({REFORM.name: REFORM})


def scenario_named(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise InvalidInput(f"scenario {name!r} is not one of: {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[name]
