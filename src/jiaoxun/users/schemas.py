"""What goes in and out of the login API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from jiaoxun.incidents.lifecycle import IncidentState
from jiaoxun.incidents.schemas import OrderOut
from jiaoxun.inputs import Input
from jiaoxun.units.schemas import UnitOut
from jiaoxun.users.roles import Permission, Role


class LoginIn(Input):
    username: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    role: Role
    unit_id: int | None


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
    """`GET /api/me`: who is logged in, what he may do, his unit, its open orders, his phone."""

    username: str
    role: Role
    permissions: list[Permission]
    unit: UnitOut | None
    orders: list[MyOrderOut]
    phone_device_id: str | None
