"""The service catalogue and the opening hours: seeded from the shipped catalogue, then kept by
commanders.

The seed (`jiaoxun/data/services/catalogue.toml`) is read with the same rules as the API's, so a
bad seed stops the start with the item and the field it breaks. Seeding only adds: an item missing
by code, and the default hours when no hours are stored at all; what a commander changed stays.
Every change raises the item's version and is audited with the fields before and after.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiaoxun.audit.service import record
from jiaoxun.city.models import Kiosk
from jiaoxun.data import PACKAGE_DATA
from jiaoxun.errors import Conflict, DataSourceError, InvalidInput, NotFound
from jiaoxun.services import schemas
from jiaoxun.services.hours import clock_time
from jiaoxun.services.models import OpeningHours, ServiceItem, ServiceKind

CATALOGUE = PACKAGE_DATA / "services" / "catalogue.toml"
_WINDOWS = TypeAdapter(list[schemas.WindowIn])


@dataclass(frozen=True)
class Catalogue:
    """The shipped catalogue: its items and the city's default opening hours."""

    items: list[schemas.ItemIn]
    hours: list[schemas.WindowIn]


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(the item)"
    return f"field {field}: {first['msg']}"


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    """The catalogue of a TOML file, each item checked as the API checks a new one.

    Raises
    ------
    DataSourceError
        For a file that is not TOML, or an item or window that breaks a rule (named with the
        field).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataSourceError(f"the service catalogue {path} cannot be read: {exc}") from exc
    items: list[schemas.ItemIn] = []
    for i, raw in enumerate(data.get("item", [])):
        name = raw.get("code", f"number {i + 1}") if isinstance(raw, dict) else f"number {i + 1}"
        try:
            items.append(schemas.ItemIn.model_validate(raw))
        except ValidationError as exc:
            raise DataSourceError(f"{path}: item {name}: {_where(exc)}") from None
    codes = [item.code for item in items]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise DataSourceError(f"{path}: item codes are unique, {', '.join(repeated)} repeat")
    try:
        hours = _WINDOWS.validate_python(data.get("hours", []))
        check_windows(hours)
    except ValidationError as exc:
        raise DataSourceError(f"{path}: hours {_where(exc)}") from None
    except InvalidInput as exc:
        raise DataSourceError(f"{path}: hours: {exc}") from None
    return Catalogue(items, hours)


def _columns(item: schemas.ItemFields) -> dict[str, Any]:
    """The column values of an item: JSON-ready lists, its kind as the enum."""
    return {**item.model_dump(mode="json"), "kind": item.kind}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def seed_services(session: Session, catalogue: Catalogue | None = None) -> int:
    """Add the catalogue's items missing by code, and the default hours if no hours are stored;
    returns the rows added."""
    catalogue = catalogue or load_catalogue()
    known = set(session.scalars(select(ServiceItem.code)))
    added = 0
    for item in catalogue.items:
        if item.code not in known:
            session.add(ServiceItem(**_columns(item)))
            added += 1
    if not session.scalar(select(func.count()).select_from(OpeningHours)):
        for window in catalogue.hours:
            session.add(OpeningHours(kiosk_id=None, service_id=None, **window.model_dump()))
            added += 1
    session.flush()
    return added


def item_of(session: Session, code: str) -> ServiceItem:
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        raise NotFound(f"there is no service {code!r} in the catalogue")
    return item


def items(session: Session, *, active_only: bool = False) -> list[ServiceItem]:
    """The catalogue's items, by code."""
    query = select(ServiceItem).order_by(ServiceItem.code)
    if active_only:
        query = query.where(ServiceItem.active.is_(True))
    return list(session.scalars(query))


def add_item(session: Session, *, item: schemas.ItemIn, by: str) -> ServiceItem:
    """A new item of the catalogue (audited).

    Raises
    ------
    Conflict
        For a code the catalogue has already.
    """
    if session.scalar(select(ServiceItem.id).where(ServiceItem.code == item.code)) is not None:
        raise Conflict(f"the catalogue has a service {item.code} already: change it (PUT)")
    row = ServiceItem(**_columns(item), version=1)
    session.add(row)
    session.flush()
    record(
        session,
        by=by,
        action="service_item.add",
        entity="service_item",
        entity_id=row.code,
        to_state="active" if row.active else "inactive",
        detail={"after": item.model_dump(mode="json")},
    )
    return row


def update_item(
    session: Session, *, code: str, changes: schemas.ItemChange, by: str
) -> ServiceItem:
    """Set the fields given in `changes`; the version is raised and the change audited with the
    fields before and after. Nothing that differs: nothing changes.

    Raises
    ------
    NotFound
        For a code not in the catalogue.
    Conflict
        For a `changes.version` other than the item's (changed by someone else since read).
    """
    row = item_of(session, code)
    if changes.version is not None and changes.version != row.version:
        raise Conflict(
            f"service {code} is at version {row.version}, not {changes.version}: someone changed "
            "it since; read it again"
        )
    wanted = changes.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if any(value is None for value in wanted.values()):
        unset = sorted(k for k, v in wanted.items() if v is None)
        raise InvalidInput(f"a field of a service cannot be set to null: {', '.join(unset)}")
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, value in wanted.items():
        current = _plain(getattr(row, field))
        if current != value:
            before[field], after[field] = current, value
            setattr(row, field, ServiceKind(value) if field == "kind" else value)
    if not after:
        return row
    old_state = "active" if before.get("active", row.active) else "inactive"
    row.version += 1
    session.flush()
    record(
        session,
        by=by,
        action="service_item.update",
        entity="service_item",
        entity_id=row.code,
        from_state=old_state,
        to_state="active" if row.active else "inactive",
        detail={"version": row.version, "before": before, "after": after},
    )
    return row


def check_windows(windows: Sequence[schemas.WindowIn]) -> None:
    """Each window starts before it ends, and no two of one kind of day overlap.

    Raises
    ------
    InvalidInput
        Naming the window (day kind and times) that breaks the rule.
    """
    by_kind: dict[str, list[schemas.WindowIn]] = {}
    for w in windows:
        if clock_time(w.starts) >= clock_time(w.ends):
            raise InvalidInput(
                f"a window starts before it ends: {w.day_kind.value} {w.starts}-{w.ends}"
            )
        by_kind.setdefault(w.day_kind.value, []).append(w)
    for kind, of_kind in by_kind.items():
        ordered = sorted(of_kind, key=lambda w: clock_time(w.starts))
        for first, second in pairwise(ordered):
            if clock_time(second.starts) < clock_time(first.ends):
                raise InvalidInput(
                    f"windows of one kind of day do not overlap: {kind} {first.starts}-"
                    f"{first.ends} and {second.starts}-{second.ends}"
                )


@dataclass(frozen=True)
class HoursScope:
    kiosk_id: int | None
    service: str | None
    windows: list[schemas.WindowOut]


def _window_out(row: OpeningHours) -> schemas.WindowOut:
    return schemas.WindowOut(
        day_kind=row.day_kind.value,
        starts=row.starts,
        ends=row.ends,
        after_hours=row.after_hours,
        capacity=row.capacity,
    )


def hours(session: Session, *, kiosk_id: int | None = None) -> list[HoursScope]:
    """The stored windows by scope (the city's default first); with `kiosk_id` the scopes that
    apply to that kiosk only (its own and every kiosk's)."""
    query = select(OpeningHours, ServiceItem.code).outerjoin(
        ServiceItem, ServiceItem.id == OpeningHours.service_id
    )
    if kiosk_id is not None:
        query = query.where((OpeningHours.kiosk_id.is_(None)) | (OpeningHours.kiosk_id == kiosk_id))
    scopes: dict[tuple[int | None, str | None], list[schemas.WindowOut]] = {}
    for row, code in session.execute(query):
        scopes.setdefault((row.kiosk_id, code), []).append(_window_out(row))
    order = sorted(scopes, key=lambda s: (s[0] is not None, s[0] or 0, s[1] is not None, s[1]))
    return [
        HoursScope(k, c, sorted(scopes[(k, c)], key=lambda w: (w.day_kind, w.starts)))
        for k, c in order
    ]


def set_hours(
    session: Session,
    *,
    kiosk_id: int | None,
    service_code: str | None,
    windows: Sequence[schemas.WindowIn],
    by: str,
) -> HoursScope:
    """Replace the windows of a scope (a kiosk or every one, a service or every one); audited
    with the windows before and after.

    Raises
    ------
    NotFound
        For a kiosk or service that does not exist.
    InvalidInput
        For windows that break a rule, or no windows for the city's default (every kiosk would
        close).
    """
    if kiosk_id is not None and session.get(Kiosk, kiosk_id) is None:
        raise NotFound(f"there is no kiosk {kiosk_id}")
    service_id = item_of(session, service_code).id if service_code is not None else None
    check_windows(windows)
    if kiosk_id is None and service_id is None and not windows:
        raise InvalidInput(
            "the city's default hours cannot be emptied: every kiosk would close; set a kiosk's "
            "or a service's own hours instead"
        )
    scope = (
        OpeningHours.kiosk_id.is_(None) if kiosk_id is None else OpeningHours.kiosk_id == kiosk_id
    ) & (
        OpeningHours.service_id.is_(None)
        if service_id is None
        else OpeningHours.service_id == service_id
    )
    old = list(session.scalars(select(OpeningHours).where(scope)))
    before = [_window_out(row).model_dump() for row in old]
    for row in old:
        session.delete(row)
    session.flush()
    rows = [
        OpeningHours(kiosk_id=kiosk_id, service_id=service_id, **w.model_dump()) for w in windows
    ]
    session.add_all(rows)
    session.flush()
    after = [_window_out(row) for row in rows]
    record(
        session,
        by=by,
        action="opening_hours.set",
        entity="opening_hours",
        entity_id=f"kiosk={kiosk_id or '*'} service={service_code or '*'}",
        detail={"before": before, "after": [w.model_dump() for w in after]},
    )
    return HoursScope(kiosk_id, service_code, sorted(after, key=lambda w: (w.day_kind, w.starts)))
