"""The mapping of a CAD export: how another center's CSV reads as incidents, declared in a small
TOML file (the shipped ones are in ``jiaoxun/data/mappings``; ``seattle_spd.toml`` is the
example to copy).

A mapping names the file's encoding, delimiter and NULL markers, the time zone of its local
times, the prefix that turns its ids into our incident numbers (``SEA-`` + ``cad_id``), the
incident source and category, an optional area a point must lie in, and for each incident field
the column it comes from and how to read it: a timestamp (ISO 8601 or a ``strptime`` format), or
seconds after the call. Unknown keys and contradictions are refused when the file is read.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jiaoxun.data import MAPPINGS
from jiaoxun.errors import DataSourceError, InvalidInput
from jiaoxun.incidents.models import Source


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileFormat(_Frozen):
    """How the CSV file is written."""

    encoding: str = "utf-8-sig"  # a BOM, as spreadsheet programs write, is skipped
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    #: values that mean "no value" (compared after stripping spaces)
    null: tuple[str, ...] = ("", "NULL")


class TimeColumn(_Frozen):
    """A timestamp column: ISO 8601 (``"iso"``) or a ``strptime`` format; local time in the
    mapping's time zone unless the value carries its own offset."""

    column: str
    format: str = "iso"


class LaterTime(_Frozen):
    """A time after the call: a timestamp column, or a column of seconds after the call."""

    column: str | None = None
    format: str = "iso"
    seconds_after_call: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.column is None) == (self.seconds_after_call is None):
            raise ValueError("give exactly one of 'column' and 'seconds_after_call'")
        return self


class PriorityColumn(_Frozen):
    """An integer priority, kept on the source's own scale (Seattle: 1 to 7)."""

    column: str
    min: int = 1
    max: int = 9

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class AddressColumns(_Frozen):
    """The address: the non-empty values of these columns, joined."""

    columns: tuple[str, ...] = Field(min_length=1)
    join: str = ", "


class CategoryMap(_Frozen):
    """The incident category: `default`, or the code the column's value maps to in `values`
    (a value that is itself a category code is taken as it is; any other, `default`)."""

    default: str = "999900"
    column: str | None = None
    values: dict[str, str] = Field(default_factory=dict)


class Fields(_Frozen):
    """Where each incident field comes from."""

    id: str  # the record's id in the source system (unique within it)
    call_at: TimeColumn
    lon: str
    lat: str
    priority: PriorityColumn
    dispatched_at: LaterTime | None = None
    arrived_at: LaterTime | None = None
    closed_at: LaterTime | None = None
    address: AddressColumns | None = None
    units_responding: str | None = None


class Mapping(_Frozen):
    """How one CAD export maps to incidents; `name` is the mapping file's stem."""

    name: str
    description: str = ""
    source: Source = Source.POLICE_110
    timezone: str
    number_prefix: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    #: west, south, east, north (degrees): a point outside is rejected
    area: tuple[float, float, float, float] | None = None
    #: "keep": a point outside the area is a call whose location is unknown (such as 0,0):
    #: kept, marked unlocated, so that its times still count
    unlocated: Literal["reject", "keep"] = "reject"
    file: FileFormat = FileFormat()
    category: CategoryMap = CategoryMap()
    fields: Fields

    @model_validator(mode="after")
    def _known_zone(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone") from None
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def columns(self) -> list[str]:
        """Every CSV column the mapping reads."""
        f = self.fields
        named = [f.id, f.call_at.column, f.lon, f.lat, f.priority.column, f.units_responding]
        for later in (f.dispatched_at, f.arrived_at, f.closed_at):
            if later is not None:
                named += [later.column, later.seconds_after_call]
        named += list(f.address.columns) if f.address else []
        named.append(self.category.column)
        return list(dict.fromkeys(c for c in named if c is not None))

    def codes(self) -> set[str]:
        """Every category code the mapping may write."""
        return {self.category.default, *self.category.values.values()}


def mapping_from_toml(path: Path) -> Mapping:
    """The mapping in `path`; a malformed one raises InvalidInput naming the key and the rule."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataSourceError(f"mapping {path} cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"mapping {path} is not valid TOML: {exc}") from None
    try:
        return Mapping.model_validate({"name": path.stem, **data})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidInput(f"mapping {path}: {problems}") from None


def mapping_named(name_or_path: str) -> Mapping:
    """A mapping shipped with jiaoxun by name (``seattle_spd``), or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return mapping_from_toml(path)
    shipped = MAPPINGS / f"{name_or_path}.toml"
    if not shipped.is_file():
        known = ", ".join(sorted(p.stem for p in MAPPINGS.glob("*.toml")))
        raise InvalidInput(
            f"mapping {name_or_path!r} is neither a file nor a shipped mapping ({known})"
        )
    return mapping_from_toml(shipped)
