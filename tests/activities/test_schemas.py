"""The bodies of field activities: number plates, the kinds told apart by `kind`, their rules."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from jiaoxun.activities.schemas import ActivityIn, AssistanceIn, StopCheckIn, ViolationIn

BODY = TypeAdapter(ActivityIn)
WHERE = {"unit_id": 3, "lon": 126.65, "lat": 45.745}


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("黑A12345", "黑A12345"),  # ordinary
        ("黑a·1b345", "黑A1B345"),  # as officers write it: lower case, middle dot
        ("京AD12345", "京AD12345"),  # small new-energy car: D first
        ("粤B12345F", "粤B12345F"),  # large new-energy car: F last
        ("吉C1234学", "吉C1234学"),  # driving-school car
    ],
)
def test_plates_of_mainland_china_are_accepted(written: str, stored: str) -> None:
    body = BODY.validate_python(
        {"kind": "violation", **WHERE, "plate": written, "violation": "red_light"}
    )
    assert isinstance(body, ViolationIn)
    assert body.plate == stored


@pytest.mark.parametrize(
    "plate",
    ["XA12345", "黑A1234", "黑A123456", "黑I12345", "黑AO1234", "黑A12345X", "黑AD1234E", ""],
)
def test_other_plates_are_refused_naming_the_plate(plate: str) -> None:
    with pytest.raises(ValidationError, match="is not a Chinese number plate") as caught:
        BODY.validate_python({"kind": "violation", **WHERE, "plate": plate, "violation": "other"})
    assert repr(plate.upper()) in str(caught.value)


def test_the_kind_picks_the_body_and_the_details_hold_the_rest() -> None:
    help_given = BODY.validate_python(
        {"kind": "assistance", **WHERE, "assistance": "medical", "people_helped": 2}
    )
    assert isinstance(help_given, AssistanceIn)
    assert help_given.details() == {"assistance": "medical", "people_helped": 2, "note": ""}
    check = BODY.validate_python(
        {"kind": "stop_check", **WHERE, "persons": 2, "vehicles": 0, "result": "cleared"}
    )
    assert isinstance(check, StopCheckIn)
    assert check.details() == {
        "persons": 2,
        "vehicles": 0,
        "plate": None,
        "result": "cleared",
        "note": "",
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"kind": "stop_check", "persons": 0, "vehicles": 0, "result": "cleared"},
            "persons + vehicles must be >= 1, got 0 + 0",
        ),
        ({"kind": "stop_check", "persons": 51, "vehicles": 0, "result": "cleared"}, "50"),
        ({"kind": "assistance", "assistance": "medical", "people_helped": 0}, "1"),
        ({"kind": "assistance", "assistance": "lost_cat", "people_helped": 1}, "directions"),
        (
            {"kind": "violation", "plate": "黑A12345", "violation": "other", "note": "x" * 501},
            "500",
        ),
        ({"kind": "violation", "plate": "黑A12345", "violation": "other", "extra": 1}, "Extra"),
        ({"kind": "patrol"}, "does not match any of the expected tags"),
    ],
)
def test_each_rule_is_named(body: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words.replace("+", r"\+")):
        BODY.validate_python({**WHERE, **body})
