"""The kiosk services' part of the server's housekeeping round: holds and offers past their
time end (their places go back or on), booked citizens who never came are marked no-shows, and
the due messages go out."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.services.booking import expire_holds
from jiaoxun.services.checkin import mark_no_shows
from jiaoxun.services.notify import channels_named, deliver_due
from jiaoxun.services.slots import BookingRules
from jiaoxun.settings import Settings

log = logging.getLogger(__name__)


def services_upkeep(sessions: sessionmaker[Session], settings: Settings, *, now: datetime) -> None:
    rules = BookingRules.from_settings(settings)
    with sessions() as session, session.begin():
        ended = expire_holds(session, now=now, rules=rules)
        no_shows = _no_shows(session, settings, now=now)
    with sessions() as session, session.begin():
        sent = deliver_due(
            session, now=now, channels=channels_named(settings.services_notify_channels)
        )
    if ended or no_shows or sent:
        log.info(
            "kiosk services: %d holds ended, %d no-shows, %d messages sent", ended, no_shows, sent
        )


def _no_shows(session: Session, settings: Settings, *, now: datetime) -> int:
    return mark_no_shows(session, now=now, after=timedelta(minutes=settings.services_no_show_min))
