"""The password rule of OWASP ASVS 4.0 2.1 and the shipped list of common passwords."""

from __future__ import annotations

import pytest

from jiaoxun.errors import InvalidInput
from jiaoxun.users.passwords import (
    HASHER,
    check_password,
    common_passwords,
    hash_password,
    new_password,
    verify_password,
)


def test_the_shipped_list_is_seclists_10k() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    # its first, its last, and the longest ones a 12-character minimum leaves to it
    assert {"password", "123456", "eyphed", "masterbating", "films+pic+galeries"} <= common


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("eleven char", "at least 12 characters, got 11"),
        ("é" * 6 + "ü" * 5, "at least 12 characters, got 11"),  # characters, not bytes
        ("a" * 64 + "b" * 65, "at most 128 characters, got 129"),
        (" " * 12, "one character repeated or only white space"),
        ("\t \n" * 4, "one character repeated or only white space"),
        ("AaAaAaAaAaAa", "one character repeated or only white space"),
        ("my wang-lei password", "must not contain the user name"),
        ("WANG-LEI-1234", "must not contain the user name"),
        ("MASTERBATING", "10,000 most common passwords"),
        ("password123456", "10,000 most common passwords"),
        ("!!iloveyou2024!!", "10,000 most common passwords"),
    ],
)
def test_a_broken_rule_is_named_without_the_password(password: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule) as refused:
        check_password(password, username="wang-lei")
    assert password not in str(refused.value)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "交巡合一，一点报警多点响应",
        "x" * 127 + "y",
        "iloveyou but not only",
    ],
)
def test_long_passwords_of_any_characters_pass(password: str) -> None:
    check_password(password, username="wang-lei")


def test_a_new_password_is_random_and_16_characters_long() -> None:
    made = {new_password() for _ in range(100)}
    assert len(made) == 100
    assert {len(p) for p in made} == {16}


def test_hashes_are_argon2id_with_the_rfc_9106_low_memory_parameters() -> None:
    assert (HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism) == (3, 65536, 4)
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "Correct horse battery")
    assert not verify_password(None, "anything")  # an unknown user: the same work, then no
    assert not verify_password("not a hash", "anything")
