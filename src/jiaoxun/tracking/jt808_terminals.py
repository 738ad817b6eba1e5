"""Who a JT/T 808 caller is: registration (0x0100) and authentication (0x0102) against `Device`.

A terminal is known by its phone number: a `Device` row with protocol ``jt808`` whose
``device_id`` is that number (as the 2013 header sends it, as the 2019 header sends it, or
without its leading zeros). Registration is a key cut only for the vehicle on record: it
succeeds when the plate and the terminal id the terminal sends match the row's, and it hands
back the code the device already has rather than cut a new one, unless the caller has already
authenticated on its connection. So a stranger who knows a phone number cannot lock the real
terminal out, and a real terminal that lost power gets its code back or presents it at once.
Plates compare without spaces, dots and case (吉G·12345 is 吉g12345); terminal ids without
case and without the "0" padding some 2019 terminals put in front.

The functions flush, never commit: the gateway holds the transaction.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jiaoxun.tracking.jt808 import RegistrationResult
from jiaoxun.tracking.jt808_messages import Registration
from jiaoxun.tracking.models import Device

PROTOCOL = "jt808"
AUTH_CODE_BYTES = 16  # 128 bits, sent as 32 hex digits


@dataclass(frozen=True)
class Enrolment:
    """What the device record says a terminal must register with, and the code it holds.

    A ``plate`` or ``terminal_id`` that is None (or blank) accepts whatever the terminal sends:
    devices enrolled before these columns existed keep working, but for them anyone who knows
    the phone number can register and be handed the device's code. Record both for every
    terminal; the gateway counts each such registration as "registration unchecked".
    """

    device_id: str
    plate: str | None
    terminal_id: str | None
    auth_code: str | None


@dataclass(frozen=True)
class RegistrationOutcome:
    """The answer to a registration: result, code (success only) and what to count."""

    result: RegistrationResult
    reason: str
    auth_code: str = ""
    unchecked: bool = False


@dataclass(frozen=True)
class AuthOutcome:
    """The answer to an authentication: the device id on success, and what to count."""

    device_id: str | None
    reason: str


def new_auth_code() -> str:
    """A fresh authentication code: 128 random bits as hex (ASCII, so GBK as the field wants)."""
    return secrets.token_hex(AUTH_CODE_BYTES)


def phone_candidates(phone: str) -> list[str]:
    """The device ids a header's phone number may be enrolled under, best first: as sent, the
    12 digits of a 2019 number that is a padded 2013 one, and without leading zeros."""
    candidates = [phone]
    if len(phone) == 20 and phone.startswith("0" * 8):
        candidates.append(phone[8:])
    if phone.lstrip("0"):
        candidates.append(phone.lstrip("0"))
    return list(dict.fromkeys(candidates))


def find_terminal(session: Session, phone: str) -> Device | None:
    """The JT/T 808 device a phone number belongs to, or None."""
    candidates = phone_candidates(phone)
    rows = session.scalars(
        select(Device).where(Device.protocol == PROTOCOL, Device.device_id.in_(candidates))
    ).all()
    by_id = {row.device_id: row for row in rows}
    return next((by_id[c] for c in candidates if c in by_id), None)


def _plate_key(plate: str) -> str:
    # 吉G·12345, 吉G 12345 and 吉g12345 are one plate
    return "".join(plate.split()).replace("·", "").replace("-", "").upper()


def _terminal_key(terminal_id: str) -> str:
    # some 2019 terminals pad the 30-byte field on the left with "0" (SmallChi/JT808 does)
    return terminal_id.strip().upper().lstrip("0")


def _recorded(value: str | None) -> bool:
    return bool(value and value.strip())


def _matches(recorded: str | None, sent: str, key: Callable[[str], str]) -> bool:
    return not _recorded(recorded) or key(recorded or "") == key(sent)


def registration_outcome(
    enrolment: Enrolment | None,
    registration: Registration,
    *,
    caller_authenticated: bool,
    new_code: Callable[[], str] = new_auth_code,
) -> RegistrationOutcome:
    """What a registration gets, by the rules of the module docstring."""
    if enrolment is None:
        return RegistrationOutcome(
            RegistrationResult.NO_SUCH_TERMINAL, "registration refused: unknown terminal"
        )
    if not _matches(enrolment.plate, registration.plate, _plate_key):
        return RegistrationOutcome(
            RegistrationResult.NO_SUCH_VEHICLE, "registration refused: plate mismatch"
        )
    if not _matches(enrolment.terminal_id, registration.terminal_id, _terminal_key):
        return RegistrationOutcome(
            RegistrationResult.NO_SUCH_TERMINAL, "registration refused: terminal id mismatch"
        )
    unchecked = not (_recorded(enrolment.plate) and _recorded(enrolment.terminal_id))
    if enrolment.auth_code and not caller_authenticated:
        return RegistrationOutcome(
            RegistrationResult.SUCCESS,
            "registration: existing code returned",
            auth_code=enrolment.auth_code,
            unchecked=unchecked,
        )
    return RegistrationOutcome(
        RegistrationResult.SUCCESS,
        "registration: new code issued",
        auth_code=new_code(),
        unchecked=unchecked,
    )


def register(
    session: Session, *, phone: str, registration: Registration, caller_authenticated: bool
) -> RegistrationOutcome:
    """Answer a registration and store a newly issued code."""
    device = find_terminal(session, phone)
    enrolment = None
    if device is not None:
        enrolment = Enrolment(device.device_id, device.plate, device.terminal_id, device.auth_code)
    outcome = registration_outcome(
        enrolment, registration, caller_authenticated=caller_authenticated
    )
    if device is not None and outcome.auth_code and outcome.auth_code != device.auth_code:
        device.auth_code = outcome.auth_code
        session.flush()
    return outcome


def authenticate(session: Session, *, phone: str, auth_code: str, now: datetime) -> AuthOutcome:
    """Check a presented code (in constant time); on success the device is seen and online."""
    device = find_terminal(session, phone)
    if device is None:
        return AuthOutcome(None, "unknown terminal")
    stored = (device.auth_code or "").encode()
    if not stored or not hmac.compare_digest(stored, auth_code.encode()):
        return AuthOutcome(None, "wrong auth code")
    device.last_seen_at, device.online = now, True
    session.flush()
    return AuthOutcome(device.device_id, "authenticated")


def mark_seen(session: Session, *, device_id: str, now: datetime) -> None:
    """A heartbeat from an authenticated terminal: the device is seen and online."""
    session.execute(
        update(Device).where(Device.device_id == device_id).values(last_seen_at=now, online=True)
    )
