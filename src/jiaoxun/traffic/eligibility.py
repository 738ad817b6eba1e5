"""Which procedure an accident takes, and why: the eligibility check a call-taker or officer
answers in a few taps.

The rules are those of 公安部令第146号《道路交通事故处理程序规定》 and the 12123 quick-handling
(快处快赔) terms (`DOMAIN.md` §Traffic accidents):

- Art. 13: the parties must call the police and stay when someone is hurt or killed, a driver
  has no valid licence, drank or took drugs, drives a school bus or an overloaded passenger
  vehicle or grossly over the limit, a vehicle has no or false plates, cannot be moved, a party
  fled, the accident was deliberate, or public property was hit;
- Art. 19: two vehicles with property damage only, the parties agreeing on the facts, settle it
  themselves (online through 12123: two motor vehicles, licences, registrations and compulsory
  insurance valid);
- Art. 22: the simple procedure (one officer rules on the spot) for a property-damage accident,
  or one with slight injuries when every party agrees to it, unless a crime is suspected;
- otherwise the general procedure: the scene is protected and handed to the accident unit.

Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from jiaoxun.traffic.models import Procedure


@dataclass(frozen=True)
class Question:
    key: str
    zh: str
    en: str
    kind: Literal["bool", "count"]
    default: bool | int


QUESTIONS: tuple[Question, ...] = (
    Question("motor_vehicles", "涉及机动车数量", "Motor vehicles involved", "count", 2),
    Question("injured", "受伤人数", "People injured", "count", 0),
    Question("killed", "死亡人数", "People killed", "count", 0),
    Question("minor_injuries_only", "伤者均为轻微伤", "Every injury is slight", "bool", True),
    Question(
        "all_agree_simple",
        "各方同意适用简易程序",
        "Every party agrees to the simple procedure",
        "bool",
        True,
    ),
    Question(
        "licences_valid",
        "驾驶证有效且准驾车型相符",
        "Driving licences valid for the vehicle",
        "bool",
        True,
    ),
    Question("registrations_valid", "行驶证有效", "Vehicle registrations valid", "bool", True),
    Question("insurance_valid", "交强险有效", "Compulsory insurance valid", "bool", True),
    Question("vehicles_movable", "车辆能够移动", "Vehicles can be moved", "bool", True),
    Question("drink_or_drugs", "有饮酒或服用毒品嫌疑", "Drink or drugs suspected", "bool", False),
    Question("fled", "有一方离开现场", "A party left the scene", "bool", False),
    Question(
        "plates_missing_or_fake",
        "有车辆无号牌或使用伪造、变造号牌",
        "A vehicle has no plates or false plates",
        "bool",
        False,
    ),
    Question(
        "school_bus_or_passenger_overload",
        "校车或客运车辆严重超员",
        "School bus, or a passenger vehicle grossly overloaded",
        "bool",
        False,
    ),
    Question("speeding_grossly", "严重超速", "Grossly over the speed limit", "bool", False),
    Question("deliberate", "有证据证明故意造成", "Evidence it was deliberate", "bool", False),
    Question(
        "public_property_damaged",
        "碰撞建筑物、公共设施或其他设施",
        "Buildings, public or other facilities hit",
        "bool",
        False,
    ),
    Question(
        "facts_agreed", "当事人对事实及成因无争议", "Parties agree on the facts", "bool", True
    ),
)
DEFAULTS: dict[str, bool | int] = {q.key: q.default for q in QUESTIONS}
MAX_VEHICLES = 50  # a pile-up beyond this is recorded as 50


@dataclass(frozen=True)
class Reason:
    rule: str
    zh: str
    en: str


@dataclass(frozen=True)
class Decision:
    procedure: Procedure
    reasons: tuple[Reason, ...]


def answered(answers: Mapping[str, bool | int]) -> dict[str, bool | int]:
    """The answers with every question present: a question left out takes its default (what a
    fender bender answers), an unknown key or a value of the wrong kind is refused."""
    unknown = sorted(set(answers) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown eligibility questions {unknown}; known: {sorted(DEFAULTS)}")
    full = dict(DEFAULTS)
    for question in QUESTIONS:
        if question.key not in answers:
            continue
        value = answers[question.key]
        if question.kind == "bool" and not isinstance(value, bool):
            raise ValueError(f"{question.key} is answered yes or no (true/false), got {value!r}")
        if question.kind == "count" and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000
        ):
            raise ValueError(f"{question.key} is a count from 0 to 1000, got {value!r}")
        full[question.key] = value
    if full["motor_vehicles"] == 0:
        raise ValueError("motor_vehicles must be >= 1: a traffic accident involves a vehicle")
    return full


_MUST_CALL: tuple[tuple[str, bool, str, str], ...] = (
    # (question, the answer that forbids settling without the police, zh, en) of Art. 13
    ("licences_valid", False, "驾驶人无有效驾驶证或准驾车型不符", "a driver has no valid licence"),
    ("drink_or_drugs", True, "驾驶人有饮酒或服用毒品嫌疑", "drink or drugs suspected"),
    (
        "school_bus_or_passenger_overload",
        True,
        "校车或客运车辆严重超员",
        "a school bus or a grossly overloaded passenger vehicle",
    ),
    ("speeding_grossly", True, "严重超速行驶", "gross speeding"),
    (
        "plates_missing_or_fake",
        True,
        "机动车无号牌或使用伪造、变造号牌",
        "a vehicle has no plates or false plates",
    ),
    ("vehicles_movable", False, "当事人不能自行移动车辆", "a vehicle cannot be moved"),
    ("fled", True, "一方当事人离开现场", "a party left the scene"),
    ("deliberate", True, "有证据证明事故是由一方故意造成", "evidence it was deliberate"),
    (
        "public_property_damaged",
        True,
        "碰撞建筑物、公共设施或者其他设施",
        "buildings or public facilities were hit",
    ),
)
#: what makes it a suspected crime (交通肇事, 危险驾驶, 故意): no simple procedure then
_CRIME = frozenset({"drink_or_drugs", "fled", "deliberate"})


def decide(answers: Mapping[str, bool | int]) -> Decision:
    """The procedure the answers call for, with every rule that decided it."""
    a = answered(answers)
    reasons: list[Reason] = []
    injured, killed = int(a["injured"]), int(a["killed"])
    if killed:
        reasons.append(Reason("art13.death", "发生死亡事故", f"{killed} killed"))
    if injured:
        reasons.append(Reason("art13.injury", "有人员受伤", f"{injured} injured"))
    for key, bad, zh, en in _MUST_CALL:
        if a[key] is bad:
            reasons.append(Reason(f"art13.{key}", zh, en))
    crime = [r for r in reasons if r.rule.removeprefix("art13.") in _CRIME]
    # Art. 22: simple for property damage, or slight injuries all agree to; never a crime
    if killed or crime:
        why = crime or [
            Reason("art22.death", "死亡事故适用一般程序", "a death takes the general way")
        ]
        return Decision(Procedure.GENERAL, tuple(reasons + why))
    if injured and not (a["minor_injuries_only"] and a["all_agree_simple"]):
        reasons.append(
            Reason(
                "art22.injury",
                "伤人事故：非轻微伤或当事人不同意适用简易程序",
                "injuries not all slight, or not every party agrees to the simple procedure",
            )
        )
        return Decision(Procedure.GENERAL, tuple(reasons))
    if reasons:
        return Decision(Procedure.SIMPLE, tuple(reasons))
    # Art. 19 and the 12123 quick-handling terms
    if a["motor_vehicles"] != 2:
        reasons.append(
            Reason(
                "12123.two_vehicles",
                "网上快处仅限两车事故",
                f"online quick handling is for two motor vehicles, not {a['motor_vehicles']}",
            )
        )
    for key, zh, en in (
        ("registrations_valid", "行驶证无效", "a registration is not valid"),
        ("insurance_valid", "交强险无效", "compulsory insurance is not valid"),
        ("facts_agreed", "当事人对事实或成因有争议", "the parties disagree on the facts"),
    ):
        if not a[key]:
            reasons.append(Reason(f"art19.{key}", zh, en))
    if reasons:
        return Decision(Procedure.SIMPLE, tuple(reasons))
    return Decision(
        Procedure.SELF_SETTLEMENT,
        (
            Reason(
                "art19.self_settlement",
                "两车财产损失事故，证件有效、车辆可移动、事实无争议：可自行协商（交管12123快处）",
                "two vehicles, damage only, papers valid, movable, facts agreed: the parties "
                "settle it themselves (12123 quick handling)",
            ),
        ),
    )
