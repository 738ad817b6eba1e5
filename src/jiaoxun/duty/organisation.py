"""The merged force as an organisation: brigades, kiosks in them, officers with their skills,
and the demo city's force as the article gives it (4 traffic-patrol brigades and 1 highway
brigade, 310 officers on the street, 9 kiosks of 3 cars each)."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.city.models import Kiosk
from jiaoxun.duty.models import Brigade, BrigadeKind, CoverDemand, ShiftPatternRow
from jiaoxun.duty.patterns import builtin_patterns
from jiaoxun.services.models import DayKind
from jiaoxun.units.models import Officer, OfficerKind, Unit
from jiaoxun.units.service import officer_name
from jiaoxun.users.models import User
from jiaoxun.users.roles import Role

#: the demo force: 310 officers, 34 at each of 9 kiosks and 4 in the highway brigade
OFFICERS_PER_KIOSK = 34
HIGHWAY_OFFICERS = 4
BRIGADES = (
    ("JX1", "交巡警一大队", BrigadeKind.TRAFFIC_PATROL),
    ("JX2", "交巡警二大队", BrigadeKind.TRAFFIC_PATROL),
    ("JX3", "交巡警三大队", BrigadeKind.TRAFFIC_PATROL),
    ("JX4", "交巡警四大队", BrigadeKind.TRAFFIC_PATROL),
    ("GS", "高速公路大队", BrigadeKind.HIGHWAY),
)
#: the demo's pattern: 四班三运转
DEMO_PATTERN = "4t3s"
#: (shift, cars, crew, counter, patrol) a kiosk needs, by kind of day: the counter by day and
#: evening, two cars and two on the patrol lines at night
DEMO_COVER = {
    DayKind.WORKDAY: (("A", 3, 2, 1, 0), ("P", 3, 2, 1, 0), ("N", 2, 2, 0, 2)),
    DayKind.RESTDAY: (("A", 3, 2, 1, 0), ("P", 3, 2, 0, 0), ("N", 2, 2, 0, 2)),
    DayKind.HOLIDAY: (("A", 3, 2, 1, 0), ("P", 3, 2, 1, 0), ("N", 2, 2, 0, 2)),
}
_RANKS = ("一级警司", "二级警司", "三级警司", "一级警员", "二级警员")


def seed_patterns(session: Session, *, now: datetime) -> int:
    """The built-in shift patterns, where missing (an edit of the command is never undone)."""
    have = set(session.scalars(select(ShiftPatternRow.code)))
    added = 0
    for code, pattern in builtin_patterns().items():
        if code in have:
            continue
        session.add(
            ShiftPatternRow(
                code=code, body=pattern.as_dict(), builtin=True, updated_by="system", updated_at=now
            )
        )
        added += 1
    session.flush()
    return added


def seed_force(session: Session, *, now: datetime, seed: int = 2012) -> int:
    """The demo force where none is organised yet: brigades, each kiosk in one, every officer
    placed at his car's kiosk with his skills, officers added up to `OFFICERS_PER_KIOSK` per
    kiosk, the demo's cover demands, and the seeded officer's account linked to an officer of
    his car. Returns the officers added."""
    seed_patterns(session, now=now)
    if session.scalar(select(Brigade.id).limit(1)) is not None:
        return 0
    rng = random.Random(seed)
    brigades = [Brigade(code=c, name=n, kind=k) for c, n, k in BRIGADES]
    session.add_all(brigades)
    session.flush()
    kiosks = list(session.scalars(select(Kiosk).order_by(Kiosk.id)))
    street = [b for b in brigades if b.kind is BrigadeKind.TRAFFIC_PATROL]
    for i, kiosk in enumerate(kiosks):
        kiosk.brigade_id = street[i * len(street) // max(len(kiosks), 1)].id
    badges = set(session.scalars(select(Officer.badge)))
    added = 0
    for kiosk in kiosks:
        crew = list(
            session.scalars(
                select(Officer)
                .join(Unit, Officer.unit_id == Unit.id)
                .where(Unit.zone_id == kiosk.zone_id)
                .order_by(Officer.id)
            )
        )
        while len(crew) < OFFICERS_PER_KIOSK:
            crew.append(_new_officer(session, badges, len(badges), rng))
            added += 1
        for n, officer in enumerate(crew):
            _place(officer, kiosk=kiosk, team=n % 4, rng=rng)
    highway = next(b for b in brigades if b.kind is BrigadeKind.HIGHWAY)
    for _ in range(HIGHWAY_OFFICERS):
        officer = _new_officer(session, badges, len(badges), rng)
        officer.brigade_id, officer.licence, officer.accident = highway.id, "A2", True
        added += 1
    for kiosk in kiosks:
        for day_kind, rows in DEMO_COVER.items():
            for shift, cars, crew_size, counter, patrol in rows:
                session.add(
                    CoverDemand(
                        pattern_code=DEMO_PATTERN,
                        kiosk_id=kiosk.id,
                        shift=shift,
                        day_kind=day_kind,
                        cars=cars,
                        crew=crew_size,
                        counter=counter,
                        patrol=patrol,
                    )
                )
    _link_officer_users(session)
    session.flush()
    return added


def _new_officer(session: Session, badges: set[str], number: int, rng: random.Random) -> Officer:
    while (badge := f"220800{number + 1:04d}") in badges:
        number += 1
    badges.add(badge)
    kind = OfficerKind.OFFICER if rng.random() < 0.6 else OfficerKind.AUXILIARY
    officer = Officer(name=officer_name(number), badge=badge, kind=kind)
    session.add(officer)
    return officer


def _place(officer: Officer, *, kiosk: Kiosk, team: int, rng: random.Random) -> None:
    """His kiosk, brigade and team; skills as a kiosk's force has them: most drive, the police
    officers (民警) handle accidents, an auxiliary (辅警) only sometimes."""
    officer.kiosk_id, officer.brigade_id, officer.team = kiosk.id, kiosk.brigade_id, team
    police = officer.kind is OfficerKind.OFFICER
    officer.rank = rng.choice(_RANKS) if police else ""
    officer.accident = police or rng.random() < 0.15
    officer.licence = "C1" if police or rng.random() < 0.6 else ""
    officer.traffic = officer.patrol = True


def _link_officer_users(session: Session) -> None:
    """Each officer account with a car and no officer: linked to the first officer of that car
    not linked yet."""
    linked = set(session.scalars(select(User.officer_id).where(User.officer_id.is_not(None))))
    for user in session.scalars(
        select(User).where(User.role == Role.OFFICER, User.officer_id.is_(None))
    ):
        crew = session.scalars(
            select(Officer.id).where(Officer.unit_id == user.unit_id).order_by(Officer.id)
        )
        user.officer_id = next((o for o in crew if o not in linked), None)
        linked.add(user.officer_id)
