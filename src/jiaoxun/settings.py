"""The one `Settings` object, read from ``JIAOXUN_*`` environment variables when built."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jiaoxun.data import DEMO_PBF
from jiaoxun.geo.turnout import DEFAULT_TURNOUT_S
from jiaoxun.units.status import UnitStatus

NotifyChannel = Literal["log", "page"]
_DEFAULT_CHANNELS: tuple[NotifyChannel, ...] = ("log", "page")


class Settings(BaseSettings):
    """Configuration of one jiaoxun installation; built at start-up and passed in."""

    model_config = SettingsConfigDict(env_prefix="JIAOXUN_", extra="ignore")

    #: the SQLite file and the city's maps; the user's data folder by default
    #: (~/.local/share/jiaoxun on Linux), whatever the working directory
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("jiaoxun")))
    #: SQLAlchemy URL; by default an SQLite file in `data_dir`.
    database_url: str = ""
    #: the city's OpenStreetMap extract when the database names none (the demo city).
    default_pbf: Path = DEMO_PBF
    #: road-network caches and travel-time tables; the user's cache folder by default
    #: (~/.cache/jiaoxun on Linux), never the installed package
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("jiaoxun")))
    #: speed by road class in km/h for roads without maxspeed, over the built-in table.
    speeds_kph: dict[str, float] = Field(default_factory=dict)
    #: points farther than this from a road are refused.
    max_snap_m: float = 500.0
    #: networks with at most this many nodes keep a node-to-node travel-time table (n² × 4
    #: bytes: 95 MB for the demo city), which turns searches into lookups; 0 turns it off.
    table_max_nodes: int = 6000

    #: the city's time zone (IANA name): hours of the week of the learned speeds, local days
    timezone: str = "Asia/Shanghai"
    #: local times at which the patrol shifts start; each lasts until the next
    shift_starts: list[str] = Field(default_factory=lambda: ["08:00", "20:00"])

    #: administrative region code that starts every incident number (白城市: 220800)
    region_code: str = Field(default="220800", pattern=r"^\d{6}$")
    #: a unit's position older than this does not count for recommendations
    max_fix_age_s: float = 120.0
    #: seconds a unit needs to get going after an order, by status (at_kiosk, available),
    #: added to its ETA in recommendations and in the simulator
    turnout_s: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TURNOUT_S))
    #: a dispatch order not acknowledged within this is overdue
    ack_limit_s: float = 30.0
    #: how often the server looks for overdue orders to raise to the dispatcher, and for a shift
    #: that has begun and whose roster is not yet the cars' crews
    duty_round_s: float = Field(default=5.0, gt=0, le=300)
    #: a unit's accepted fix this close (straight line, m) to the scene of its open order proves
    #: its arrival (the order's gps_arrived_at)
    arrival_radius_m: float = Field(default=50.0, gt=0, le=1000)
    #: the officer's "arrived" and the GPS arrival further apart than this are flagged
    arrival_gap_min: float = Field(default=1.0, gt=0)
    #: statistics: outcome codes that make a closed incident an invalid call (counted apart)
    stats_invalid_outcomes: list[str] = Field(
        default_factory=lambda: ["invalid", "prank", "silent", "misdial"]
    )
    #: statistics: categories watched for staying at zero (robbery, snatching, gang fight,
    #: provoking trouble: the article's list); each counts its sub-categories
    stats_watched_categories: list[str] = Field(
        default_factory=lambda: ["010200", "010300", "020101", "020500"]
    )
    #: statistics: the side (m) of the road cells of 见警率 (visibility)
    stats_visibility_cell_m: float = Field(default=500.0, ge=50, le=5000)
    #: statistics: the unit-shifts 盘查率 and 管事率 are divided by: "planned" (every unit on
    #: every shift) or "recorded" (the shifts with a stored patrol duty)
    stats_rate_shifts: Literal["planned", "recorded"] = "planned"
    #: kiosk services: a place is held this long while a citizen fills in the booking form,
    #: and offered to the first one waiting for this long when it is freed
    services_hold_min: float = Field(default=10.0, gt=0, le=240)
    services_offer_min: float = Field(default=30.0, gt=0, le=24 * 60)
    #: kiosk services: holds one client address may keep open at once (a form being filled in)
    services_holds_per_address: int = Field(default=3, ge=1, le=1000)
    #: kiosk services: bookings open this long before a slot at the latest, this many days ahead
    services_min_notice_min: float = Field(default=30.0, ge=0, le=7 * 24 * 60)
    services_horizon_days: int = Field(default=30, ge=1, le=366)
    #: kiosk services: a booked citizen not checked in this long after his slot began is a
    #: no-show
    services_no_show_min: float = Field(default=15.0, gt=0, le=24 * 60)
    #: kiosk services: how citizens are told: the server's log, the citizen page (an SMS gateway
    #: plugs in as a further `jiaoxun.services.notify.Channel`)
    services_notify_channels: list[NotifyChannel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNELS)
    )
    #: the key of the keyed hash that stands for a citizen's ID number (32 random bytes made at
    #: first start, readable by the server only); `<data_dir>/identity.key` by default
    identity_key_file: Path | None = None
    #: the folder of the accidents' and violations' photos (files named by their SHA-256);
    #: `<data_dir>/photos` by default
    photo_dir: Path | None = None
    #: a photo larger than this is refused (8 MiB: a phone's 12-megapixel JPEG is 2-5 MB)
    photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    #: requests one client address may make to the public (citizen) API per minute
    public_requests_per_min: int = Field(default=60, ge=1)
    #: a new incident this close (m) and this soon (minutes) to an open one of the same kind is
    #: flagged as a possible duplicate
    duplicate_radius_m: float = Field(default=200.0, ge=0)
    duplicate_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    #: how long a bearer token lives
    token_ttl_hours: float = 12.0
    #: wrong passwords in a row that lock an account: for a minute, twice as long at each
    #: further one, at most a quarter of an hour
    login_lock_after: int = Field(default=5, ge=1)
    #: failed logins from one client address within a minute before it must wait
    login_failures_per_address: int = Field(default=20, ge=1)
    #: how often one GPS device may send: a backlog of `device_fix_burst` (after a tunnel),
    #: then `device_fixes_per_s`; more is answered 429
    device_fixes_per_s: float = Field(default=5.0, gt=0)
    device_fix_burst: int = Field(default=120, ge=1)
    #: password hashes computed at once (each takes 64 MiB for about 0.1 s)
    password_hashes_at_once: int = Field(default=2, ge=1, le=64)
    #: a device silent for longer than this is marked offline
    device_offline_s: float = 300.0
    #: track points older than this many days are deleted
    track_retention_days: float = 90.0
    #: the JT/T 808 terminal gateway's TCP port (0: no gateway)
    jt808_port: int = Field(default=6808, ge=0, le=65535)
    #: JT/T 808 connections not yet authenticated that one remote address may hold open
    jt808_connections_per_address: int = Field(default=8, ge=1, le=100_000)
    #: the MQTT broker to take positions from (topic jiaoxun/devices/<id>/position); empty: none
    mqtt_url: str = ""
    mqtt_topic_prefix: str = Field(default="jiaoxun/devices", pattern=r"^[\w\-]+(/[\w\-]+)*$")
    #: the NATS server (JetStream on) whose stream carries the events between several server
    #: processes on one PostgreSQL database, e.g. nats://127.0.0.1:4222; empty: this process only
    bus_url: str = Field(default="", pattern=r"^(nats://[^\s/]+)?$")
    #: the bus's stream: `<name>` with subject `<name>.events` (one per city on a NATS server)
    bus_name: str = Field(default="jiaoxun", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    #: the devices fall into this many parts, each ingested by one of the processes on the bus
    bus_partitions: int = Field(default=16, ge=1, le=1024)
    #: where `npm ci` put the pages' front-end packages; by default the project's node_modules
    node_modules: Path | None = None
    #: a request body larger than this is refused (413) before it is read in full
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: a 110 call may be entered up to this long after it came in (its call_at)
    call_max_age_h: float = Field(default=24.0, gt=0)
    #: on its first start the demo city gets a simulated history (a year before the reform, two
    #: months after: `jiaoxun history simulate`) so that the statistics page has a past to show
    demo_history: bool = True
    #: the API description (/openapi.json) with Swagger UI at /docs: "login" asks a bearer token
    #: for the description, "public" does not (development), "off" serves neither
    docs: Literal["off", "public", "login"] = "login"
    #: serve HTTPS with this certificate and key (PEM; `jiaoxun cert` makes a local pair);
    #: phones give a page their GPS only over HTTPS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8110, ge=1, le=65535)

    @field_validator("max_snap_m", "max_fix_age_s", "ack_limit_s", "token_ttl_hours")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone {value!r} is not an IANA time zone name") from None
        return value

    @field_validator("shift_starts")
    @classmethod
    def _shift_starts(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one shift start (HH:MM) is needed")
        for start in value:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", start):
                raise ValueError(f"shift start {start!r} is not a time of day HH:MM")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)

    @field_validator("turnout_s")
    @classmethod
    def _turnout(cls, value: dict[str, float]) -> dict[str, float]:
        for status, seconds in value.items():
            if status not in set(UnitStatus):
                known = ", ".join(UnitStatus)
                raise ValueError(f"turnout status {status!r} is none of: {known}")
            if not 0 <= seconds <= 3600:
                raise ValueError(f"turnout of {status} {seconds} s must be between 0 and 3600 s")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("JIAOXUN_TLS_CERT and JIAOXUN_TLS_KEY go together: set both or none")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file {path} does not exist")
        return self

    @property
    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{self.data_dir / 'jiaoxun.db'}"
