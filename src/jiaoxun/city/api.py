"""Routes of the city: the map the browser draws, and the search of street and place names."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from jiaoxun.city import webmap
from jiaoxun.city.schemas import CityMapOut, PlaceOut
from jiaoxun.city.service import gazetteer_for
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api", tags=["city"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]
#: the map changes only when the city is rebuilt, which restarts the server
MAP_CACHE = "private, max-age=300"


@router.get("/city/map", response_model=CityMapOut)
def city_map(session: SessionDep, state: StateDep, _user: Reader) -> Response:
    """Roads by class, zones, kiosks, patrol lines and points: everything the map draws."""

    def build() -> bytes:
        data = webmap.city_map(session, state.city.travel_times.network)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    return Response(
        state.city_map.get(build),
        media_type="application/json",
        headers={"Cache-Control": MAP_CACHE},
    )


@router.get("/places")
def places(
    session: SessionDep,
    state: StateDep,
    _user: Reader,
    q: Annotated[str, Query(min_length=1, max_length=50, description="a name or two streets")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[PlaceOut]:
    """Streets, crossings ("红军街与花园街") and places whose name holds `q`, best first."""
    gazetteer = state.gazetteer.get(
        lambda: gazetteer_for(session, state.settings, state.city.travel_times)
    )
    return [
        PlaceOut(
            name=e.name,
            kind=e.kind,
            lon=round(e.lon, webmap.DECIMALS),
            lat=round(e.lat, webmap.DECIMALS),
        )
        for e in gazetteer.search(q, limit=limit)
    ]
