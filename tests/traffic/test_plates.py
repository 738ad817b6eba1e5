"""Number plates of every GA 36-2018 form, and each of its rules broken."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from jiaoxun.activities.schemas import Plate as PlateField
from jiaoxun.errors import InvalidInput
from jiaoxun.traffic.plates import PROVINCES, PlateKind, check_plate


@pytest.mark.parametrize(
    ("written", "plate", "kind"),
    [
        ("吉A12345", "吉A12345", PlateKind.ORDINARY),
        ("吉a·1b3c5", "吉A1B3C5", PlateKind.ORDINARY),  # as officers write it
        (" 吉 A 12345 ", "吉A12345", PlateKind.ORDINARY),
        ("吉Ａ１２３４５", "吉A12345", PlateKind.ORDINARY),  # full-width
        ("京AD12345", "京AD12345", PlateKind.NEW_ENERGY_SMALL),
        ("沪AFB1234", "沪AFB1234", PlateKind.NEW_ENERGY_SMALL),  # a letter second
        ("吉AA12345", "吉AA12345", PlateKind.NEW_ENERGY_SMALL),  # the newer first letters
        ("吉AK12345", "吉AK12345", PlateKind.NEW_ENERGY_SMALL),
        ("粤B12345F", "粤B12345F", PlateKind.NEW_ENERGY_LARGE),
        ("吉A12345D", "吉A12345D", PlateKind.NEW_ENERGY_LARGE),
        ("吉A1234警", "吉A1234警", PlateKind.POLICE),
        ("吉B1234挂", "吉B1234挂", PlateKind.TRAILER),
        ("吉C1234学", "吉C1234学", PlateKind.LEARNER),
        ("使014578", "使014578", PlateKind.EMBASSY),
        ("使014·578", "使014578", PlateKind.EMBASSY),
        ("沪A0234领", "沪A0234领", PlateKind.CONSULATE),
        ("粤Z1234港", "粤Z1234港", PlateKind.HONG_KONG),
        ("粤ZA234澳", "粤ZA234澳", PlateKind.MACAO),
    ],
)
def test_every_form_is_read_with_its_kind(written: str, plate: str, kind: PlateKind) -> None:
    found = check_plate(written)
    assert (found.plate, found.kind) == (plate, kind)


def test_every_mainland_province_and_only_those() -> None:
    assert len(PROVINCES) == len(set(PROVINCES)) == 31
    for province in PROVINCES:
        assert check_plate(f"{province}A12345").plate == f"{province}A12345"
    for other in "港澳台":
        with pytest.raises(InvalidInput, match="the first character is a province's"):
            check_plate(f"{other}A12345")


def test_kinds_have_chinese_and_english_labels() -> None:
    assert (PlateKind.NEW_ENERGY_SMALL.zh, PlateKind.POLICE.en) == (
        "小型新能源汽车号牌",
        "police vehicle plate",
    )
    assert all(kind.zh and kind.en for kind in PlateKind)


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("", "7 or 8 characters, got none"),
        ("XA12345", "the first character is a province's"),
        ("台A12345", "the first character is a province's"),
        ("吉I12345", "issuing office's letter, A-Z without I and O, got 'I'"),
        ("吉O12345", "issuing office's letter, A-Z without I and O, got 'O'"),
        ("吉112345", "issuing office's letter"),
        ("吉", "issuing office's letter, A-Z without I and O, got nothing"),
        ("吉A1234", "a plate has 7 characters (吉A12345), or 8 for a new-energy vehicle"),
        ("吉A123456789", "got 11"),
        ("吉AO1234", "no letter I or O (they read as 1 and 0): character 3 is O"),
        ("吉A1234I", "character 7 is I"),
        ("吉A12#45", "letters A-Z and digits: character 5 is '#'"),
        # new-energy: the letter in its place
        ("吉A123456", "an 8-character plate is a new-energy one"),
        ("吉AM12345", "an 8-character plate is a new-energy one"),
        ("吉A1234D5", "an 8-character plate is a new-energy one"),
        ("吉AD1234E", "small new-energy plate's last 4 characters are digits"),
        ("吉ADO2345", "no letter I or O (they read as 1 and 0): character 4 is O"),
        ("吉A1234AD", "an 8-character plate is a new-energy one"),
        # the suffixed forms
        ("吉A12345警", "a plate ending in 警 has 7 characters"),
        ("吉A123挂", "a plate ending in 挂 has 7 characters"),
        ("吉AO234学", "character 3 is O"),
        ("吉A1234港", "a plate ending in 港 begins with 粤Z, got '吉A'"),
        ("粤A1234澳", "a plate ending in 澳 begins with 粤Z"),
        ("粤Z12345", "粤Z plates are Hong Kong's and Macao's"),
        # embassy
        ("使01457", "an embassy plate is 使 and 6 digits"),
        ("使01457A", "an embassy plate is 使 and 6 digits"),
    ],
)
def test_each_rule_broken_is_named_with_the_plate(written: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_plate(written)
    message = str(caught.value)
    assert message.startswith(f"plate {written.upper()!r} is not a Chinese number plate: ")
    assert rule in message


class _Body(BaseModel):
    plate: PlateField


def test_the_annotated_type_of_the_bodies_uses_the_module() -> None:
    assert _Body(plate="吉a·1234警").plate == "吉A1234警"
    with pytest.raises(ValidationError, match="begins with 粤Z"):
        _Body(plate="吉A1234港")
    with pytest.raises(ValidationError, match="a plate is text, got int"):
        _Body.model_validate({"plate": 12345})
