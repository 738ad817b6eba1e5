"""The duty part of the server's round: at a shift start the published roster becomes the
cars' crews, and the phones that moved with their officers are taken into the live state."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from jiaoxun.duty.crews import apply_shift_change
from jiaoxun.tracking.service import Ingestor

log = logging.getLogger(__name__)


def duty_upkeep(sessions: sessionmaker[Session], ingestor: Ingestor, *, now: datetime) -> bool:
    """Apply the shift under way if it is not yet; whether it was applied now."""
    with sessions() as session, session.begin():
        change = apply_shift_change(session, now=now)
        crews = change.crews if change is not None else 0
    if change is None:
        return False
    ingestor.reload_devices()
    log.info("shift change: %d cars crewed by the roster", crews)
    return True
