"""Resident ID numbers, mobile numbers and names as the kiosk forms take them; masks; the key."""

from __future__ import annotations

import os
import stat
import threading
from datetime import date
from pathlib import Path

import pytest

from jiaoxun.errors import DataSourceError, InvalidInput
from jiaoxun.services import identity

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("11010519491231002X", "11010519491231002X"),  # the example of GB 11643-1999
        ("11010519491231002x", "11010519491231002X"),
        ("  11010519491231002X\t", "11010519491231002X"),
        ("440524188001010014", None),  # Wikipedia's example: born 1880, refused below
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width input
        ("360426199101010071", "360426199101010071"),  # stdnum's example
    ],
)
def test_published_id_numbers(value: str, normal: str | None) -> None:
    if normal is None:
        with pytest.raises(InvalidInput, match="before 1900"):
            identity.id_number(value, today=TODAY)
    else:
        assert identity.id_number(value, today=TODAY) == normal


def test_an_area_code_unknown_to_stdnum_is_accepted() -> None:
    # 220802 is in Baicheng's Taobei district; 999999 is in no list: the check decides
    body = "99999919900101123"
    check = "10X98765432"[
        sum(
            int(c) * w
            for c, w in zip(
                body, [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], strict=True
            )
        )
        % 11
    ]
    assert identity.id_number(body + check, today=TODAY) == body + check


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("110105194912310021", "check character does not match \\(GB 11643, ISO 7064 MOD 11-2\\)"),
        ("110105491231002", "15-digit"),
        ("11010519990230001X", "check character|real birth date"),
        ("1101051949123100", "18 characters"),
        ("11010A19491231002X", "18 characters"),
        ("110105 19491231002X", "18 characters"),
        ("\ud800" * 18, "18 characters"),
        ("", "18 characters"),
    ],
)
def test_refused_id_numbers(value: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule):
        identity.id_number(value, today=TODAY)


def _checked(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def test_impossible_and_future_birth_dates() -> None:
    with pytest.raises(InvalidInput, match="not a real birth date"):
        identity.id_number(_checked("22080219990230123"), today=TODAY)
    with pytest.raises(InvalidInput, match="after today"):
        identity.id_number(_checked("22080220261203123"), today=TODAY)
    assert identity.id_number(_checked("22080220261202123"), today=TODAY)


def test_an_error_never_shows_the_whole_number() -> None:
    number = "110105194912310021"
    with pytest.raises(InvalidInput) as caught:
        identity.id_number(number, today=TODAY)
    assert number not in str(caught.value)
    assert "1101**********0021" in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        identity.id_number("\ud800" * 18, today=TODAY)
    str(caught.value).encode("utf-8")  # printable: no lone surrogate in the message


@pytest.mark.parametrize(
    "value", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "0086 13812345678"]
)
def test_mobile_numbers(value: str) -> None:
    assert identity.mobile_phone(value) == "13812345678"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("010-62345678", "not a mobile number"),  # a Beijing fixed line
        ("+1 650 253 0000", "mainland China"),
        ("1381234567", "mainland China"),
        ("138l2345678", "digits"),
        ("", "digits"),
    ],
)
def test_refused_mobile_numbers(value: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule):
        identity.mobile_phone(value)


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("张三", "张三"),
        (" 欧阳娜娜 ", "欧阳娜娜"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("Mary-Jane  O'Brien", "Mary-Jane O'Brien"),
    ],
)
def test_names(value: str, normal: str) -> None:
    assert identity.person_name(value) == normal


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("张3", "DIGIT THREE"),
        ("a\x00b", "U\\+0000"),
        ("", "1 to 30 characters"),
        ("张" * 31, "1 to 30 characters"),
        ("-张三", "begins and ends with a letter"),
        ("张\ud800", "U\\+D800"),
    ],
)
def test_refused_names(value: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule):
        identity.person_name(value)


def test_masks() -> None:
    assert identity.mask_id("22080219900101123X") == "2208**********123X"
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_name("张三") == "张*"
    assert identity.mask_name("欧阳娜娜") == "欧**娜"
    assert identity.mask_name("阿依古丽·买买提") == "阿***·**提"
    assert identity.mask_name("John Smith") == "J*** S****"


def test_the_key_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "identity.key"
    key = identity.identity_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert identity.identity_key(path) == key
    assert identity.citizen_sha256(key, "11010519491231002x") == identity.citizen_sha256(
        key, "11010519491231002X"
    )
    assert identity.citizen_sha256(key, "11010519491231002X") != identity.citizen_sha256(
        bytes(32), "11010519491231002X"
    )


def test_servers_starting_at_once_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def run() -> None:
        start.wait()
        keys.append(identity.identity_key(path))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["identity.key"]  # no draft left


def test_a_key_file_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    path.write_bytes(b"short")
    with pytest.raises(DataSourceError, match=f"{path}.*32 bytes"):
        identity.identity_key(path)
