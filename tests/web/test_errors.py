"""What an error reply may echo of a caller's value: JSON-safe, short, never a secret."""

from __future__ import annotations

import json

from jiaoxun.web.errors import MAX_ECHO_CHARS, echo, safe_text


def test_what_json_cannot_carry_is_written_out() -> None:
    assert echo(float("nan")) == "nan"
    assert echo([float("inf"), -float("inf")]) == ["inf", "-inf"]
    assert echo("a\ud800b") == "a\\ud800b"
    assert echo(2**60) == str(2**60)  # beyond what a double holds exactly
    json.dumps(echo({"x": [float("nan"), "\udfff"]}), allow_nan=False).encode()


def test_an_echo_is_short() -> None:
    assert len(echo("x" * 1_000_000)) < MAX_ECHO_CHARS + 30
    assert len(echo(list(range(10_000)))) == 10
    assert echo([[[["deep"]]]]) == [["<list>"]]
    assert safe_text("y" * 5000).endswith("… (5,000 characters)")


def test_a_secret_is_never_echoed() -> None:
    sent = {"username": "a", "password": "hunter2", "key": "s3cret", "access_token": "t"}
    assert echo(sent) == {"username": "a", "password": "***", "key": "***", "access_token": "***"}
