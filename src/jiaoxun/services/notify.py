"""The notification outbox: messages to citizens, written in the transaction of what they tell
and sent when due by each channel.

Like a post tray: the booking clerk drops the letter in, the postman empties the tray on his
round (the server's housekeeping). A channel is anything that can `send` a notification: the log
(by default), the citizen page (which reads the tray by the citizen's code, so sending is only
marking it sent), an SMS gateway plugged in by whoever runs one. A channel that fails leaves the
message in the tray for the next round, up to `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiaoxun.services.models import Booking, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class Channel(Protocol):
    name: str

    def send(self, notification: Notification) -> None:
        """Deliver it or raise; never log or keep the citizen's phone in full."""


class LogChannel:
    name = "log"

    def send(self, notification: Notification) -> None:
        phone = notification.phone or ""
        log.info(
            "notification %d (%s) to %s: %s",
            notification.id,
            notification.kind,
            f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "the citizen page",
            notification.text_en,
        )


class PageChannel:
    """The citizen page shows the messages of his code: nothing to carry."""

    name = "page"

    def send(self, notification: Notification) -> None:
        return None


CHANNELS: dict[str, type[LogChannel] | type[PageChannel]] = {"log": LogChannel, "page": PageChannel}


def channels_named(names: Sequence[str]) -> list[Channel]:
    return [CHANNELS[name]() for name in names]


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient_sha256: str,
    text_zh: str,
    text_en: str,
    due_at: datetime,
    booking_id: int | None = None,
    waitlist_id: int | None = None,
    phone: str | None = None,
) -> Notification:
    notification = Notification(
        kind=kind,
        recipient_sha256=recipient_sha256,
        booking_id=booking_id,
        waitlist_id=waitlist_id,
        phone=phone,
        text_zh=text_zh,
        text_en=text_en,
        due_at=due_at,
        attempts=0,
        error="",
    )
    session.add(notification)
    return notification


def tell(
    session: Session, booking: Booking, *, kind: str, zh: str, en: str, due_at: datetime
) -> Notification:
    """A message to the owner of `booking` (his code's hash; his phone while it is open)."""
    return enqueue(
        session,
        kind=kind,
        recipient_sha256=booking.code_sha256,
        booking_id=booking.id,
        waitlist_id=booking.waitlist_id,
        phone=booking.phone,
        text_zh=zh,
        text_en=en,
        due_at=due_at,
    )


def messages_of(session: Session, recipient_sha256: str, *, now: datetime) -> list[Notification]:
    """A citizen's messages that are due, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_sha256 == recipient_sha256, Notification.due_at <= now)
            .order_by(Notification.due_at.desc(), Notification.id.desc())
            .limit(50)
        )
    )


def deliver_due(
    session: Session, *, now: datetime, channels: Sequence[Channel], limit: int = 500
) -> int:
    """Send the due messages not sent yet by every channel; returns how many went out."""
    due = session.scalars(
        select(Notification)
        .where(
            Notification.sent_at.is_(None),
            Notification.due_at <= now,
            Notification.attempts < MAX_ATTEMPTS,
        )
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for notification in due:
        try:
            for channel in channels:
                channel.send(notification)
        except Exception as exc:  # a channel's failure must not stop the round
            notification.attempts += 1
            notification.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("notification %d not sent: %s", notification.id, notification.error)
            continue
        notification.attempts += 1
        notification.sent_at = now
        notification.phone = None  # kept no longer than it is needed
        sent += 1
    return sent
