"""Attendance proved from the tracks: an officer on duty whose device is silent, or whose last
position is far from his post (outside his kiosk's zone on a car or the patrol lines, away from
the kiosk at the counter), is flagged. His own phone speaks for him; without one, his car's
terminal does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.city.context import CityContext
from jiaoxun.city.models import Kiosk
from jiaoxun.duty.crews import on_duty
from jiaoxun.duty.models import DutyShift, Post
from jiaoxun.geo.osm import haversine_m
from jiaoxun.tracking.models import Device, TrackPoint
from jiaoxun.units.models import Officer, Unit

#: after a shift starts, this long to get to the post before being judged
GRACE = timedelta(minutes=10)
#: at the counter: this close to the kiosk (m)
COUNTER_RADIUS_M = 300.0


@dataclass(frozen=True)
class Flag:
    shift: DutyShift
    officer: Officer
    flag: str  # no_device, silent, away
    detail: str


@dataclass(frozen=True)
class _Heard:
    seen_at: datetime | None
    lon: float | None
    lat: float | None
    by: str  # whose device: "his phone", "car B01-1's terminal"


def attendance(
    session: Session, city: CityContext, *, now: datetime, silent_after: timedelta
) -> list[Flag]:
    """The officers on duty now, past the grace period, whose device does not prove them at
    their post, by badge."""
    shifts = [s for s in on_duty(session, now=now) if now - s.starts_at >= GRACE]
    if not shifts:
        return []
    officers = {
        o.id: o
        for o in session.scalars(
            select(Officer).where(Officer.id.in_({s.officer_id for s in shifts}))
        )
    }
    kiosks = {k.id: k for k in session.scalars(select(Kiosk))}
    phones = {
        d.officer_id: d
        for d in session.scalars(select(Device).where(Device.officer_id.in_(officers)))
    }
    flags = []
    for shift in shifts:
        officer = officers[shift.officer_id]
        heard = _heard(session, phones.get(officer.id), shift.unit_id)
        if heard is None:
            flags.append(Flag(shift, officer, "no_device", "no phone of his and no car terminal"))
            continue
        if heard.seen_at is None or now - heard.seen_at > silent_after:
            ago = "never heard" if heard.seen_at is None else _ago(now - heard.seen_at)
            flags.append(Flag(shift, officer, "silent", f"{heard.by}: {ago}"))
            continue
        away = _away(city, kiosks[shift.kiosk_id], shift, heard)
        if away:
            flags.append(Flag(shift, officer, "away", away))
    return sorted(flags, key=lambda f: f.officer.badge)


def _heard(session: Session, phone: Device | None, unit_id: int | None) -> _Heard | None:
    if phone is not None:
        last = session.execute(
            select(TrackPoint.lon, TrackPoint.lat)
            .where(TrackPoint.device_id == phone.device_id)
            .order_by(TrackPoint.at.desc())
            .limit(1)
        ).first()
        lon, lat = (last.lon, last.lat) if last else (None, None)
        return _Heard(phone.last_seen_at, lon, lat, f"his phone {phone.device_id}")
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    seen = session.scalar(select(func.max(Device.last_seen_at)).where(Device.unit_id == unit_id))
    if unit is None or (
        seen is None and not session.scalar(select(Device.id).where(Device.unit_id == unit_id))
    ):
        return None
    return _Heard(seen, unit.last_lon, unit.last_lat, f"car {unit.call_sign}'s terminal")


def _away(city: CityContext, kiosk: Kiosk, shift: DutyShift, heard: _Heard) -> str | None:
    if heard.lon is None or heard.lat is None:
        return None
    if shift.post is Post.COUNTER:
        metres = float(
            haversine_m(*(np.array([v]) for v in (heard.lon, heard.lat, kiosk.lon, kiosk.lat)))[0]
        )
        if metres > COUNTER_RADIUS_M:
            return f"{metres:.0f} m from kiosk {kiosk.name}, his post is its counter"
        return None
    zone = city.zone_at(heard.lon, heard.lat)
    post = city.zone_by_id(kiosk.zone_id)
    if zone is not None and post is not None and zone.id != post.id:
        return f"in zone {zone.code}, his post is zone {post.code}"
    return None


def _ago(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return (
        f"last heard {minutes:.0f} min ago"
        if minutes < 120
        else f"last heard {minutes / 60:.1f} h ago"
    )
