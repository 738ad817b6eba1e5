"""Who a JT/T 808 caller is: the registration rules by hand, then registration and
authentication against the real database (each test rolled back)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from jiaoxun.tracking.jt808 import RegistrationResult
from jiaoxun.tracking.jt808_messages import Registration
from jiaoxun.tracking.jt808_terminals import (
    Enrolment,
    authenticate,
    find_terminal,
    phone_candidates,
    register,
    registration_outcome,
)
from jiaoxun.tracking.models import Device

# the registration of a real terminal (Traccar's test: terminal 2366104, plate 苏BA6860)
SENT = Registration(0, 0, "70107", "HB-R03GBD", "2366104", 2, "苏BA6860")
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def enrolment(
    *, plate: str | None = "苏BA6860", terminal_id: str | None = "2366104", auth_code: str = ""
) -> Enrolment:
    return Enrolment("013511221122", plate, terminal_id, auth_code)


def outcome(record: Enrolment | None, *, authenticated: bool = False) -> tuple[int, str, str]:
    got = registration_outcome(
        record, SENT, caller_authenticated=authenticated, new_code=lambda: "new-code"
    )
    return got.result, got.reason, got.auth_code


def test_an_unknown_terminal_is_refused() -> None:
    assert outcome(None) == (
        RegistrationResult.NO_SUCH_TERMINAL,
        "registration refused: unknown terminal",
        "",
    )


def test_the_plate_and_the_terminal_id_must_match() -> None:
    assert outcome(enrolment(plate="吉G12345"))[:2] == (
        RegistrationResult.NO_SUCH_VEHICLE,
        "registration refused: plate mismatch",
    )
    assert outcome(enrolment(terminal_id="2366105"))[:2] == (
        RegistrationResult.NO_SUCH_TERMINAL,
        "registration refused: terminal id mismatch",
    )


def test_plates_and_terminal_ids_compare_as_written_by_people_and_terminals() -> None:
    assert outcome(enrolment(plate="苏ba·6860", terminal_id=" 2366104"))[0] == 0
    # SmallChi/JT808 pads a 2019 terminal id with "0" in front (JT808_0x0100Test.cs)
    padded = Registration(0, 0, "70107", "HB", "2366104".rjust(30, "0"), 2, "苏BA6860")
    got = registration_outcome(enrolment(), padded, caller_authenticated=False)
    assert got.result == RegistrationResult.SUCCESS


def test_a_working_code_is_handed_back_not_rotated() -> None:
    assert outcome(enrolment(auth_code="working")) == (
        RegistrationResult.SUCCESS,
        "registration: existing code returned",
        "working",
    )
    # only a caller that has shown the code on its connection gets a new one
    assert outcome(enrolment(auth_code="working"), authenticated=True)[1:] == (
        "registration: new code issued",
        "new-code",
    )


def test_a_record_without_plate_or_terminal_id_accepts_any_and_says_so() -> None:
    got = registration_outcome(
        enrolment(plate=None, terminal_id=""), SENT, caller_authenticated=False
    )
    assert (got.result, got.unchecked) == (RegistrationResult.SUCCESS, True)
    assert not registration_outcome(enrolment(), SENT, caller_authenticated=False).unchecked


@pytest.mark.parametrize(
    ("phone", "candidates"),
    [
        ("013511221122", ["013511221122", "13511221122"]),
        ("00000000013511221122", ["00000000013511221122", "013511221122", "13511221122"]),
        ("00000866496077582164", ["00000866496077582164", "866496077582164"]),
        ("000000000000", ["000000000000"]),
    ],
)
def test_phone_candidates(phone: str, candidates: list[str]) -> None:
    assert phone_candidates(phone) == candidates


def add(session: Session, device_id: str, **columns: str | None) -> Device:
    device = Device(device_id=device_id, protocol="jt808", **columns)
    session.add(device)
    session.flush()
    return device


def test_a_terminal_is_found_under_any_form_of_its_number(session: Session) -> None:
    add(session, "13511221122")
    session.add(Device(device_id="013511221199", protocol="osmand"))
    found = find_terminal(session, "00000000013511221122")
    assert found is not None
    assert found.device_id == "13511221122"
    assert find_terminal(session, "013511221199") is None  # not a JT/T 808 device


def test_register_stores_a_new_code_once(session: Session) -> None:
    device = add(session, "013511221122", plate="苏BA6860", terminal_id="2366104")
    first = register(session, phone="013511221122", registration=SENT, caller_authenticated=False)
    assert (first.result, len(first.auth_code)) == (RegistrationResult.SUCCESS, 32)
    assert device.auth_code == first.auth_code
    again = register(session, phone="013511221122", registration=SENT, caller_authenticated=False)
    assert again.auth_code == first.auth_code


def test_authenticate(session: Session) -> None:
    device = add(session, "013511221122", auth_code="c0de")
    assert authenticate(session, phone="013511221122", auth_code="wrong", now=NOW).reason == (
        "wrong auth code"
    )
    assert device.online is not True
    assert authenticate(session, phone="019999999999", auth_code="c0de", now=NOW).reason == (
        "unknown terminal"
    )
    ok = authenticate(session, phone="013511221122", auth_code="c0de", now=NOW)
    assert (ok.device_id, ok.reason) == ("013511221122", "authenticated")
    assert (device.online, device.last_seen_at) == (True, NOW)
    # a code sent as GBK text that is not ASCII is compared, not crashed on
    assert authenticate(session, phone="013511221122", auth_code="鉴权", now=NOW).device_id is None


def test_a_device_without_a_code_cannot_authenticate(session: Session) -> None:
    add(session, "013511221122")
    assert authenticate(session, phone="013511221122", auth_code="", now=NOW).reason == (
        "wrong auth code"
    )
