"""Past CAD records imported from another center's CSV export, so that statistics compare with
history.

A mapping (`jiaoxun.analytics.mapping`) declares how one export reads. Every row is checked
against it; a bad row is rejected with the row number as a spreadsheet shows it (the header is
row 1), the field, the column, the rule and the value, and the good rows are imported: a few bad
records must not hold back a year of good ones. With ``strict`` the file is all or nothing. A
rejected row makes the CLI exit non-zero either way.

Imported incidents are closed records (``origin="imported"``, ``created_by="import"``, ``batch``
naming the mapping and the file), written in Core batches with ``ON CONFLICT DO NOTHING`` on the
unique number: importing a file again writes nothing and changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.analytics.mapping import LaterTime, Mapping
from jiaoxun.db import analyze, insert_new
from jiaoxun.errors import DataSourceError, InvalidInput
from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.models import IMPORTED, CategoryRow, Incident

#: rows written per Core batch
CHUNK_ROWS = 2000
#: who wrote an imported incident
IMPORTER = "import"
NUMBER_CHARS = 30  # incident.number
BATCH_CHARS = 80  # incident.batch
ADDRESS_CHARS = 200  # incident.address


def batch_name(mapping: Mapping, file: Path) -> str:
    """``mapping:file name``, at most 80 characters (a long one keeps a hash of the whole)."""
    name = f"{mapping.name}:{file.name}"
    if len(name) <= BATCH_CHARS:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: BATCH_CHARS - 9]}~{digest}"


@dataclass(frozen=True)
class RowError:
    """Why a row was rejected. `row` counts as a spreadsheet does: the header is row 1."""

    row: int
    field: str
    column: str
    rule: str
    value: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did. `errors` holds the first `max_errors`; `rejected` counts them all
    (rows, not errors: a row may break several rules)."""

    batch: str
    read: int
    imported: int
    already_there: int
    rejected: int
    errors: tuple[RowError, ...]
    strict: bool

    @property
    def rows_left_off(self) -> int:
        """Rejected rows whose errors are not in `errors` (past the cap)."""
        return self.rejected - len({e.row for e in self.errors})


class _Bad(Exception):
    """A value that breaks a rule (the field and column are added by the caller)."""

    def __init__(self, rule: str, value: str) -> None:
        super().__init__(rule)
        self.rule, self.value = rule, value


def _time(text: str, fmt: str, tz: ZoneInfo) -> datetime:
    try:
        if fmt == "iso":
            if len(text) <= 10:  # a date alone is no time of a call
                raise ValueError
            naive = datetime.fromisoformat(text)
        else:
            naive = datetime.strptime(text, fmt)
    except ValueError:
        raise _Bad(f"must be a date and time as {fmt}", text) from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    at = naive.replace(tzinfo=tz).astimezone(UTC)  # fall-back ambiguity: the first (fold 0)
    if at.astimezone(tz).replace(tzinfo=None) != naive:
        raise _Bad(f"must exist in {tz.key} (it falls in a spring-forward gap)", text)
    return at


def _number(text: str, lowest: float, highest: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Bad("must be a number", text) from None
    if not math.isfinite(value):
        raise _Bad("must be a finite number (not NaN or infinity)", text)
    if not lowest <= value <= highest:
        raise _Bad(f"must be within {lowest:g}..{highest:g}", text)
    return value


def _integer(text: str, lowest: int, highest: int) -> int:
    # isdecimal alone would take full-width and other scripts' digits
    if not (text.isascii() and text.isdecimal()) or not lowest <= int(text) <= highest:
        raise _Bad(f"must be an integer within {lowest}..{highest}", text)
    return int(text)


def _seconds(text: str) -> timedelta:
    seconds = _number(text, -math.inf, math.inf)
    if seconds < 0:
        raise _Bad("must be seconds >= 0", text)
    return timedelta(seconds=seconds)


_Parse = Callable[[str], Any]


def _time_reader(fmt: str, tz: ZoneInfo) -> _Parse:
    return lambda text: _time(text, fmt, tz)


class RowReader:
    """Reads the rows of one file by a mapping: a record for the incident table, or errors."""

    def __init__(
        self, mapping: Mapping, header: list[str], *, batch: str, codes: frozenset[str]
    ) -> None:
        missing = [c for c in mapping.columns() if c not in header]
        if missing:
            raise InvalidInput(
                f"mapping {mapping.name!r} reads columns the file does not have: "
                f"{', '.join(missing)} (the file's columns: {', '.join(header)})"
            )
        twice = [c for c in mapping.columns() if header.count(c) > 1]
        if twice:
            raise InvalidInput(f"the file has more than one column named {', '.join(twice)}")
        self._mapping, self._width, self._batch = mapping, len(header), batch
        self._codes = codes  # in the database: a column value that is one is taken as it is
        self._at = {c: header.index(c) for c in mapping.columns()}
        self._null = frozenset(mapping.file.null)
        self._seen: dict[str, int] = {}  # id -> row
        f, tz = mapping.fields, mapping.tz
        self._required: list[tuple[str, str, _Parse]] = [
            ("id", f.id, str),
            ("call_at", f.call_at.column, _time_reader(f.call_at.format, tz)),
            ("lon", f.lon, lambda t: _number(t, -180, 180)),
            ("lat", f.lat, lambda t: _number(t, -90, 90)),
            ("priority", f.priority.column, lambda t: _integer(t, f.priority.min, f.priority.max)),
        ]
        self._optional: list[tuple[str, str, _Parse]] = []
        if f.units_responding:
            self._optional.append(
                ("units_responding", f.units_responding, lambda t: _integer(t, 0, 10_000))
            )
        for name in ("dispatched_at", "arrived_at", "closed_at"):
            later: LaterTime | None = getattr(f, name)
            if later is None:
                continue
            if later.seconds_after_call is not None:
                self._optional.append((name, later.seconds_after_call, _seconds))
            elif later.column is not None:
                self._optional.append((name, later.column, _time_reader(later.format, tz)))

    def _text(self, values: list[str], column: str) -> str | None:
        text = values[self._at[column]].strip()
        return None if text in self._null else text

    def read(self, values: list[str], row: int) -> tuple[dict[str, Any] | None, list[RowError]]:
        """The incident record of data row `values` (spreadsheet row `row`), or its errors."""
        if len(values) != self._width:
            rule, count = f"must have {self._width} fields", f"{len(values)} fields"
            return None, [RowError(row, "(row)", "", rule, count)]
        errors: list[RowError] = []
        got: dict[str, Any] = {}
        for fields, required in ((self._required, True), (self._optional, False)):
            for name, column, parse in fields:
                text = self._text(values, column)
                if text is None:
                    if required:
                        errors.append(
                            RowError(row, name, column, "required (not empty or NULL)", "")
                        )
                    got[name] = None
                    continue
                try:
                    got[name] = parse(text)
                except _Bad as bad:
                    errors.append(RowError(row, name, column, bad.rule, bad.value))
        errors += self._check_whole(got, values, row)
        if errors:
            return None, errors
        return self._record(values, got), []

    def _check_whole(self, got: dict[str, Any], values: list[str], row: int) -> list[RowError]:
        """Rules across fields: the id unique in the file and short enough, the point in the
        area, timestamps not before the call."""
        m, errors = self._mapping, []
        ident = got.get("id")
        if ident is not None:
            if len(m.number_prefix) + len(ident) > NUMBER_CHARS:
                rule = f"must fit {NUMBER_CHARS} characters after the prefix {m.number_prefix!r}"
                errors.append(RowError(row, "id", m.fields.id, rule, ident))
            elif ident in self._seen:
                rule = f"must be unique in the file (first at row {self._seen[ident]})"
                errors.append(RowError(row, "id", m.fields.id, rule, ident))
            else:
                self._seen[ident] = row
        lon, lat = got.get("lon"), got.get("lat")
        if m.area and lon is not None and lat is not None:
            west, south, east, north = m.area
            if not (west <= lon <= east and south <= lat <= north) and m.unlocated == "keep":
                got["located"] = False
            elif not (west <= lon <= east and south <= lat <= north):
                rule = (
                    f"must lie in the mapping's area {west:g}..{east:g} E, {south:g}..{north:g} N"
                )
                f = m.fields
                point = f"{self._text(values, f.lon)},{self._text(values, f.lat)}"  # as written
                errors.append(RowError(row, "lon,lat", f"{f.lon},{f.lat}", rule, point))
        call_at = got.get("call_at")
        for name in ("dispatched_at", "arrived_at", "closed_at"):
            at = got.get(name)
            if isinstance(at, datetime) and call_at is not None and at < call_at:
                column = getattr(m.fields, name).column
                rule = "must not be before call_at"
                errors.append(RowError(row, name, column, rule, self._text(values, column) or ""))
        return errors

    def _record(self, values: list[str], got: dict[str, Any]) -> dict[str, Any]:
        m, call_at = self._mapping, got["call_at"]
        times = {}
        for name in ("dispatched_at", "arrived_at", "closed_at"):
            at = got.get(name)
            times[name] = call_at + at if isinstance(at, timedelta) else at
        known = [call_at, *(t for t in times.values() if t is not None)]
        address = ""
        if m.fields.address:
            parts = (self._text(values, c) for c in m.fields.address.columns)
            address = m.fields.address.join.join(p for p in parts if p)[:ADDRESS_CHARS]
        code = m.category.default
        if m.category.column:
            value = self._text(values, m.category.column) or ""
            code = m.category.values.get(value, value if value in self._codes else code)
        return {
            "number": m.number_prefix + got["id"],
            "source": m.source,
            "address": address,
            "lon": got["lon"],
            "lat": got["lat"],
            "located": got.get("located", True),
            "category_code": code,
            "priority": got["priority"],
            "state": IncidentState.CLOSED,
            "created_by": IMPORTER,
            "call_at": call_at,
            "taken_at": call_at,
            **times,
            "closed_at": max(known),
            "origin": IMPORTED,
            "batch": self._batch,
            "units_responding": got.get("units_responding"),
        }


def _rows(path: Path, mapping: Mapping) -> Iterator[list[str]]:
    fmt = mapping.file
    try:
        with path.open(encoding=fmt.encoding, newline="") as stream:
            yield from csv.reader(stream, delimiter=fmt.delimiter, quotechar=fmt.quotechar)
    except OSError as exc:
        raise DataSourceError(f"{path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DataSourceError(f"{path} is not {fmt.encoding} text: {exc.reason}") from None
    except csv.Error as exc:
        raise DataSourceError(f"{path} is not CSV as the mapping declares: {exc}") from None
    except LookupError:
        raise InvalidInput(f"encoding {fmt.encoding!r} of the mapping is unknown") from None


def import_history(
    session: Session,
    path: Path,
    mapping: Mapping,
    *,
    strict: bool = False,
    max_errors: int = 1000,
    advance: Callable[[int], None] = lambda _: None,
) -> ImportResult:
    """Import the CAD records of CSV `path` as closed incidents; flushes, never commits.

    Bad rows are rejected and the good ones imported; with `strict`, a single bad row means
    none is (the good rows are held in memory until the end). `advance(n)` is told of each
    `n` rows read. A mapping that reads a column the file lacks, or a category the database
    lacks, raises InvalidInput before any row is written.
    """
    batch = batch_name(mapping, path)
    rows = _rows(path, mapping)
    header = [name.strip() for name in next(rows, [])]
    if not header:
        raise DataSourceError(f"{path} is empty: no header row")
    codes = frozenset(session.scalars(select(CategoryRow.code)))
    reader = RowReader(mapping, header, batch=batch, codes=codes)
    unknown = sorted(mapping.codes() - codes)
    if unknown:
        raise InvalidInput(
            f"mapping {mapping.name!r} names categories the database does not have: "
            f"{', '.join(unknown)}"
        )
    read = rejected = 0
    errors: list[RowError] = []
    written = [0, 0]  # imported, already there
    chunk: list[dict[str, Any]] = []
    held: list[list[dict[str, Any]]] = []  # strict: the good rows, until the file is read
    for row, values in enumerate(rows, start=2):
        if not values:  # a blank line
            continue
        read += 1
        record, bad = reader.read(values, row)
        if record is None:
            rejected += 1
            errors += bad[: max(0, max_errors - len(errors))]
        else:
            chunk.append(record)
        if len(chunk) == CHUNK_ROWS:
            if strict:
                held.append(chunk)
            else:
                _write(session, chunk, written)
            chunk = []
        if read % CHUNK_ROWS == 0:
            advance(CHUNK_ROWS)
    advance(read % CHUNK_ROWS)
    held.append(chunk)
    if not (strict and rejected):
        for records in held:
            _write(session, records, written)
    session.flush()
    imported, already = written
    analyze(session, "incident")
    return ImportResult(batch, read, imported, already, rejected, tuple(errors), strict)


def _write(session: Session, records: list[dict[str, Any]], written: list[int]) -> None:
    """Insert the records whose number is new; counts them and the others into `written`."""
    if not records:
        return
    numbers = [r["number"] for r in records]
    there = set(session.scalars(select(Incident.number).where(Incident.number.in_(numbers))))
    insert_new(session, Incident, [r for r in records if r["number"] not in there])
    written[0] += len(records) - len(there)
    written[1] += len(there)
