"""What goes in and out of the login, password and user administration APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jiaoxun.db import MAX_ID
from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.schemas import OrderOut
from jiaoxun.inputs import Input
from jiaoxun.units.schemas import UnitOut
from jiaoxun.users.passwords import MAX_PASSWORD
from jiaoxun.users.roles import Permission, Role

Username = Annotated[str, StringConstraints(min_length=1, max_length=50)]
#: a password as typed; the rule for a new one is checked by the service, which names it
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD)]
RowRef = Annotated[int, Field(ge=1, le=MAX_ID)]


class LoginIn(Input):
    username: Username
    password: Password


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    role: Role
    unit_id: int | None
    #: the password was given by someone else: only POST /api/auth/password, GET /api/me and
    #: logout take this token until it is changed
    must_change_password: bool


class PasswordChangeIn(Input):
    current_password: Password
    new_password: Annotated[str, StringConstraints(max_length=1000)]


class UserIn(Input):
    """A new account: an officer names his unit, a kiosk clerk his kiosk."""

    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{2,50}$")]
    role: Role
    unit_id: RowRef | None = None
    kiosk_id: RowRef | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    unit_id: int | None
    kiosk_id: int | None
    active: bool
    must_change_password: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    password_changed_at: datetime | None


class NewPasswordOut(BaseModel):
    """A password an administrator gave: shown this once, to be changed at the first login."""

    user: UserOut
    password: str


class RevokedOut(BaseModel):
    revoked: int


class Choice(BaseModel):
    id: int
    name: str


class UserOptionsOut(BaseModel):
    """What a new account may be: the roles, the units of officers, the kiosks of clerks."""

    roles: list[Role]
    units: list[Choice]
    kiosks: list[Choice]


class OrderIncidentOut(BaseModel):
    """What an officer needs of the incident an order sends him to."""

    id: int
    number: str
    category_code: str
    category_name: str
    priority: int
    lon: float
    lat: float
    address: str
    description: str
    state: IncidentState


class MyOrderOut(OrderOut):
    incident: OrderIncidentOut


class MeOut(BaseModel):
    """`GET /api/me`: who is logged in, what he may do, his unit, its open orders, his phone.
    While his password must be changed, only who he is."""

    username: str
    role: Role
    permissions: list[Permission]
    unit: UnitOut | None
    orders: list[MyOrderOut]
    phone_device_id: str | None
    must_change_password: bool = False
