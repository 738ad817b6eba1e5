"""The shipped violation code table, its checks, seeding and versioned edits on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.models import AuditEntry
from jiaoxun.errors import Conflict, DataSourceError, InvalidInput, NotFound
from jiaoxun.traffic import codes
from jiaoxun.traffic.violation_schemas import CodeChange, CodeIn


def test_the_shipped_table_has_points_of_163_and_a_source_for_each() -> None:
    shipped = {c.code: c for c in codes.load_codes()}
    assert shipped["1625"].points == 6  # 163号令 Art. 11(6)
    assert shipped["1223"].points == 3  # Art. 12(6)
    assert shipped["1357"].points == 3  # Art. 12(7)
    assert shipped["1344"].points == shipped["1240"].points == 1  # Art. 13(4), 13(9)
    assert shipped["1039"].points == 0
    for code in shipped.values():
        assert "163号令" in code.source
        assert "道路交通安全法" in code.source
        assert code.province == "吉林省"
        assert "assumption" in code.source  # Jilin's own amounts were not read


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[[code]]\ncode = "1625"\nname_zh = "x"\n', "code 1625: field name_en: Field required"),
        (
            '[[code]]\ncode = "1"\nname_zh = "x"\nname_en = "x"\npoints = 6\n'
            "fine_min_yuan = 1\nfine_max_yuan = 2\nfine_yuan = 2\n",
            "code 1: field code: String should match pattern",
        ),
        (
            '[[code]]\ncode = "1625"\nname_zh = "x"\nname_en = "x"\npoints = 4\n'
            "fine_min_yuan = 1\nfine_max_yuan = 2\nfine_yuan = 2\n",
            "points are one of (0, 1, 3, 6, 9, 12) (163号令 Art. 8), got 4",
        ),
        ("[[code]\n", "line 1"),
    ],
)
def test_a_bad_table_names_the_code_and_field(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "codes.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataSourceError) as caught:
        codes.load_codes(path)
    assert words in str(caught.value)


def test_a_code_twice_is_refused(tmp_path: Path) -> None:
    one = (
        '[[code]]\ncode = "1625"\nname_zh = "x"\nname_en = "x"\npoints = 6\n'
        "fine_min_yuan = 1\nfine_max_yuan = 2\nfine_yuan = 2\n"
    )
    path = tmp_path / "codes.toml"
    path.write_text(one + one, encoding="utf-8")
    with pytest.raises(DataSourceError, match="1625 repeat"):
        codes.load_codes(path)


def test_seeding_adds_what_is_missing_and_keeps_edits(session: Session) -> None:
    codes.seed_violation_codes(session)  # the test database may have been seeded by a server
    row = codes.code_of(session, "1625")
    codes.update_code(
        session, code="1625", change=CodeChange(version=row.version, fine_yuan=150), by="admin"
    )
    session.delete(codes.code_of(session, "1039"))
    session.flush()
    assert codes.seed_violation_codes(session) == 1  # 1039 again, 1625 kept
    assert codes.code_of(session, "1625").fine_yuan == 150


def test_an_edit_is_versioned_checked_and_audited(session: Session) -> None:
    codes.seed_violation_codes(session)
    row = codes.code_of(session, "1301")
    version = row.version
    codes.update_code(
        session,
        code="1301",
        change=CodeChange(version=version, points=12, active=False),
        by="admin",
    )
    assert (row.version, row.points, row.active) == (version + 1, 12, False)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "violation_code").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.detail["before"] == {"points": 3, "active": True}
    with pytest.raises(Conflict, match=f"at version {version + 1}, not {version}"):
        codes.update_code(session, code="1301", change=CodeChange(version=version), by="admin")
    with pytest.raises(InvalidInput, match="fine_min_yuan <= fine_yuan <= fine_max_yuan"):
        codes.update_code(
            session, code="1301", change=CodeChange(version=version + 1, fine_yuan=201), by="a"
        )
    with pytest.raises(NotFound, match="no violation code '0000'"):
        codes.code_of(session, "0000")
    unchanged = codes.update_code(
        session, code="1301", change=CodeChange(version=version + 1, points=12), by="admin"
    )
    assert unchanged.version == version + 1  # nothing differs: nothing changes


def test_a_new_code_and_one_twice(session: Session) -> None:
    codes.seed_violation_codes(session)
    new = CodeIn(
        code="9001",
        name_zh="测试",
        name_en="test",
        points=0,
        fine_min_yuan=0,
        fine_max_yuan=0,
        fine_yuan=0,
    )
    assert codes.add_code(session, code=new, by="admin").version == 1
    with pytest.raises(Conflict, match="has a violation code 9001 already"):
        codes.add_code(session, code=new, by="admin")
    assert "9001" in [c.code for c in codes.list_codes(session)]
