"""The eligibility check: which procedure 146号令 and the 12123 terms give, and why."""

from __future__ import annotations

import pytest

from jiaoxun.traffic.eligibility import DEFAULTS, QUESTIONS, answered, decide
from jiaoxun.traffic.models import Procedure


def rules(answers: dict[str, bool | int]) -> set[str]:
    return {r.rule for r in decide(answers).reasons}


def test_a_fender_bender_settles_itself_with_the_fewest_taps() -> None:
    decision = decide({})  # every default: two cars, nobody hurt, papers valid, movable
    assert decision.procedure is Procedure.SELF_SETTLEMENT
    assert rules({}) == {"art19.self_settlement"}


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"licences_valid": False}, "art13.licences_valid"),
        ({"plates_missing_or_fake": True}, "art13.plates_missing_or_fake"),
        ({"vehicles_movable": False}, "art13.vehicles_movable"),
        ({"school_bus_or_passenger_overload": True}, "art13.school_bus_or_passenger_overload"),
        ({"speeding_grossly": True}, "art13.speeding_grossly"),
        ({"public_property_damaged": True}, "art13.public_property_damaged"),
        ({"motor_vehicles": 1}, "12123.two_vehicles"),
        ({"motor_vehicles": 3}, "12123.two_vehicles"),
        ({"insurance_valid": False}, "art19.insurance_valid"),
        ({"registrations_valid": False}, "art19.registrations_valid"),
        ({"facts_agreed": False}, "art19.facts_agreed"),
        ({"injured": 1}, "art13.injury"),  # slight, and every party agrees: still simple
    ],
)
def test_what_takes_an_officer_on_the_spot(answers: dict[str, bool | int], rule: str) -> None:
    assert decide(answers).procedure is Procedure.SIMPLE
    assert rule in rules(answers)


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"killed": 1}, "art13.death"),
        ({"injured": 1, "minor_injuries_only": False}, "art22.injury"),
        ({"injured": 2, "all_agree_simple": False}, "art22.injury"),
        ({"drink_or_drugs": True}, "art13.drink_or_drugs"),
        ({"fled": True}, "art13.fled"),
        ({"deliberate": True}, "art13.deliberate"),
        # a suspected crime outweighs everything that would allow the simple way
        ({"drink_or_drugs": True, "vehicles_movable": False}, "art13.vehicles_movable"),
    ],
)
def test_what_goes_the_general_way(answers: dict[str, bool | int], rule: str) -> None:
    assert decide(answers).procedure is Procedure.GENERAL
    assert rule in rules(answers)


def test_every_reason_is_said_in_both_languages() -> None:
    decision = decide({"injured": 1, "minor_injuries_only": False, "insurance_valid": False})
    assert decision.procedure is Procedure.GENERAL
    assert all(r.zh and r.en for r in decision.reasons)
    assert all(q.zh and q.en for q in QUESTIONS)


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"injured": True}, "count from 0 to 1000"),
        ({"injured": -1}, "count from 0 to 1000"),
        ({"injured": 1001}, "count from 0 to 1000"),
        ({"fled": 1}, "yes or no"),
        ({"fled": "no"}, "yes or no"),
        ({"motor_vehicles": 0}, "motor_vehicles must be >= 1"),
        ({"sober": True}, "unknown eligibility questions ['sober']"),
    ],
)
def test_a_bad_answer_is_refused_by_its_rule(answers: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        answered(answers)  # type: ignore[arg-type]


def test_answers_are_completed_with_the_defaults() -> None:
    full = answered({"injured": 1})
    assert full == {**DEFAULTS, "injured": 1}
