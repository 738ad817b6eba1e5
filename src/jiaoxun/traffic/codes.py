"""The violation code table: seeded for Jilin from the shipped TOML, then kept by admins.

The seed (`jiaoxun/data/traffic/violation_codes.toml`) is read with the API's own rules, so a bad
seed stops the start naming the code and the field. Seeding only adds codes missing; a code an
admin edited stays. Every edit raises the code's version and is audited with the fields before
and after; violations already recorded keep the code as it stood (they copy it).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.data import PACKAGE_DATA
from jiaoxun.errors import Conflict, DataSourceError, InvalidInput, NotFound
from jiaoxun.traffic.models import ViolationCode
from jiaoxun.traffic.violation_schemas import CodeChange, CodeIn, check_fines

CODES = PACKAGE_DATA / "traffic" / "violation_codes.toml"


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(the code)"
    return f"field {field}: {first['msg']}"


def load_codes(path: Path = CODES) -> list[CodeIn]:
    """The codes of a TOML file, each checked as the API checks a new one.

    Raises
    ------
    DataSourceError
        For a file that is not TOML (with its line), a code that breaks a rule (named with the
        field), or a code twice.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataSourceError(f"the violation code table {path} cannot be read: {exc}") from exc
    codes: list[CodeIn] = []
    for i, raw in enumerate(data.get("code", [])):
        name = raw.get("code", f"number {i + 1}") if isinstance(raw, dict) else f"number {i + 1}"
        try:
            codes.append(CodeIn.model_validate(raw))
        except ValidationError as exc:
            raise DataSourceError(f"{path}: code {name}: {_where(exc)}") from None
    seen = [c.code for c in codes]
    repeated = sorted({c for c in seen if seen.count(c) > 1})
    if repeated:
        raise DataSourceError(f"{path}: codes are unique, {', '.join(repeated)} repeat")
    return codes


def seed_violation_codes(session: Session, codes: list[CodeIn] | None = None) -> int:
    """Add the shipped codes missing from the table; returns how many were added."""
    codes = load_codes() if codes is None else codes
    known = set(session.scalars(select(ViolationCode.code)))
    added = [ViolationCode(**c.model_dump(), version=1) for c in codes if c.code not in known]
    session.add_all(added)
    session.flush()
    return len(added)


def code_of(session: Session, code: str) -> ViolationCode:
    row = session.scalar(select(ViolationCode).where(ViolationCode.code == code))
    if row is None:
        raise NotFound(f"there is no violation code {code!r} in the table")
    return row


def list_codes(session: Session, *, active_only: bool = False) -> list[ViolationCode]:
    """The table by code."""
    query = select(ViolationCode).order_by(ViolationCode.code)
    if active_only:
        query = query.where(ViolationCode.active.is_(True))
    return list(session.scalars(query))


def add_code(session: Session, *, code: CodeIn, by: str) -> ViolationCode:
    """A new code of the table (audited); Conflict for a code the table has already."""
    if session.scalar(select(ViolationCode.id).where(ViolationCode.code == code.code)):
        raise Conflict(f"the table has a violation code {code.code} already: change it (PUT)")
    row = ViolationCode(**code.model_dump(), version=1)
    session.add(row)
    session.flush()
    record(
        session,
        by=by,
        action="violation_code.add",
        entity="violation_code",
        entity_id=row.code,
        detail={"after": code.model_dump(mode="json")},
    )
    return row


def update_code(session: Session, *, code: str, change: CodeChange, by: str) -> ViolationCode:
    """Set the fields given; the version is raised and the edit audited (before and after).

    Raises
    ------
    NotFound
        For a code not in the table.
    Conflict
        For a `change.version` other than the code's (edited by someone else since read).
    InvalidInput
        For a field set to null, or fines out of order once the change is applied.
    """
    row = code_of(session, code)
    if change.version != row.version:
        raise Conflict(
            f"violation code {code} is at version {row.version}, not {change.version}: someone "
            "changed it since; read it again"
        )
    wanted: dict[str, Any] = change.model_dump(exclude_unset=True, exclude={"version"})
    unset = sorted(k for k, v in wanted.items() if v is None)
    if unset:
        raise InvalidInput(f"a field of a violation code cannot be set to null: {', '.join(unset)}")
    fines = {
        k: wanted.get(k, getattr(row, k)) for k in ("fine_min_yuan", "fine_yuan", "fine_max_yuan")
    }
    try:
        check_fines(fines["fine_min_yuan"], fines["fine_yuan"], fines["fine_max_yuan"])
    except ValueError as exc:
        raise InvalidInput(f"violation code {code}: {exc}") from None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, value in wanted.items():
        if getattr(row, field) != value:
            before[field], after[field] = getattr(row, field), value
            setattr(row, field, value)
    if not after:
        return row
    row.version += 1
    session.flush()
    record(
        session,
        by=by,
        action="violation_code.update",
        entity="violation_code",
        entity_id=row.code,
        detail={"version": row.version, "before": before, "after": after},
    )
    return row
