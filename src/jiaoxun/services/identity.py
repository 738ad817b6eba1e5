"""A citizen's identity as the kiosk forms take it: resident ID number, mobile phone, name.

Each is checked against its rule and normalised; an error names the rule and shows the value
masked, never in full. A citizen is kept as a keyed hash of his ID number (HMAC-SHA256 with a
key of the server's own), so that one person's bookings can be told apart from another's
without the number itself being stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from datetime import date
from pathlib import Path

import phonenumbers
from stdnum.cn import ric

from jiaoxun.errors import DataSourceError, InvalidInput
from jiaoxun.settings import Settings

KEY_BYTES = 32
NAME_MAX = 30
_ID_FORM = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_PHONE_FORM = re.compile(r"\+?[0-9][0-9 \-]{0,28}", re.ASCII)
_DOTS = {"\u00b7", "\u2027", "\u30fb", "\uff65", "\u2022"}  # · and its look-alikes
_NAME_MARKS = {"-", "\u2010", "'", "\u2019"}
_SPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def _shown(value: str, *, head: int, tail: int) -> str:
    """`value` with all but `head` and `tail` characters starred, safe to print (repr)."""
    if len(value) <= head + tail:
        return repr("*" * len(value))
    return repr(value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :])


def id_number(value: str, *, today: date) -> str:
    """A resident ID number (居民身份证号码, GB 11643-1999), upper-case X, surrounding spaces
    stripped.

    Raises
    ------
    InvalidInput
        For anything but 17 digits and a check character that matches (ISO 7064 MOD 11-2) with a
        real birth date from 1900 to `today`. The area code is not checked: numbers of areas
        since renamed or merged are still on valid cards.
    """
    number = unicodedata.normalize("NFKC", value).strip().upper()  # full-width digits too
    shown = _shown(number, head=4, tail=4)
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise InvalidInput(
            f"an ID number has 18 characters (GB 11643-1999): the 15-digit numbers of the first "
            f"cards are no longer valid, got {shown}"
        )
    if not _ID_FORM.fullmatch(number):
        raise InvalidInput(
            f"an ID number is 18 characters, 17 digits and a check digit or X (GB 11643-1999), "
            f"got {shown} ({len(number)} characters)"
        )
    # stdnum's validate() also refuses areas missing from its list: only its check is used
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidInput(
            f"ID number {shown}: check character does not match (GB 11643, ISO 7064 MOD 11-2)"
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            f"ID number {shown}: characters 7-14 are not a real birth date (YYYYMMDD)"
        ) from None
    if born > today:
        raise InvalidInput(f"ID number {shown}: its birth date is after today ({today})")
    if born.year < 1900:
        raise InvalidInput(f"ID number {shown}: its birth date is before 1900")
    return number


def mobile_phone(value: str) -> str:
    """A mainland Chinese mobile number as its 11 digits; +86, spaces and dashes are accepted.

    Raises
    ------
    InvalidInput
        For a number that is not a mainland mobile one (a fixed line, another country's).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    shown = _shown(text, head=3, tail=4)
    if not _PHONE_FORM.fullmatch(text):
        raise InvalidInput(
            f"a mobile number is digits, with +86, spaces or dashes at most, got {shown}"
        )
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{shown} is not a phone number") from None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number_for_region(parsed, "CN"):
        raise InvalidInput(f"a mainland China (+86) mobile number is wanted, got {shown}")
    if phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE:
        raise InvalidInput(f"{shown} is not a mobile number: a text message must reach it")
    return str(parsed.national_number)


def _name_char(char: str) -> str:
    """' ', '·', '-' or "'" for a separator, 'L' for a letter or its mark, '' for neither."""
    if char == " ":
        return " "
    if char in _DOTS:
        return "\u00b7"
    if char in _NAME_MARKS:
        return "-" if char in "-\u2010" else "'"
    return "L" if unicodedata.category(char)[0] in "LM" else ""


def person_name(value: str) -> str:
    """A name of 1 to 30 characters: letters of any script, spaces, middle dots (·, for names
    such as 阿依古丽·买买提), hyphens and apostrophes, beginning and ending with a letter.
    Look-alike dots become ·, runs of spaces one space.

    Raises
    ------
    InvalidInput
        For digits, controls, other signs, or a wrong length (the value itself is not shown).
    """
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not 1 <= len(text) <= NAME_MAX:
        raise InvalidInput(f"a name has 1 to {NAME_MAX} characters, got {len(text)}")
    out = []
    for i, char in enumerate(text):
        kind = _name_char(char)
        if not kind:
            code = f"U+{ord(char):04X}"
            raise InvalidInput(
                f"a name has letters, spaces, middle dots (·), hyphens and apostrophes only: "
                f"character {i + 1} is {code} ({unicodedata.name(char, 'unnamed')})"
            )
        out.append(char if kind in ("L", " ") else kind)
    if _name_char(text[0]) != "L" or _name_char(text[-1]) != "L":
        raise InvalidInput("a name begins and ends with a letter")
    return "".join(out)


def mask_id(number: str) -> str:
    """The first 4 and last 4 characters of an ID number: "2208**********123X"."""
    return _shown(number, head=4, tail=4)[1:-1]


def mask_phone(number: str) -> str:
    """The first 3 and last 4 digits of a mobile number: "138****5678"."""
    return _shown(number, head=3, tail=4)[1:-1]


def _spaced(name: str) -> bool:
    """Whether a name is written in words (Latin, Cyrillic...) rather than CJK characters."""
    return not any(unicodedata.name(c, "").startswith(_SPACED_SCRIPTS) for c in name)


def mask_name(name: str) -> str:
    """A name masked: a Chinese one keeps its first and last character ("欧阳娜娜" → "欧**娜",
    "张三" → "张*"), a name in words the first letter of each ("John Smith" → "J*** S****")."""
    if _spaced(name):
        return re.sub(r"(?<=[^\W\d_])[^\W\d_]", "*", name)
    letters = [i for i, c in enumerate(name) if _name_char(c) == "L"]
    keep = {letters[0], letters[-1]} if len(letters) > 2 else set(letters[:1])
    if len(letters) == 1:
        keep = set()
    return "".join("*" if i in letters and i not in keep else c for i, c in enumerate(name))


def identity_key(path: Path) -> bytes:
    """The key of the citizens' keyed hashes: 32 random bytes kept in `path`, made on first use
    (mode 0600). The new key is written whole to a file of its own, then linked to `path`: a
    link never replaces a file, so two servers starting at once both end with the winner's key.

    Raises
    ------
    DataSourceError
        For a key file that is not 32 bytes long.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another's came first: it is the key
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise DataSourceError(
            f"the identity key file {path} must hold {KEY_BYTES} bytes, it holds {len(key)}: "
            "restore it from a backup (a new key would not match the citizens' stored hashes)"
        )
    return key


def identity_key_of(settings: Settings) -> bytes:
    """The identity key of `settings.identity_key_file`, by default `<data_dir>/identity.key`."""
    return identity_key(settings.identity_key_file or settings.data_dir / "identity.key")


def citizen_sha256(key: bytes, id_number: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands for a citizen's normalised ID number."""
    normal = id_number.strip().upper()
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()
