"""The incident-category taxonomy: consistency of the seed data, lookups, the picker's search."""

from __future__ import annotations

import re

import pytest

from jiaoxun.errors import InvalidInput, NotFound
from jiaoxun.incidents.categories import (
    CATEGORIES,
    TOP_LEVELS,
    Category,
    category,
    children,
    search,
    validate_code,
)

CODES = [c.code for c in CATEGORIES]


def test_size_and_unique_codes_and_names() -> None:
    assert 50 <= len(CATEGORIES) <= 80
    assert len(set(CODES)) == len(CODES)
    assert len({c.name_zh for c in CATEGORIES}) == len(CATEGORIES)
    assert len({c.name_en.casefold() for c in CATEGORIES}) == len(CATEGORIES)


def test_levels_match_code_shape() -> None:
    shapes = {1: r"[0-9]{2}0000", 2: r"[0-9]{4}00", 3: r"[0-9]{4}(?!00)[0-9]{2}"}
    for c in CATEGORIES:
        assert re.fullmatch(shapes[c.level], c.code), c.code
        assert c.top == c.code[:2] + "0000"


def test_parents_exist_and_come_first() -> None:
    seen: set[str] = set()
    for c in CATEGORIES:
        if c.level == 1:
            assert c.parent_code is None
        else:
            assert c.parent_code in seen, c.code
            assert category(c.parent_code).level == c.level - 1
        seen.add(c.code)


def test_top_levels_are_those_of_the_provincial_centers() -> None:
    assert [(c.code, c.name_zh) for c in TOP_LEVELS] == [
        ("010000", "刑事"),
        ("020000", "治安"),
        ("030000", "交通"),
        ("040000", "火灾/抢险救援"),
        ("050000", "群众求助"),
        ("060000", "社会联动"),
        ("070000", "群体事件"),
        ("080000", "灾害事故"),
        ("090000", "举报"),
        ("990000", "其他"),
    ]
    for top in TOP_LEVELS:
        assert children(top.code), top.code
    other = category("999900")
    assert (other.level, other.parent_code, other.name_zh) == (2, "990000", "其他警情")


@pytest.mark.parametrize(
    ("code", "priority"),
    [
        ("010100", 1),  # homicide
        ("010200", 1),  # robbery
        ("010300", 1),  # snatching
        ("010401", 1),  # assault with a weapon
        ("040100", 1),  # fire
        ("050300", 1),  # drowning
        ("050500", 1),  # suicide attempt
        ("030101", 1),  # accident with injuries
        ("070000", 1),  # group incidents
        ("010500", 2),  # theft
        ("020100", 2),  # fight
        ("020200", 3),  # dispute
        ("030200", 3),  # traffic violation
        ("030103", 3),  # property damage only
        ("050900", 4),  # consultation
        ("090100", 4),  # crime tip-off
    ],
)
def test_priorities(code: str, priority: int) -> None:
    assert category(code).priority == priority


def test_every_priority_is_one_to_four() -> None:
    assert {c.priority for c in CATEGORIES} == {1, 2, 3, 4}


def test_category_lookup() -> None:
    robbery = category("010200")
    assert (robbery.name_zh, robbery.name_en, robbery.level) == ("抢劫", "Robbery", 2)
    assert (robbery.parent_code, robbery.top) == ("010000", "010000")


def test_category_derives_level_parent_top() -> None:
    c = Category("010401", "持械伤害", "Assault with a weapon", 1)
    assert (c.level, c.parent_code, c.top) == (3, "010400", "010000")
    assert c == category("010401")


def test_category_refuses_bad_priority() -> None:
    with pytest.raises(InvalidInput, match=r"^category 010100: priority\(=5\) must be 1 … 4$"):
        Category("010100", "杀人", "Homicide", 5)


def test_unknown_code() -> None:
    with pytest.raises(NotFound) as caught:
        category("123456")
    assert str(caught.value) == "no incident category with code '123456'"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12ab", "category code '12ab' must be 6 digits"),
        ("01000", "category code '01000' must be 6 digits"),
        ("0100000", "category code '0100000' must be 6 digits"),
        ("０１００００", "category code '０１００００' must be 6 digits"),  # full-width digits
        ("000100", "category code '000100' must not start with 00 (no top level)"),
        ("010001", "category code '010001' has a level-3 part but no level-2 part"),
    ],
)
def test_malformed_codes(code: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_code(code)
    assert str(caught.value) == message
    with pytest.raises(InvalidInput):
        category(code)


def test_validate_code_gives_it_back() -> None:
    assert validate_code("030101") == "030101"


def test_children() -> None:
    assert [c.code for c in children("010500")] == ["010501", "010502", "010503", "010504"]
    assert [c.code for c in children("030000")] == [
        "030100",
        "030200",
        "030300",
        "030400",
        "030500",
    ]
    assert children("010100") == ()
    with pytest.raises(NotFound):
        children("019900")


def test_search_chinese() -> None:
    assert [c.code for c in search("盗窃")] == ["010500", "010501", "010502", "010503"]


@pytest.mark.parametrize("text", ["theft", "THEFT", " Theft "])
def test_search_english_any_case(text: str) -> None:
    assert [c.code for c in search(text)] == ["010500", "010502", "010503"]


def test_search_by_code_prefix() -> None:
    assert [c.code for c in search("0301")] == ["030100", "030101", "030102", "030103"]


def test_search_blank_or_unknown() -> None:
    assert search("") == ()
    assert search("   ") == ()
    assert search("外星人") == ()
