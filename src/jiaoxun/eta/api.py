"""Route of the ETA forecast judged: `GET /api/eta/accuracy`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from jiaoxun.eta.schemas import AccuracyOut, EtaAccuracyOut
from jiaoxun.eta.service import eta_report, replays
from jiaoxun.geo.accuracy import Accuracy
from jiaoxun.users.models import User
from jiaoxun.users.roles import Permission
from jiaoxun.web.deps import Now, SessionDep, StateDep, requires
from jiaoxun.web.routing import Route

router = APIRouter(prefix="/api/eta", tags=["eta"], route_class=Route)
Reader = Annotated[User, Depends(requires(Permission.READ_OPERATIONS))]


def accuracy_out(a: Accuracy) -> AccuracyOut:
    return AccuracyOut(
        orders=a.count,
        median_abs_error_s=a.median_abs_error_s,
        p90_abs_error_s=a.p90_abs_error_s,
        bias_s=a.bias_s,
    )


@router.get("/accuracy")
def accuracy(
    session: SessionDep,
    state: StateDep,
    _user: Reader,
    now: Now,
    days: Annotated[float, Query(gt=0, le=366)] = 28,
) -> EtaAccuracyOut:
    """Median and p90 absolute error and bias of the orders' ETAs of the last `days` against
    their GPS-proved travel times; the trips timed again by the class table and learned speeds."""
    report = eta_report(
        session,
        since=now - timedelta(days=days),
        until=now,
        replay_with=replays(state.city.traffic),
        turnout_s=state.settings.turnout_s.get("available", 0.0),
    )
    return EtaAccuracyOut(
        since=report.since,
        until=report.until,
        stored=accuracy_out(report.stored),
        replayed={name: accuracy_out(a) for name, a in report.replayed.items()},
    )
