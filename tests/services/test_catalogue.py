"""The shipped catalogue, its checks, seeding, changes and opening hours on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.models import AuditEntry
from jiaoxun.errors import Conflict, DataSourceError, InvalidInput, NotFound
from jiaoxun.services import catalogue, schemas
from jiaoxun.services.models import DayKind, OpeningHours, ServiceItem


def test_the_shipped_catalogue() -> None:
    shipped = catalogue.load_catalogue()
    kinds = {item.kind.value for item in shipped.items}
    assert kinds == {"traffic", "household", "online"}
    assert 25 <= len(shipped.items) <= 35
    by_code = {item.code: item for item in shipped.items}
    assert by_code["HZ-01"].fee_yuan == 20.0  # 发改价格〔2003〕2322号
    assert by_code["HZ-03"].fee_yuan == 40.0  # replacement of a lost card
    assert by_code["HZ-04"].fee_yuan == 10.0  # temporary card
    assert by_code["JG-01"].travel_saved_yuan == pytest.approx(580_000 / 21_585, abs=0.05)
    assert all(item.source for item in shipped.items)
    workday = [
        (w.starts, w.ends, w.capacity) for w in shipped.hours if w.day_kind is DayKind.WORKDAY
    ]
    assert workday == [("08:30", "11:30", 2), ("13:30", "17:00", 2), ("17:30", "20:00", 1)]


def _seed(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


ITEM = """
[[item]]
code = "JG-01"
kind = "traffic"
name_zh = "换证"
name_en = "Renewal"
channels = ["kiosk"]
"""


def test_a_bad_seed_names_the_item_and_the_field(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="item JG-01: field fee_yuan"):
        catalogue.load_catalogue(_seed(tmp_path, ITEM + "fee_yuan = -1\n"))
    with pytest.raises(DataSourceError, match="item JG-01: field colour"):
        catalogue.load_catalogue(_seed(tmp_path, ITEM + 'colour = "red"\n'))
    with pytest.raises(DataSourceError, match="JG-01 repeat"):
        catalogue.load_catalogue(_seed(tmp_path, ITEM + ITEM))
    overlap = '[[hours]]\nday_kind = "workday"\nstarts = "08:00"\nends = "12:00"\n' * 2
    with pytest.raises(DataSourceError, match="do not overlap"):
        catalogue.load_catalogue(_seed(tmp_path, ITEM + overlap))
    with pytest.raises(DataSourceError, match="cannot be read"):
        catalogue.load_catalogue(_seed(tmp_path, "[[item]\n"))


def _window(kind: str, starts: str, ends: str, capacity: int = 2) -> schemas.WindowIn:
    return schemas.WindowIn.model_validate(
        {"day_kind": kind, "starts": starts, "ends": ends, "capacity": capacity}
    )


def test_window_rules() -> None:
    catalogue.check_windows(
        [_window("workday", "08:30", "11:30"), _window("workday", "11:30", "24:00")]
    )
    catalogue.check_windows(
        [_window("workday", "08:30", "11:30"), _window("holiday", "09:00", "10:00")]
    )
    with pytest.raises(InvalidInput, match="starts before it ends: workday 12:00-11:00"):
        catalogue.check_windows([_window("workday", "12:00", "11:00")])
    with pytest.raises(InvalidInput, match="restday 09:00-12:00 and 11:59-13:00"):
        catalogue.check_windows(
            [_window("restday", "11:59", "13:00"), _window("restday", "09:00", "12:00")]
        )
    with pytest.raises(ValueError, match="pattern"):
        _window("workday", "8:30", "11:30")
    with pytest.raises(ValueError, match="less than or equal to 50"):
        _window("workday", "08:30", "11:30", capacity=51)


def test_seeding_adds_what_is_missing_and_keeps_edits(session: Session) -> None:
    catalogue.seed_services(session)  # the test database may have been seeded by a server
    item = catalogue.item_of(session, "JG-01")
    catalogue.update_item(
        session,
        code="JG-01",
        changes=schemas.ItemChange(fee_note="本地另收照片费", minutes=25),
        by="commander",
    )
    session.delete(catalogue.item_of(session, "HZ-05"))
    session.flush()
    hours_before = len(list(session.scalars(select(OpeningHours))))
    assert catalogue.seed_services(session) == 1  # HZ-05 again, the hours not
    again = catalogue.item_of(session, "JG-01")
    assert (again.id, again.fee_note, again.minutes) == (item.id, "本地另收照片费", 25)
    assert len(list(session.scalars(select(OpeningHours)))) == hours_before


def test_a_change_is_versioned_and_audited(session: Session) -> None:
    catalogue.seed_services(session)
    row = catalogue.item_of(session, "HZ-03")
    version = row.version
    catalogue.update_item(
        session,
        code="HZ-03",
        changes=schemas.ItemChange(version=version, fee_yuan=45.0, active=False),
        by="commander",
    )
    assert (row.version, row.fee_yuan, row.active) == (version + 1, 45.0, False)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "service_item").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert (entry.username, entry.entity_id, entry.from_state, entry.to_state) == (
        "commander",
        "HZ-03",
        "active",
        "inactive",
    )
    assert entry.detail["before"] == {"fee_yuan": 40.0, "active": True}
    assert entry.detail["after"] == {"fee_yuan": 45.0, "active": False}
    with pytest.raises(Conflict, match=f"version {version + 1}, not {version}"):
        catalogue.update_item(
            session, code="HZ-03", changes=schemas.ItemChange(version=version, minutes=30), by="x"
        )
    same = catalogue.update_item(
        session, code="HZ-03", changes=schemas.ItemChange(fee_yuan=45.0), by="x"
    )
    assert same.version == version + 1  # nothing differed: nothing changed
    with pytest.raises(InvalidInput, match="null: fee_note"):
        catalogue.update_item(
            session, code="HZ-03", changes=schemas.ItemChange(fee_note=None), by="x"
        )
    with pytest.raises(NotFound, match="ZZ-99"):
        catalogue.update_item(session, code="ZZ-99", changes=schemas.ItemChange(), by="x")


def test_a_new_item_and_a_repeated_code(session: Session) -> None:
    new = schemas.ItemIn.model_validate(
        {
            "code": "HL-90",
            "kind": "online",
            "name_zh": "测试",
            "name_en": "Test",
            "channels": ["online"],
        }
    )
    row = catalogue.add_item(session, item=new, by="admin")
    assert (row.code, row.version, row.kind.value, row.minutes) == ("HL-90", 1, "online", 20)
    with pytest.raises(Conflict, match="HL-90 already"):
        catalogue.add_item(session, item=new, by="admin")


def test_hours_of_a_scope_are_replaced(session: Session) -> None:
    catalogue.seed_services(session)
    item = catalogue.item_of(session, "JG-08")
    windows = [_window("workday", "18:00", "20:00", 3), _window("holiday", "10:00", "11:00", 1)]
    scope = catalogue.set_hours(
        session, kiosk_id=None, service_code="JG-08", windows=windows, by="commander"
    )
    assert [(w.day_kind, w.starts, w.capacity) for w in scope.windows] == [
        ("holiday", "10:00", 1),
        ("workday", "18:00", 3),
    ]
    catalogue.set_hours(
        session, kiosk_id=None, service_code="JG-08", windows=windows[:1], by="commander"
    )
    rows = session.scalars(select(OpeningHours).where(OpeningHours.service_id == item.id)).all()
    assert [(r.day_kind, r.starts, r.ends) for r in rows] == [(DayKind.WORKDAY, "18:00", "20:00")]
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "opening_hours")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.entity_id == "kiosk=* service=JG-08"
    assert len(entry.detail["before"]) == 2
    assert len(entry.detail["after"]) == 1
    with pytest.raises(InvalidInput, match="default hours cannot be emptied"):
        catalogue.set_hours(session, kiosk_id=None, service_code=None, windows=[], by="x")
    with pytest.raises(NotFound, match="kiosk 2147483647"):
        catalogue.set_hours(session, kiosk_id=2_147_483_647, service_code=None, windows=[], by="x")
    assert session.get(ServiceItem, item.id) is not None
