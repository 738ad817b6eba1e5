"""Orders that nobody signed for: raised to the dispatcher once they pass the limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.settings import Settings


def escalation_upkeep(
    sessions: sessionmaker[Session], settings: Settings, *, now: datetime
) -> None:
    """Raise every order issued longer than `settings.ack_limit_s` ago and not acknowledged."""
    # helper B writes this
