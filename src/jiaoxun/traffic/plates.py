"""Chinese number plates (机动车号牌, GA 36-2018): each form checked, the broken rule named.

A plate is read as an officer writes it (spaces, the middle dot of "吉A·12345", lower-case
letters, full-width characters) and checked against the form its characters announce: the
embassy plate by its leading 使, the police, trailer, learner, consulate and Hong Kong/Macao
plates by their last character, the new-energy plates by their 8 characters, every other plate
as an ordinary one of 7. Letters I and O are never used in a serial or an issuing-office code:
they read as 1 and 0.

Sources: GA 36-2018 《中华人民共和国机动车号牌》 (ordinary, police, trailer, learner, embassy,
consulate, 粤Z Hong Kong/Macao forms; new-energy plates of 6 serial characters, D pure electric
and F other, first for small vehicles, last for large) and its amendment of the small
new-energy serial (first letter D, A, B, C, E pure electric; F, G, H, J, K other).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from jiaoxun.errors import InvalidInput

#: the 31 mainland provinces, autonomous regions and municipalities, by their plate character
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
#: the first serial character of a small new-energy plate: pure electric, then the others
SMALL_NEV_ELECTRIC = "DABCE"
SMALL_NEV_OTHER = "FGHJK"
LARGE_NEV = "DF"
_SEPARATORS = re.compile(r"[\s·\u2027\u30fb\uff65\u2022.\-]")


class PlateKind(enum.StrEnum):
    ORDINARY = "ordinary"
    NEW_ENERGY_SMALL = "new_energy_small"
    NEW_ENERGY_LARGE = "new_energy_large"
    POLICE = "police"
    TRAILER = "trailer"
    LEARNER = "learner"
    EMBASSY = "embassy"
    CONSULATE = "consulate"
    HONG_KONG = "hong_kong"
    MACAO = "macao"

    @property
    def zh(self) -> str:
        return _LABELS[self][0]

    @property
    def en(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    PlateKind.ORDINARY: ("普通号牌", "ordinary plate"),
    PlateKind.NEW_ENERGY_SMALL: ("小型新能源汽车号牌", "small new-energy vehicle plate"),
    PlateKind.NEW_ENERGY_LARGE: ("大型新能源汽车号牌", "large new-energy vehicle plate"),
    PlateKind.POLICE: ("警用汽车号牌", "police vehicle plate"),
    PlateKind.TRAILER: ("挂车号牌", "trailer plate"),
    PlateKind.LEARNER: ("教练汽车号牌", "driving-school vehicle plate"),
    PlateKind.EMBASSY: ("使馆汽车号牌", "embassy vehicle plate"),
    PlateKind.CONSULATE: ("领馆汽车号牌", "consulate vehicle plate"),
    PlateKind.HONG_KONG: ("香港入出境车号牌", "Hong Kong cross-border vehicle plate"),
    PlateKind.MACAO: ("澳门入出境车号牌", "Macao cross-border vehicle plate"),
}
#: the last character of a 7-character plate that is not ordinary
_SUFFIXES = {
    "警": PlateKind.POLICE,
    "挂": PlateKind.TRAILER,
    "学": PlateKind.LEARNER,
    "领": PlateKind.CONSULATE,
    "港": PlateKind.HONG_KONG,
    "澳": PlateKind.MACAO,
}


class InvalidPlate(InvalidInput, ValueError):
    """A plate that breaks a rule of GA 36; the message names the rule and the plate.

    A ValueError too, so that pydantic reports it as a field's error."""

    def __init__(self, plate: str, rule: str) -> None:
        super().__init__(f"plate {plate!r} is not a Chinese number plate: {rule}")
        self.plate = plate
        self.rule = rule


@dataclass(frozen=True)
class Plate:
    plate: str
    kind: PlateKind


def written(text: str) -> str:
    """A plate as stored: full-width characters made plain, separators dropped, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _serial(plate: str, serial: str, *, start: int, what: str) -> None:
    """Every character of `serial` (from position `start` of the plate) a letter or a digit,
    never I or O."""
    for i, char in enumerate(serial, start=start + 1):
        if char in "IO":
            raise InvalidPlate(
                plate,
                f"{what} uses no letter I or O (they read as 1 and 0): character {i} is {char}",
            )
        if char not in LETTERS and char not in DIGITS:
            raise InvalidPlate(
                plate, f"{what} is letters A-Z and digits: character {i} is {char!r}"
            )


def _office(plate: str) -> None:
    """A province's character, then the issuing office's letter (A-Z without I and O)."""
    if plate[0] not in PROVINCES:
        raise InvalidPlate(
            plate,
            f"the first character is a province's (one of the 31: {PROVINCES}), got {plate[0]!r}",
        )
    if len(plate) < 2 or plate[1] not in LETTERS:
        got = repr(plate[1]) if len(plate) > 1 else "nothing"
        raise InvalidPlate(
            plate,
            f"the second character is the issuing office's letter, A-Z without I and O, got {got}",
        )


def _embassy(plate: str) -> Plate:
    if not (len(plate) == 7 and all(c in DIGITS for c in plate[1:])):
        raise InvalidPlate(
            plate, "an embassy plate is 使 and 6 digits (3 of the embassy, 3 of the car): 使014578"
        )
    return Plate(plate, PlateKind.EMBASSY)


def _suffixed(plate: str, kind: PlateKind) -> Plate:
    suffix = plate[-1]
    if len(plate) != 7:
        raise InvalidPlate(
            plate,
            f"a plate ending in {suffix} has 7 characters (province, office letter, 4 letters or "
            f"digits, {suffix}), got {len(plate)}",
        )
    hk_macao = kind in (PlateKind.HONG_KONG, PlateKind.MACAO)
    if hk_macao and plate[:2] != "粤Z":
        raise InvalidPlate(plate, f"a plate ending in {suffix} begins with 粤Z, got {plate[:2]!r}")
    _serial(plate, plate[2:6], start=2, what="the serial")
    return Plate(plate, kind)


def _ordinary(plate: str) -> Plate:
    if plate[:2] == "粤Z":
        raise InvalidPlate(plate, "粤Z plates are Hong Kong's and Macao's: they end in 港 or 澳")
    _serial(plate, plate[2:], start=2, what="the serial")
    return Plate(plate, PlateKind.ORDINARY)


def _new_energy(plate: str) -> Plate:
    serial = plate[2:]
    small = SMALL_NEV_ELECTRIC + SMALL_NEV_OTHER
    if serial[-1] in LARGE_NEV and all(c in DIGITS for c in serial[:5]):
        return Plate(plate, PlateKind.NEW_ENERGY_LARGE)
    if serial[0] in small:
        _serial(plate, serial[1], start=3, what="the serial")
        if not all(c in DIGITS for c in serial[2:]):
            raise InvalidPlate(
                plate,
                "a small new-energy plate's last 4 characters are digits "
                f"({plate[:3]}{serial[1]}1234), got {serial[2:]!r}",
            )
        return Plate(plate, PlateKind.NEW_ENERGY_SMALL)
    raise InvalidPlate(
        plate,
        "an 8-character plate is a new-energy one: small, the serial begins with one of "
        f"{small} (D pure electric) then a letter or digit and 4 digits (吉AD12345); large, 5 "
        f"digits then D or F (吉A12345D); got serial {serial!r}",
    )


def check_plate(text: str) -> Plate:
    """The plate of `text` as written by an officer, with its kind.

    Raises
    ------
    InvalidPlate
        (an InvalidInput, 422) naming the rule of GA 36 the plate breaks and the plate.
    """
    plate = written(text)
    if not plate:
        raise InvalidPlate(plate, "a plate has 7 or 8 characters, got none")
    if plate[0] == "使":
        return _embassy(plate)
    _office(plate)
    kind = _SUFFIXES.get(plate[-1])
    if kind is not None:
        return _suffixed(plate, kind)
    if len(plate) == 7:
        return _ordinary(plate)
    if len(plate) == 8:
        return _new_energy(plate)
    raise InvalidPlate(
        plate,
        f"a plate has 7 characters (吉A12345), or 8 for a new-energy vehicle (吉AD12345), "
        f"got {len(plate)}",
    )
